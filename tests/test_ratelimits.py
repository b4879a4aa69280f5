"""Rate limits hold across gunicorn workers: the app is served by two worker processes,
each with its own memory, counting in the shared store (the database by default, Redis
for several machines)."""
import time
import urllib.error
import urllib.request

import pytest

from kithmeet.extensions import db

from .postgres import BOTH_DATABASES
from .servers import Gunicorn, Redis

LIMITED = {"RATELIMIT_ENABLED": True, "RATELIMIT_ORGANIZER_SIGNIN": "3 per minute", "SECRET_KEY": "k"}


@pytest.fixture
def serve(tmp_path):
    """Run the app under gunicorn with two worker processes, as `make run` does."""
    servers = []

    def start(database_url, **config):
        server = Gunicorn(tmp_path, database_url, {**LIMITED, **config}, threads=1, name="served")
        servers.append(server.start())
        return server.base

    yield start
    for server in servers:
        server.stop()


def sign_in_attempts(base, count):
    """Organizer sign-in posts, each on a new connection (no token: refused, but counted)."""
    statuses = []
    for _ in range(count):
        time.sleep(0.01)
        request = urllib.request.Request(base + "/organizer/login", data=b"email=x", method="POST",
                                         headers={"Connection": "close"})
        try:
            statuses.append(urllib.request.urlopen(request, timeout=10).status)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)
    return statuses


def workers_that_answered(tmp_path):
    time.sleep(0.2)  # the access log is written as each response goes out
    return {line.split()[0] for line in (tmp_path / "served-access.log").read_text().splitlines()
            if line.endswith((" 400", " 429"))}


@BOTH_DATABASES
def test_two_workers_share_one_count_in_the_database(serve, database_url, tmp_path):
    base = serve(database_url)  # the default storage: kithmeet+db://
    assert sign_in_attempts(base, 16) == [400] * 3 + [429] * 13
    assert len(workers_that_answered(tmp_path)) == 2, "all requests went to one worker: nothing was shown"


@pytest.fixture
def redis_url(tmp_path):
    server = Redis(tmp_path).start()
    yield server.url
    server.stop()


def test_two_workers_share_one_count_in_redis(serve, tmp_path, redis_url):
    base = serve(f"sqlite:///{tmp_path / 'r.sqlite3'}", RATELIMIT_STORAGE_URI=redis_url)
    assert sign_in_attempts(base, 16) == [400] * 3 + [429] * 13
    assert len(workers_that_answered(tmp_path)) == 2, "all requests went to one worker: nothing was shown"


@pytest.fixture
def app_config():
    return {"RATELIMIT_ENABLED": True, "RATELIMIT_LOOKUP": "4 per minute"}


def test_badge_lookups_are_limited_apart_from_connecting(make_person, app):
    person = make_person()
    stranger = app.test_client()
    assert [stranger.get(f"/B/{person.badge_token}").status_code for _ in range(6)] == [200] * 4 + [429] * 2
    # Guessed codes count too: a stranger cannot walk the code space.
    assert app.test_client().get("/B/AAAAAAAAAAA").status_code == 429  # same address, same bucket


def test_expired_windows_are_purged(app):
    from kithmeet.ratelimit_storage import DatabaseStorage, RateLimitCounter

    storage = DatabaseStorage()
    assert storage.incr("k1", expiry=60) == 1 and storage.incr("k1", expiry=60) == 2
    storage.incr("k2", expiry=-1)  # a window that has already ended
    assert storage.get("k2") == 0 and storage.purge_expired() == 1
    assert [row.key for row in db.session.scalars(db.select(RateLimitCounter))] == ["k1"]
    assert storage.incr("k2", expiry=60) == 1  # a new window starts from one


def test_head_requests_count_as_lookups_and_qr_images_only_when_first_drawn(make_person, app):
    person = make_person()
    client = app.test_client()
    token = person.badge_token
    # A QR image looks no code up, so it tells nothing: only drawing a new one costs (and counts,
    # per address: badges/views.py); one already drawn is free however often it is asked for.
    painter = app.test_client()
    painter.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    images = [painter.get(f"/badge/{token}.svg").status_code, painter.head("/badge/ZZZZZZZZZZZ.png").status_code,
              painter.get(f"/badge/{token}.png").status_code, painter.get("/J/ZZZZZZZZZZ.svg").status_code] * 3
    assert images == [200] * 12  # four drawn (the limit is 4), then served from the cache
    assert [client.head(f"/B/{token}").status_code for _ in range(5)] == [200] * 4 + [429]


def test_a_broken_count_store_lets_requests_through(make_person, app, caplog):
    from kithmeet.ratelimit_storage import RateLimitCounter

    person = make_person()
    RateLimitCounter.__table__.drop(db.engine)  # as before the migration that makes it
    assert app.test_client().get(f"/B/{person.badge_token}").status_code == 200
    assert "rate limit storage unavailable" in caplog.text
