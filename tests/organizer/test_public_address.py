"""The notice on organizer pages when join links and QRs point at this machine itself."""
import socket

import pytest

from kithmeet import urls
from kithmeet.urls import is_loopback_host, lan_addresses, public_address_problem

NOTICE = 'data-state="loopback-warning"'


@pytest.fixture
def app_config():
    # The hosts these tests send requests as: the test client's own, and a laptop on the venue's Wi-Fi.
    return {"PUBLIC_URL": "", "TRUSTED_HOSTS": ["localhost", "127.0.0.1", "192.168.1.20"]}


@pytest.fixture(autouse=True)
def fresh_address_cache(monkeypatch):
    monkeypatch.setattr(urls, "_lan_cache", {"at": float("-inf"), "addresses": []})


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST:5000", "app.localhost", "127.0.0.1", "127.0.0.1:5000",
                                  "127.1.2.3", "[::1]", "[::1]:5000", "::1", "0.0.0.0", "0.0.0.0:5000", "[::]"])
def test_loopback_hosts_are_recognised(host):
    assert is_loopback_host(host)


@pytest.mark.parametrize("host", ["192.168.1.20", "192.168.1.20:5000", "10.0.0.7", "[2001:db8::7]:5000",
                                  "meet.example.org", "localhost.example.org", "128.0.0.1"])
def test_reachable_hosts_are_not(host):
    assert not is_loopback_host(host)


@pytest.mark.parametrize("public", ["http://localhost:5000", "http://127.1.2.3:5000", "http://[::1]:5000",
                                    "http://0.0.0.0:5000"])
def test_a_loopback_public_url_is_a_problem(app, public):
    app.config["PUBLIC_URL"] = public
    assert public_address_problem()["base"] == public


@pytest.mark.parametrize("public", ["http://192.168.1.20:5000", "https://meet.example.org"])
def test_a_reachable_public_url_is_not_even_from_localhost(app, public):
    app.config["PUBLIC_URL"] = public
    with app.test_request_context("/", base_url="http://localhost"):
        assert public_address_problem() is None


def test_without_public_url_the_request_host_decides(app):
    with app.test_request_context("/", base_url="http://localhost"):
        assert public_address_problem()["base"] == "http://localhost"
    with app.test_request_context("/", base_url="http://192.168.1.20:5000"):
        assert public_address_problem() is None
    assert public_address_problem() is None  # no request, no PUBLIC_URL: no link is shown either


def fake_socket(monkeypatch, resolved, probed):
    """getaddrinfo answers `resolved` (or raises it); the UDP probe's socket reports `probed`."""
    def getaddrinfo(host, port, *args, **kwargs):
        if isinstance(resolved, Exception):
            raise resolved
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_DGRAM, 17, "", (a, 0))
                for a in resolved]

    class Probe:
        def __init__(self, family, kind):
            self.family = family

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def connect(self, address):
            if isinstance(probed, Exception):
                raise probed
            self.address = probed.get(self.family)
            if self.address is None:
                raise OSError("Network is unreachable")

        def getsockname(self):
            return (self.address, 40000)

    monkeypatch.setattr(socket, "gethostname", lambda: "laptop")
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "socket", Probe)


def test_addresses_leave_out_loopback_and_link_local_and_repeats(monkeypatch):
    fake_socket(monkeypatch, ["127.0.1.1", "192.168.1.20", "::1", "fe80::1%wlan0", "2001:db8::7", "169.254.3.4"],
                {socket.AF_INET: "192.168.1.20", socket.AF_INET6: "2001:db8::7"})
    assert lan_addresses() == ["192.168.1.20", "2001:db8::7"]


def test_addresses_come_from_the_probe_when_the_name_resolves_to_loopback(monkeypatch):
    fake_socket(monkeypatch, ["127.0.1.1"], {socket.AF_INET: "10.0.0.7"})
    assert lan_addresses() == ["10.0.0.7"]


def test_only_loopback_gives_no_addresses(monkeypatch):
    fake_socket(monkeypatch, ["127.0.0.1", "::1"], {socket.AF_INET: "127.0.0.1"})
    assert lan_addresses() == []


def test_a_system_that_refuses_gives_no_addresses(monkeypatch):
    fake_socket(monkeypatch, socket.gaierror("Name or service not known"), OSError("Network is unreachable"))
    assert lan_addresses() == []


def test_addresses_are_cached_briefly(monkeypatch):
    fake_socket(monkeypatch, ["192.168.1.20"], {})
    assert lan_addresses() == ["192.168.1.20"]
    fake_socket(monkeypatch, ["10.0.0.7"], {})
    assert lan_addresses() == ["192.168.1.20"]
    urls._lan_cache["at"] -= urls.LAN_CACHE_SECONDS
    assert lan_addresses() == ["10.0.0.7"]


def organizer_pages(make_event, organizer):
    event = make_event(organizer)
    return ["/organizer/", f"/organizer/events/{event.public_id}", f"/organizer/events/{event.public_id}/poster"]


def test_each_page_with_a_join_link_says_how_to_reach_the_laptop(app, monkeypatch, make_event, organizer,
                                                                    signed_in_organizer):
    fake_socket(monkeypatch, ["192.168.1.20", "2001:db8::7"], {})
    monkeypatch.setenv("PORT", "5000")
    client = signed_in_organizer()
    for page in organizer_pages(make_event, organizer):
        html = client.get(page).get_data(as_text=True)
        assert html.count(NOTICE) == 1, page
        assert 'value="HOST=0.0.0.0 KITHMEET_PUBLIC_URL=http://192.168.1.20:5000 make run"' in html, page
        assert 'value="HOST=0.0.0.0 KITHMEET_PUBLIC_URL=http://[2001:db8::7]:5000 make run"' in html, page


def test_without_addresses_the_notice_still_says_what_to_do(app, monkeypatch, make_event, organizer,
                                                           signed_in_organizer):
    def broken():
        raise RuntimeError("no interfaces")
    monkeypatch.setattr(urls, "lan_addresses", broken)
    client = signed_in_organizer()
    for page in organizer_pages(make_event, organizer):
        response = client.get(page)
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and NOTICE in html, page
        assert "KITHMEET_PUBLIC_URL=http://&lt;laptop-ip&gt;" in html and "address on the Wi-Fi" in html, page


def test_no_notice_on_a_reachable_address(app, monkeypatch, make_event, organizer, signed_in_organizer):
    fake_socket(monkeypatch, ["192.168.1.20"], {})
    pages = organizer_pages(make_event, organizer)
    client = signed_in_organizer()
    for cookie in list(client._cookies.values()):  # the same session, on the laptop's address
        client.set_cookie(cookie.key, cookie.value, domain="192.168.1.20")
    for page in pages:  # as a phone on the Wi-Fi opens it
        response = client.get(page, base_url="http://192.168.1.20:5000")
        assert response.status_code == 200 and NOTICE not in response.get_data(as_text=True), page
    app.config["PUBLIC_URL"] = "https://meet.example.org"
    for page in pages:
        assert NOTICE not in client.get(page).get_data(as_text=True), page


def test_attendees_never_see_it(app, make_event, make_person, signed_in):
    event = make_event()
    client = signed_in(make_person(event=event))
    for page in ("/", "/badge", f"/J/{event.join_code}"):
        response = client.get(page, follow_redirects=True)
        assert response.status_code == 200 and NOTICE not in response.get_data(as_text=True), page
