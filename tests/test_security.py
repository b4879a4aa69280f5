"""CSRF, headers, cookies, rate limits, and organizer authorization."""
import re
from datetime import datetime

import pytest
from flask import request
from sqlalchemy import func, select

from kithmeet import create_app
from kithmeet.connections.models import Connection
from kithmeet.errors import NotFound
from kithmeet.events import services as events
from kithmeet.extensions import db
from kithmeet.organizer import services as organizers
from kithmeet.people.models import Person
from kithmeet.security import TrustedProxies


def test_posts_without_csrf_token_are_refused_and_change_nothing(client, make_event, make_person, signed_in):
    event = make_event()
    assert client.post(f"/J/{event.join_code}", data={"name": "No token"}).status_code == 400
    ada, bo = make_person("Ada", event=event), make_person("Bo", event=event)
    bo_client = signed_in(bo)
    response = bo_client.post(f"/B/{ada.badge_token}", data={"talked_about": "forged"})
    assert response.status_code == 400 and "Please try again" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Connection.id))) == 0
    assert db.session.scalar(select(func.count(Person.id))) == 2


def test_security_headers(client):
    response = client.get("/organizer/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_forms_post_over_https_with_the_referer_a_browser_sends(tmp_path):
    """Over HTTPS the CSRF check wants a same-origin Referer. A browser sends one only if the
    referrer policy lets it; with `no-referrer` every form behind HTTPS was refused as csrf."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'h.sqlite3'}", "SECRET_KEY": "k",
                      "PUBLIC_URL": "https://meet.example.org", "RATELIMIT_ENABLED": False},
                     instance_path=str(tmp_path / "instance"))
    with app.app_context():
        db.create_all()
    client = app.test_client()
    base = "https://meet.example.org"
    page = client.get("/organizer/login", base_url=base)
    policy = page.headers["Referrer-Policy"]
    assert policy == "same-origin"
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    form = {"csrf_token": token, "email": "nobody@example.org", "password": "wrong password here"}
    # What a browser sends under that policy: the page's own address as Referer.
    answer = client.post("/organizer/login", data=form, base_url=base, headers={"Referer": f"{base}/organizer/login"})
    assert answer.status_code != 400 or 'data-code="csrf"' not in answer.get_data(as_text=True)
    assert 'data-code="csrf"' not in answer.get_data(as_text=True)
    # Without one (what no-referrer gave), the same post is refused: the check is real.
    refused = client.post("/organizer/login", data=form, base_url=base)
    assert 'data-code="csrf"' in refused.get_data(as_text=True)


def test_no_inline_scripts_or_styles_in_templates():
    import pathlib
    import re

    # Beside the tests folder, not the working directory: pytest may run from anywhere.
    templates = sorted((pathlib.Path(__file__).resolve().parent.parent / "templates").rglob("*.html"))
    assert len(templates) > 10, f"found only {len(templates)} templates: is the path right?"
    for template in templates:
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template
        assert " style=" not in text and "<style" not in text, template
        assert not re.search(r"\son[a-z]+=", text), template


def test_session_cookie_flags_behind_https(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'c.sqlite3'}", "SECRET_KEY": "k",
                      "PUBLIC_URL": "https://meet.example.org", "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False}, instance_path=str(tmp_path / "instance"))
    with app.app_context():
        db.create_all()
        organizer = organizers.create_organizer("org@example.org", "long enough pw")
        event = events.create_event(organizer, name="E", starts_at=datetime(2026, 11, 26, 19))
        events.set_status(organizer, event.public_id, "open")
        join_path = f"/J/{event.join_code}"
    response = app.test_client().post(join_path, data={"name": "Ada"}, base_url="https://meet.example.org")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Strict-Transport-Security" in response.headers
    with app.app_context():
        db.engine.dispose()


def test_session_cookie_is_httponly_and_lax_on_plain_http(client, make_event):
    event = make_event()
    response = client.submit(f"/J/{event.join_code}", data={"name": "Ada"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


@pytest.fixture
def app_config():
    return {"RATELIMIT_ENABLED": True, "RATELIMIT_SCAN": "3 per minute", "RATELIMIT_JOIN": "3 per minute",
            "RATELIMIT_SIGNIN": "4 per minute", "RATELIMIT_ORGANIZER_SIGNIN": "2 per minute"}


def test_connects_are_limited_per_attendee_not_per_venue_address(make_event, make_person, signed_in):
    event = make_event()
    target = make_person("Target", event=event)
    ada, bo = signed_in(make_person("Ada", event=event)), signed_in(make_person("Bo", event=event))
    token = ada.csrf_token(f"/B/{target.badge_token}")
    posts = [ada.post(f"/B/{target.badge_token}", data={"csrf_token": token}).status_code for _ in range(5)]
    assert posts[:3] == [302] * 3 and posts[3:] == [429, 429]
    # Bo shares Ada's address (the venue's Wi-Fi) but has his own allowance; page views are not counted.
    assert [bo.get(f"/B/{target.badge_token}").status_code for _ in range(6)] == [200] * 6
    assert bo.submit(f"/B/{target.badge_token}").status_code == 302
    limited = ada.post(f"/B/{target.badge_token}", data={})
    assert limited.status_code == 429 and 'data-code="429"' in limited.get_data(as_text=True)


def test_join_and_signin_are_limited_per_address(client, make_event):
    event = make_event()
    joins = [client.post(f"/J/{event.join_code}", data={"name": "x"}).status_code for _ in range(5)]
    assert joins[:3] == [400] * 3 and joins[3:] == [429, 429]  # forged posts count too
    links = [client.get("/signin/guess-" + str(i)).status_code for i in range(6)]
    assert links[:4] == [404] * 4 and links[4:] == [429, 429]


def test_attendee_sign_in_floods_do_not_lock_the_organizer_out(client, make_organizer):
    make_organizer("org@example.org", "the right password")
    for i in range(6):
        client.get(f"/signin/guess-{i}")
    login = client.submit("/organizer/login", data={"email": "org@example.org", "password": "the right password"})
    assert login.status_code == 302
    wrong = [client.post("/organizer/login", data={}).status_code for _ in range(2)]
    assert wrong[-1] == 429


def test_two_factor_codes_and_reset_links_share_the_organizer_sign_in_budget(client):
    codes = [client.post("/organizer/login/code", data={"code": "123456"}).status_code for _ in range(3)]
    resets = [client.post("/organizer/reset/guess", data={}).status_code for _ in range(2)]
    assert codes[:2] == [400] * 2 and codes[2:] + resets == [429] * 3  # forged posts count too


def test_reports_are_limited_per_attendee(app, make_event, make_person, signed_in):
    from kithmeet.connections import services as connections

    app.config["RATELIMIT_REPORT"] = "2 per minute"
    event = make_event()
    ada, bo = make_person("Ada", event=event), make_person("Bo", event=event)
    connection, _ = connections.connect(ada, bo.badge_token)
    client = signed_in(ada)
    token = client.csrf_token(f"/report/{connection.public_id}")
    sends = [client.post(f"/report/{connection.public_id}", data={"csrf_token": token, "reason": "spam",
                                                                  "details": "x"}).status_code for _ in range(3)]
    assert sends[:2] == [302] * 2 and sends[2] == 429


def test_profile_saves_are_limited_per_attendee(app, make_event, make_person, signed_in):
    """Saving a sign-in email tells whether another profile holds it: not a way to test a list."""
    app.config["RATELIMIT_PROFILE"] = "2 per minute"
    ada = make_person("Ada", event=make_event())
    client = signed_in(ada)
    token = client.csrf_token("/profile")
    sends = [client.post("/profile", data={"csrf_token": token, "name": "Ada",
                                           "email_identity": f"guess{n}@example.org"}).status_code for n in range(3)]
    assert sends[:2] == [302] * 2 and sends[2] == 429


def test_organizer_sees_and_changes_only_own_events(make_organizer, make_event):
    mine, theirs = make_organizer(), make_organizer()
    event = make_event(theirs, status="draft")
    with pytest.raises(NotFound):
        events.event_for_organizer(mine, event.public_id)
    with pytest.raises(NotFound):
        events.set_status(mine, event.public_id, "open")
    assert [e for e, _ in events.events_overview(mine)] == []
    assert event.status == "draft"


def test_pages_with_personal_data_are_never_stored(make_event, make_person, signed_in, make_organizer, client):
    event = make_event()
    ada, bo = make_person("Ada", event=event), make_person("Bo", event=event)
    ada_client = signed_in(ada)
    for path in ("/followup", "/badge", f"/B/{bo.badge_token}", f"/J/{event.join_code}", "/"):
        response = ada_client.get(path)
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store", path
    make_organizer("org@example.org", "the right password")
    client.submit("/organizer/login", data={"email": "org@example.org", "password": "the right password"})
    assert client.get("/organizer/").headers["Cache-Control"] == "no-store"
    # Public images stay cacheable, even for a signed-in person.
    image = ada_client.get(f"/badge/{bo.badge_token}.png")
    assert image.headers["Cache-Control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize("host", ["evil.example", "evil.example:5000", "127.0.0.1.evil.example"])
def test_requests_for_another_host_are_refused_before_anything_is_built(client, make_person, host):
    person = make_person()
    for path in (f"/badge/{person.badge_token}.png", f"/B/{person.badge_token}", "/organizer/login"):
        response = client.get(path, headers={"Host": host})
        assert response.status_code == 400 and 'data-code="untrusted_host"' in response.get_data(as_text=True)
        assert "evil" not in response.get_data(as_text=True)
    assert client.get(f"/badge/{person.badge_token}.png", headers={"Host": "127.0.0.1:5000"}).status_code == 200


def test_trusted_hosts_default_to_this_machine_and_the_public_url():
    from kithmeet.config import trusted_hosts

    assert trusted_hosts("", "") == ["localhost", "127.0.0.1"]
    assert trusted_hosts("https://meet.example.org", "0.0.0.0") == ["localhost", "127.0.0.1", "meet.example.org"]
    assert trusted_hosts("", "192.168.1.20") == ["localhost", "127.0.0.1", "192.168.1.20"]


def test_an_empty_trusted_hosts_setting_falls_back_to_the_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("KITHMEET_TRUSTED_HOSTS", " , ")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 't.sqlite3'}", "SECRET_KEY": "k"},
                     instance_path=str(tmp_path / "instance"))
    assert "localhost" in app.config["TRUSTED_HOSTS"]  # never [], which would let every host in
    with app.app_context():
        db.create_all()
    assert app.test_client().get("/organizer/login", headers={"Host": "evil.example"}).status_code == 400
    with app.app_context():
        db.engine.dispose()


def proxied_app(tmp_path, **config):
    """An app that shows what it believes of a request: the client address and the scheme."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.sqlite3'}", "SECRET_KEY": "k",
                      "TESTING": True, **config}, instance_path=str(tmp_path / "instance"))
    app.add_url_rule("/_believed", "believed", lambda: f"{request.remote_addr} {request.scheme} {request.host}")
    return app.test_client()


