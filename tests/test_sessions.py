"""Server-side sessions (kithmeet/sessions.py): the cookie is a random id and nothing more;
signing out ends the session for real, and signing in starts a fresh one."""
import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kithmeet import create_app, sessions
from kithmeet.database import utcnow
from kithmeet.extensions import db
from kithmeet.sessions import WebSession

from .pages import join
from .test_ratelimits import redis_url  # noqa: F401  (a fixture: a throwaway redis-server)


def stored_ids():
    return set(db.session.scalars(select(WebSession.id_hash)))


def id_hash(cookie):
    return hashlib.sha256(f"session:{cookie}".encode()).hexdigest()


def test_the_cookie_is_a_random_id_and_the_database_keeps_only_its_hash(client, make_event):
    event = make_event()
    assert join(client, event, name="Ada Okafor", headline="Rust learner").status_code == 302
    cookie = client.get_cookie("session").value
    assert len(cookie) >= 40 and "." not in cookie  # no signed payload: nothing to decode
    assert stored_ids() == {id_hash(cookie)}
    row = db.session.scalar(select(WebSession))
    assert cookie.encode() not in row.data and b"Ada" not in row.data
    assert client.get("/badge").status_code == 200


def test_signing_out_ends_the_session_a_copied_cookie_belonged_to(two_attendees, make_client):
    _, ada, _, _ = two_attendees
    copied = ada.get_cookie("session").value
    assert ada.submit("/signout", page="/badge").status_code == 302
    assert id_hash(copied) not in stored_ids()
    thief = make_client()
    thief.set_cookie("session", copied)
    assert thief.get("/badge").status_code == 302  # to the start page: nobody is signed in
    assert thief.get("/followup", headers={"Accept": "application/json"}).status_code == 401


def write_back_after_sign_out(app, client, cookie):
    """A request holding the session (opened before the sign-out) changes it and saves it after."""
    from flask import request

    with app.test_request_context(headers={"Cookie": f"session={cookie}"}):
        under_way = app.session_interface.open_session(app, request)
    assert under_way.get("person") is not None
    assert client.submit("/signout", page="/badge").status_code == 302
    with app.test_request_context():
        under_way["join_nonce"] = "set by the request under way"  # as every join page does
        app.session_interface.save_session(app, under_way, app.response_class())


def test_a_request_under_way_cannot_bring_a_signed_out_session_back(app, two_attendees, make_client):
    _, ada, _, _ = two_attendees
    copied = ada.get_cookie("session").value
    write_back_after_sign_out(app, ada, copied)
    thief = make_client()
    thief.set_cookie("session", copied)
    assert thief.get("/badge").status_code == 302
    assert id_hash(copied) not in stored_ids()


def test_organizer_logout_ends_the_session_a_copied_cookie_belonged_to(client, make_client, make_organizer):
    make_organizer("org@example.org", "the right password")
    client.submit("/organizer/login", data={"email": "org@example.org", "password": "the right password"})
    assert client.get("/organizer/").status_code == 200
    copied = client.get_cookie("session").value
    assert client.submit("/organizer/logout", page="/organizer/").status_code == 302
    thief = make_client()
    thief.set_cookie("session", copied)
    assert thief.get("/organizer/").status_code == 302
    assert thief.get("/organizer/").location.startswith("/organizer/login")


def test_signing_in_starts_a_fresh_session_and_form_token(client, make_event, make_client):
    event = make_event()
    page = client.get(f"/J/{event.join_code}")  # an anonymous session, holding a form token
    before = client.get_cookie("session").value
    old_token = client.csrf_token(f"/J/{event.join_code}")
    assert id_hash(before) in stored_ids() and page.status_code == 200
    assert join(client, event, name="Ada Okafor").status_code == 302
    after = client.get_cookie("session").value
    assert after != before and id_hash(before) not in stored_ids()
    # Whoever held the session id from before (planted, or read off the wire) holds nothing.
    planted = make_client()
    planted.set_cookie("session", before)
    assert planted.get("/badge").status_code == 302
    assert planted.get_cookie("session") is None or planted.get_cookie("session").value != before
    # Nor does the form token from before work in the signed-in session.
    refused = client.post("/signout", data={"csrf_token": old_token})
    assert refused.status_code == 400 and client.get("/badge").status_code == 200


