"""Rate limits hold across gunicorn workers: the app is served by two worker processes,
each with its own memory, counting in the shared store (by default a file in the instance
folder on SQLite and the database on PostgreSQL, Redis for several machines)."""
import multiprocessing
import os
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest
from sqlalchemy import func, select

from kithmeet import ratelimit_file
from kithmeet.extensions import db, limiter
from kithmeet.ratelimit_file import HEADER, MAGIC, SLOT, FileStorage, digest, uri_for
from kithmeet.ratelimit_storage import RateLimitCounter

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


def counters_in_the_database(database_url):
    from sqlalchemy import create_engine

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.scalar(select(func.count()).select_from(RateLimitCounter.__table__))
    finally:
        engine.dispose()


@BOTH_DATABASES
def test_two_workers_share_one_count_in_the_default_store(serve, database_url, tmp_path):
    base = serve(database_url)  # the default storage: a file on SQLite, the database on PostgreSQL
    assert sign_in_attempts(base, 16) == [400] * 3 + [429] * 13
    assert len(workers_that_answered(tmp_path)) == 2, "all requests went to one worker: nothing was shown"
    counts_file = tmp_path / "instance" / ratelimit_file.FILE_NAME
    if database_url.startswith("sqlite"):  # counted beside the database, never in it
        assert counters_in_the_database(database_url) == 0 and counts_file.exists()
    else:
        assert counters_in_the_database(database_url) == 1 and not counts_file.exists()


def test_two_workers_share_one_count_in_the_database_on_sqlite_too(serve, tmp_path):
    base = serve(f"sqlite:///{tmp_path / 'r.sqlite3'}", RATELIMIT_STORAGE_URI="kithmeet+db://")
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


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "kithmeet+db://"}])
def test_a_broken_count_store_lets_requests_through(make_person, app, caplog):
    person = make_person()
    RateLimitCounter.__table__.drop(db.engine)  # as before the migration that makes it
    assert app.test_client().get(f"/B/{person.badge_token}").status_code == 200
    assert "rate limit storage unavailable" in caplog.text


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "kithmeet+file://"}])
def test_a_count_file_that_cannot_be_made_lets_requests_through(make_person, app, caplog):
    person = make_person()
    os.makedirs(limiter.limiter.storage.path)  # a folder where the file should be
    assert app.test_client().get(f"/B/{person.badge_token}").status_code == 200
    assert "rate limit storage unavailable" in caplog.text


# ---------------------------------------------------------------- the count file (ratelimit_file.py)

KEY = "LIMITER/kithmeet/scan/person:1/30/1/minute"


def count_in(path, key, hits, threads, start, results):
    """`threads` threads of one process, each counting `hits` hits of `key` in the file at
    `path` once every process has come to `start`; every count the file handed out goes to
    `results`."""
    sys.setswitchinterval(1e-5)  # threads take turns often, so one that does not wait shows
    storage = FileStorage(uri_for(path))
    counts = []
    start.wait(60)

    def work():
        for _ in range(hits):
            counts.append(storage.incr(key, 600))

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    results.put(counts)


def counted_together(context, target, args, processes=2):
    """What `processes` processes running `target(*args, start, results)` put in `results`;
    `start` is a barrier they pass together."""
    start, results = context.Barrier(processes), context.Queue()
    started = [context.Process(target=target, args=(*args, start, results)) for _ in range(processes)]
    for process in started:
        process.start()
    try:
        counts = [results.get(timeout=120) for _ in started]
    finally:
        for process in started:
            process.join(timeout=30)
            if process.exitcode is None:
                process.kill()
    assert [process.exitcode for process in started] == [0] * processes
    return counts


def test_two_processes_count_one_key_to_an_exact_total(tmp_path):
    path = tmp_path / "instance" / "ratelimit.counts"
    counts = counted_together(multiprocessing.get_context("spawn"), count_in, (str(path), KEY, 1000, 4))
    # Each of the 8,000 hits got its own count: no two read the same one, none was lost.
    assert all(counts) and sorted(sum(counts, [])) == list(range(1, 8001))
    assert FileStorage(uri_for(path)).get(KEY) == 8000


def count_after_fork(storage, key, hits, start, results):
    start.wait(60)
    results.put([storage.incr(key, 600) for _ in range(hits)])


def test_workers_forked_from_a_process_that_counted_still_count_together(tmp_path):
    # gunicorn forks its workers; one that inherited the parent's open file must not share its lock.
    storage = FileStorage(uri_for(tmp_path / "ratelimit.counts"))
    assert storage.incr(KEY, 600) == 1
    counts = counted_together(multiprocessing.get_context("fork"), count_after_fork, (storage, KEY, 4000))
    assert sorted(sum(counts, [])) == list(range(2, 8002))
    assert storage.incr(KEY, 600) == 8002


