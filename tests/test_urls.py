"""Absolute links (badge QRs, join links, sign-in links) built with and without a request."""
import re

import pytest

from kithmeet.badges import qr
from kithmeet.people import services as people
from kithmeet.urls import PublicURLRequired, badge_token_from, external_url, public_base

PUBLIC = "https://meet.example.org"


@pytest.fixture
def app_config():
    # The hosts these tests send requests as (a laptop on the venue network, a proxy's name).
    return {"PUBLIC_URL": PUBLIC, "TRUSTED_HOSTS": ["localhost", "192.168.1.20", "internal-host", "meet.example.org"]}


def test_links_build_from_public_url_without_a_request(app, make_event, make_person):
    # The `app` fixture pushes an app context only: no request, as in a CLI command or mail worker.
    event = make_event()
    person = make_person(event=event)
    assert qr.badge_url(person.badge_token) == f"HTTPS://MEET.EXAMPLE.ORG/B/{person.badge_token}"
    assert qr.join_url(event.join_code) == f"HTTPS://MEET.EXAMPLE.ORG/J/{event.join_code}"
    assert external_url("people.join", code=event.join_code) == f"{PUBLIC}/J/{event.join_code}"
    secret = people.issue_signin_secret(person)
    assert external_url("people.signin", secret=secret) == f"{PUBLIC}/signin/{secret}"
    # PUBLIC_URL wins over a caller's fallback: the fallback is only for when nothing is set.
    assert external_url("organizer.login", "http://127.0.0.1:5000") == f"{PUBLIC}/organizer/login"


def test_without_public_url_or_request_building_says_what_to_set(app, make_event, make_person):
    event = make_event()
    person = make_person(event=event)
    app.config["PUBLIC_URL"] = ""
    for build in (lambda: qr.badge_url(person.badge_token),
                  lambda: external_url("people.join", code=event.join_code),
                  lambda: external_url("people.signin", secret="x")):
        with pytest.raises(PublicURLRequired, match="PUBLIC_URL"):
            build()
    assert issubclass(PublicURLRequired, RuntimeError)
    # A caller that knows where it is served (the CLI) names the base itself.
    assert external_url("people.signin", "http://127.0.0.1:5000/", secret="x") == "http://127.0.0.1:5000/signin/x"


def test_inside_a_request_without_public_url_the_request_host_is_used(app):
    app.config["PUBLIC_URL"] = ""
    with app.test_request_context("/", base_url="http://192.168.1.20:5000"):
        assert public_base() == "http://192.168.1.20:5000"
        assert external_url("people.join", code="ABCD") == "http://192.168.1.20:5000/J/ABCD"
        assert qr.badge_url("TOKEN") == "HTTP://192.168.1.20:5000/B/TOKEN"


def test_public_url_wins_over_the_request_host(app):
    with app.test_request_context("/", base_url="http://internal-host:8000"):
        assert external_url("people.join", code="ABCD") == f"{PUBLIC}/J/ABCD"
        assert qr.badge_url("TOKEN") == "HTTPS://MEET.EXAMPLE.ORG/B/TOKEN"


def test_pages_show_links_on_the_request_host_without_public_url(app, signed_in, make_person):
    app.config["PUBLIC_URL"] = ""
    client = signed_in(make_person())
    # The test client's requests come in on http://localhost (its cookies stay on that host).
    response = client.submit("/badge/sign-in-link", follow_redirects=True)
    assert re.search(r"http://localhost/signin/[\w-]+", response.get_data(as_text=True))