FORWARDED = {"X-Forwarded-For": "203.0.113.9, 198.51.100.7", "X-Forwarded-Proto": "https",
             "X-Forwarded-Host": "localhost"}


@pytest.mark.parametrize(("peer", "believed"), [
    ("10.0.0.2", "198.51.100.7 https localhost"),  # the proxy: the last address it appended, its scheme
    ("10.0.0.3", "10.0.0.3 http 127.0.0.1"),  # anyone else: the headers are ignored
    ("10.1.2.3", "198.51.100.7 https localhost"),  # in a trusted network
    ("::ffff:10.0.0.2", "198.51.100.7 https localhost"),  # the proxy, seen by a server on [::]
    ("::ffff:10.1.2.3", "198.51.100.7 https localhost"),
    ("::ffff:10.0.0.3", "::ffff:10.0.0.3 http 127.0.0.1"),  # anyone else, however spelled
    ("::10.0.0.2", "::10.0.0.2 http 127.0.0.1"),  # IPv4-compatible, not mapped: another address
])
def test_forwarded_headers_are_believed_only_from_a_trusted_proxy(tmp_path, peer, believed):
    client = proxied_app(tmp_path, TRUSTED_PROXIES=["10.0.0.2", "10.1.0.0/16"])
    answer = client.get("/_believed", headers={**FORWARDED, "Host": "127.0.0.1"}, environ_base={"REMOTE_ADDR": peer})
    assert answer.get_data(as_text=True) == believed