class Clock:
    def __init__(self):
        self.now = 1_800_000_000.0

    def time(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(ratelimit_file, "time", clock)
    return clock


def test_windows_end_and_a_new_one_starts_from_one(tmp_path, clock):
    storage = FileStorage(uri_for(tmp_path / "ratelimit.counts"))
    assert [storage.incr("a", 60) for _ in range(3)] == [1, 2, 3]
    assert storage.incr("b", 10) == 1
    clock.now += 30
    assert (storage.get("a"), storage.get_expiry("a")) == (3, clock.now + 30)
    assert storage.get("b") == 0  # its window has ended
    assert storage.incr("a", 60) == 4 and storage.incr("b", 10) == 1
    clock.now += 30  # the window's end: a fixed window, not one that slides with each hit
    assert storage.get("a") == 0 and storage.incr("a", 60) == 1
    assert storage.get("b") == 0  # ended at +40
    assert storage.incr("b", 10) == 1 and storage.incr("a", 60) == 2
    storage.clear("a")
    assert storage.get("a") == 0 and storage.get("b") == 1
    assert storage.reset() == 1 and storage.get("b") == 0


def test_a_full_table_lets_the_window_that_ends_soonest_give_way(tmp_path, clock):
    storage = FileStorage(uri_for(tmp_path / "ratelimit.counts"), slots=4)
    for number, length in enumerate([60, 30, 90, 120]):
        assert [storage.incr(f"key{number}", length) for _ in range(2)] == [1, 2]
    assert storage.incr("new", 60) == 1  # key1's window ended soonest: it gave way
    assert [storage.get(f"key{number}") for number in range(4)] == [2, 0, 2, 2]
    assert storage.incr("new", 60) == 2 and storage.incr("key0", 60) == 3
    clock.now += 61  # key0's and new's windows ended: their slots are free again, before any live one
    assert storage.incr("late", 60) == 1 and storage.incr("later", 60) == 1
    assert (storage.get("key2"), storage.get("key3")) == (2, 2)


def test_a_file_that_is_not_a_count_table_is_started_afresh(tmp_path):
    path = tmp_path / "ratelimit.counts"
    for damage in [b"", b"garbage" * 1000, MAGIC + b"\xff" * 8, HEADER.pack(MAGIC, 4) + b"\0" * 10,
                   HEADER.pack(b"notours!", 8) + b"\xff" * 8 * SLOT.size]:
        path.write_bytes(damage)
        storage = FileStorage(uri_for(path), slots=8)
        assert [storage.incr(KEY, 60) for _ in range(2)] == [1, 2], damage[:16]
        assert path.stat().st_size == HEADER.size + 8 * SLOT.size
        assert path.read_bytes()[:HEADER.size] == HEADER.pack(MAGIC, 8)


def test_a_slot_that_cannot_be_right_starts_a_new_window(tmp_path, clock):
    path = tmp_path / "ratelimit.counts"
    storage = FileStorage(uri_for(path), slots=1)
    assert storage.incr(KEY, 60) == 1
    for ends, count in [(clock.now + 10_000, 5), (float("nan"), 5), (clock.now + 30, 1 << 62)]:
        with open(path, "r+b") as handle:
            handle.seek(HEADER.size)
            handle.write(SLOT.pack(digest(KEY), ends, count))
        assert storage.get(KEY) in (0, 5)
        assert storage.incr(KEY, 60) == 1, (ends, count)


def count_after_damage(path, start, results):
    storage = FileStorage(uri_for(path), slots=8)
    first = [storage.incr(KEY, 60) for _ in range(3)]
    with open(path, "r+b") as handle:  # cut short under the worker's mapping
        handle.truncate(10)
    second = [storage.incr(KEY, 60) for _ in range(2)]
    os.unlink(path)  # removed: a worker must not go on counting in a file no other can open
    third = [storage.incr(KEY, 60) for _ in range(2)]
    results.put([first, second, third, os.path.exists(path)])


def test_a_file_cut_short_or_removed_while_mapped_is_started_afresh(tmp_path):
    # In a process of its own: reading past the end of a cut-short mapping would kill it (SIGBUS).
    (result,) = counted_together(multiprocessing.get_context("fork"), count_after_damage,
                                 (str(tmp_path / "ratelimit.counts"),), processes=1)
    assert result == [[1, 2, 3], [1, 2], [1, 2], True]