@pytest.fixture
def served_locally(monkeypatch):
    """`make run`'s default address, whatever HOST and PORT the test run has."""
    monkeypatch.delenv("HOST", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    return "http://127.0.0.1:5000"


def sign_in_links(output, base):
    return re.findall(rf"^\s+(.+?)\s+({re.escape(base)}/signin/\S+)$", output, re.MULTILINE)


def test_demo_prints_links_on_public_url(runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert f"Join link: {PUBLIC}/J/" in result.output
    assert len(sign_in_links(result.output, PUBLIC)) >= 6
    assert "127.0.0.1" not in result.output


@pytest.mark.parametrize("app_config", [{}])
def test_demo_builds_links_without_faking_a_request(app, runner, monkeypatch, served_locally):
    def no_request(*args, **kwargs):
        raise AssertionError("a CLI command must not fake a request to build links")
    with monkeypatch.context() as patched:  # undone before the test client's real requests below
        patched.setattr(app, "test_request_context", no_request)
        patched.setattr(app, "request_context", no_request)
        result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    local = served_locally
    assert f"Join link: {local}/J/" in result.output
    links = sign_in_links(result.output, local)
    assert len(links) >= 6
    name, link = links[0]
    client = app.test_client()
    assert client.submit(link.removeprefix(local)).location == "/badge"
    assert name in client.get("/badge").get_data(as_text=True)


@pytest.mark.parametrize("app_config", [{}])
def test_setup_and_create_organizer_print_local_links(runner, served_locally):
    assert "http://127.0.0.1:5000/organizer/setup " in runner.invoke(args=["setup-code"]).output
    result = runner.invoke(args=["create-organizer", "--email", "a@example.org", "--password", "long enough pw"])
    assert result.output.strip().endswith("Sign in at http://127.0.0.1:5000/organizer/login")


# Reading a badge back: urls.badge_token_from, for the typed-code form and the API.

TOKEN = "K7QM4XTR9PA"


@pytest.mark.parametrize("text", [
    TOKEN, "k7qm 4xtr-9pa", " K7QM.4XTR_9PA ",  # the code as typed
    f"HTTPS://MEET.EXAMPLE.ORG/B/{TOKEN}", f"https://meet.example.org/b/{TOKEN.lower()}",  # PUBLIC_URL's host
    f"http://meet.example.org/B/{TOKEN}/", f"https://meet.example.org:443/B/{TOKEN}",
    f"http://192.168.1.20:5000/B/{TOKEN}",  # the host the request came in on
])
def test_a_code_or_a_badge_link_of_this_site_gives_the_token(app, text):
    with app.test_request_context(base_url="http://192.168.1.20:5000"):
        assert badge_token_from(text) == TOKEN


@pytest.mark.parametrize("text", [
    f"https://evil.example/B/{TOKEN}", f"javascript:alert(1)//B/{TOKEN}", f"ftp://meet.example.org/B/{TOKEN}",
    f"//meet.example.org/B/{TOKEN}", f"meet.example.org/B/{TOKEN}", f"/B/{TOKEN}",
    f"https://meet.example.org.evil.example/B/{TOKEN}", f"https://meet.example.org@evil.example/B/{TOKEN}",
    f"https://user@meet.example.org/B/{TOKEN}", f"https://meet.example.org:8443/B/{TOKEN}",
    f"http://meet.example.org:443/B/{TOKEN}",  # a port that is not http's own, as a browser reads it
    f"http://192.168.1.20/B/{TOKEN}",  # the request's host, another port
    f"https://meet.example.org/x/B/{TOKEN}", f"https://meet.example.org/J/{TOKEN}",
    f"https://meet.example.org/B/{TOKEN}?next=/", f"https://meet.example.org/B/{TOKEN}#x",
    f"https://meet.example.org/B/{TOKEN}/claim", f"https://meet.example.org/B/K7QM\n4XTR9PA",
    f"https://meet.example.org:99999/B/{TOKEN}", f"https://[meet.example.org/B/{TOKEN}",
    "https://meet.example.org/B/HELLO", "hello", "AB/CD", "", None, TOKEN + "\u0663",
])
def test_anything_else_gives_none(app, text):
    with app.test_request_context(base_url="http://192.168.1.20:5000"):
        assert badge_token_from(text) is None


def test_without_a_request_only_public_urls_host_is_this_site(app):
    assert badge_token_from(f"HTTPS://MEET.EXAMPLE.ORG/B/{TOKEN}") == TOKEN
    assert badge_token_from(f"http://localhost/B/{TOKEN}") is None
    app.config["PUBLIC_URL"] = ""
    assert badge_token_from(f"HTTPS://MEET.EXAMPLE.ORG/B/{TOKEN}") is None
    assert badge_token_from(TOKEN.lower()) == TOKEN