def test_a_mapped_loopback_peer_is_the_loopback_proxy():
    from kithmeet.config import trusted_proxies
    proxies = TrustedProxies(None, trusted_proxies("127.0.0.1"))
    assert proxies.trusts("::ffff:127.0.0.1") and proxies.trusts("127.0.0.1")
    assert not proxies.trusts("::1") and not proxies.trusts("::ffff:127.0.0.2") and not proxies.trusts("")
    ipv6 = TrustedProxies(None, trusted_proxies("::1, 2001:db8::/32"))
    assert ipv6.trusts("::1") and ipv6.trusts("2001:db8::5") and not ipv6.trusts("127.0.0.1")


def test_without_trusted_proxies_no_forwarded_header_is_believed(tmp_path):
    client = proxied_app(tmp_path)
    answer = client.get("/_believed", headers={**FORWARDED, "Host": "127.0.0.1"}, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert answer.get_data(as_text=True) == "127.0.0.1 http 127.0.0.1"


def test_trust_proxy_keeps_its_old_meaning_any_peer(tmp_path, monkeypatch):
    monkeypatch.setenv("KITHMEET_TRUST_PROXY", "1")
    client = proxied_app(tmp_path)
    assert client.application.config["TRUSTED_PROXIES"] == ("*",)
    answer = client.get("/_believed", headers={**FORWARDED, "Host": "127.0.0.1"}, environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert answer.get_data(as_text=True) == "198.51.100.7 https localhost"


def test_trusted_proxies_from_the_environment_and_refused_when_malformed(tmp_path, monkeypatch):
    from kithmeet.config import trusted_proxies

    monkeypatch.setenv("KITHMEET_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8")
    client = proxied_app(tmp_path, TRUST_PROXY=True)  # a list given: the old blanket switch does not widen it
    assert [str(network) for network in client.application.config["TRUSTED_PROXIES"]] == ["127.0.0.1/32", "10.0.0.0/8"]
    with pytest.raises(ValueError):
        trusted_proxies("127.0.0.1, nginx.internal")