def test_a_session_id_the_server_never_issued_is_replaced(client, make_event):
    event = make_event()
    client.set_cookie("session", "chosen-by-an-attacker-" + "x" * 30)
    client.csrf_token(f"/J/{event.join_code}")
    assert client.get_cookie("session").value != "chosen-by-an-attacker-" + "x" * 30
    assert id_hash("chosen-by-an-attacker-" + "x" * 30) not in stored_ids()


def test_anonymous_sessions_are_kept_a_day_and_signed_in_ones_a_year(client, make_client, make_event):
    event = make_event()
    client.get(f"/J/{event.join_code}")
    anonymous = db.session.scalar(select(WebSession.expires_at))
    assert timedelta(hours=23) < anonymous - utcnow() <= timedelta(days=1)
    assert client.get_cookie("session").expires is None  # ends when the browser closes
    signed = make_client()
    join(signed, event, name="Ada Okafor")
    row = db.session.scalar(select(WebSession).where(WebSession.id_hash == id_hash(signed.get_cookie("session").value)))
    assert row.expires_at - utcnow() > timedelta(days=364)


def test_an_unchanged_session_is_written_once_a_day_not_on_every_page(two_attendees, count_queries, monkeypatch):
    import time

    _, ada, _, _ = two_attendees
    monkeypatch.setattr(sessions, "PURGE_CHANCE", 0)  # the occasional sweep of expired sessions is not a write of this one
    ada.get("/badge")

    def writes():
        with count_queries() as statements:
            assert ada.get("/badge").status_code == 200
        return [s for s in statements if "web_session" in s and not s.lstrip().startswith("SELECT")]
    assert writes() == []
    later = time.time() + sessions.REFRESH_AFTER + 60  # a day and a bit since it was last written
    monkeypatch.setattr(sessions.time, "time", lambda: later)
    assert len(writes()) == 1
    assert writes() == []


def test_expired_sessions_sign_nobody_in_and_are_purged(two_attendees):
    _, ada, _, _ = two_attendees
    expired = id_hash(ada.get_cookie("session").value)
    db.session.execute(WebSession.__table__.update().values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert ada.get("/badge").status_code == 302
    assert sessions.purge_expired() >= 1
    assert expired not in stored_ids()
    assert db.session.scalar(select(func.count()).select_from(WebSession).where(
        WebSession.expires_at <= utcnow())) == 0


def test_an_unknown_session_store_is_refused_at_start_up(tmp_path):
    with pytest.raises(ValueError):
        create_app({"SESSION_STORE_URI": "memcached://x", "SECRET_KEY": "k",
                    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite3'}"},
                   instance_path=str(tmp_path / "instance"))


def test_sessions_in_redis_end_at_sign_out_too(tmp_path, redis_url, make_event):  # noqa: F811
    import redis

    app = create_app({"SESSION_STORE_URI": redis_url, "SECRET_KEY": "k", "TESTING": True,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'r.sqlite3'}",
                      "RATELIMIT_ENABLED": False}, instance_path=str(tmp_path / "instance-redis"))
    from tests.conftest import FormClient

    app.test_client_class = FormClient
    with app.app_context():
        db.create_all()
        event = make_event()
        client = app.test_client()
        assert join(client, event, name="Ada Okafor").status_code == 302
        cookie = client.get_cookie("session").value
        store = redis.Redis.from_url(redis_url)
        assert store.exists(f"kithmeet:session:{cookie}")
        ttl = store.ttl(f"kithmeet:session:{cookie}")
        assert ttl > 364 * 24 * 3600
        assert client.get("/badge").status_code == 200
        assert client.submit("/signout", page="/badge").status_code == 302
        assert not store.exists(f"kithmeet:session:{cookie}")
        thief = app.test_client()
        thief.set_cookie("session", cookie)
        assert thief.get("/badge").status_code == 302
        # Nor can a request that was under way write it back.
        join(client, event, name="Ada again")
        again = client.get_cookie("session").value
        write_back_after_sign_out(app, client, again)
        assert not store.exists(f"kithmeet:session:{again}")
        thief.set_cookie("session", again)
        assert thief.get("/badge").status_code == 302
        db.session.remove()
        db.engine.dispose()
