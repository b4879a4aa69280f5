"""The transaction helper every service writes through."""
import threading
import time

import pytest
from sqlalchemy import func, select

from kithmeet import database
from kithmeet.database import transaction
from kithmeet.errors import DomainError
from kithmeet.extensions import db
from kithmeet.organizer.models import Organizer

from .postgres import BOTH_DATABASES, SQLITE_ONLY


def count():
    return db.session.scalar(select(func.count(Organizer.id)))


def test_commits_on_success(app):
    with transaction():
        db.session.add(Organizer(email="a@example.org", password_hash="x"))
    db.session.rollback()  # nothing pending is left to lose
    assert count() == 1


def test_a_domain_error_rolls_back_and_propagates(app):
    with pytest.raises(DomainError) as error:
        with transaction():
            db.session.add(Organizer(email="a@example.org", password_hash="x"))
            db.session.flush()
            raise DomainError("no", "refused")
    assert error.value.code == "refused"
    db.session.commit()
    assert count() == 0


def test_a_lost_unique_race_becomes_the_callers_conflict_code(app):
    with transaction():
        db.session.add(Organizer(email="a@example.org", password_hash="x"))
    with pytest.raises(DomainError) as generic:
        with transaction():
            db.session.add(Organizer(email="a@example.org", password_hash="y"))
    assert generic.value.code == "conflict"
    with pytest.raises(DomainError) as named:
        with transaction(conflict=DomainError("taken", "organizer_exists")):
            db.session.add(Organizer(email="a@example.org", password_hash="y"))
    assert named.value.code == "organizer_exists"
    db.session.commit()
    assert count() == 1


def test_any_other_error_rolls_back_too(app):
    with pytest.raises(ZeroDivisionError):
        with transaction():
            db.session.add(Organizer(email="b@example.org", password_hash="x"))
            db.session.flush()
            1 / 0
    db.session.commit()
    assert count() == 0


def test_a_nested_transaction_commits_with_the_outer_one_or_not_at_all(app):
    with pytest.raises(DomainError):
        with transaction():
            with transaction():
                db.session.add(Organizer(email="inner@example.org", password_hash="x"))
            raise DomainError("the outer service refuses after the inner one wrote", "refused")
    db.session.commit()
    assert count() == 0
    with transaction():
        with transaction():
            db.session.add(Organizer(email="inner@example.org", password_hash="x"))
        assert db.session.info["transaction_depth"] == 1
    assert db.session.info["transaction_depth"] == 0
    db.session.rollback()
    assert count() == 1



@BOTH_DATABASES
def test_on_sqlite_a_workers_writers_queue_for_the_write_lock_in_turn(app, database_url):
    """On SQLite a second writer of the same process waits for the first to commit before its
    transaction starts (woken at once, not by SQLite's sleeping busy handler); on PostgreSQL,
    which locks rows, not the database, both run at once."""
    first_inside, first_may_commit, second_inside = threading.Event(), threading.Event(), threading.Event()

    def writer(email, inside, may_commit=None):
        with app.app_context():
            try:
                with transaction():
                    inside.set()
                    db.session.add(Organizer(email=email, password_hash="x"))
                    db.session.flush()
                    if may_commit is not None:
                        may_commit.wait(10)
            finally:
                db.session.remove()

    first = threading.Thread(target=writer, args=("a@example.org", first_inside, first_may_commit))
    second = threading.Thread(target=writer, args=("b@example.org", second_inside))
    first.start()
    assert first_inside.wait(10)
    second.start()
    entered_meanwhile = second_inside.wait(0.5)
    first_may_commit.set()
    first.join(10)
    second.join(10)
    assert second_inside.is_set() and count() == 2
    assert entered_meanwhile is ("sqlite" not in database_url)


def _try_lock(path, answer):
    """In another process: whether the workers' write lock of the database at `path` is free now."""
    import fcntl

    with open(f"{path}-writes", "a+b") as file:
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            answer.put("taken")
        else:
            answer.put("free")


@SQLITE_ONLY
def test_on_sqlite_the_other_workers_wait_for_a_transaction_to_end(app):
    """The queue holds across workers: while one process's transaction is open, another process
    finds the file lock beside the database taken (and queues on it, woken within a millisecond
    of the commit, where SQLite's busy handler sleeps up to 100 ms); free again after the commit,
    and after a rollback."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    path = db.engine.url.database

    def other_process_finds():
        answer = context.Queue()
        child = context.Process(target=_try_lock, args=(path, answer))
        child.start()
        child.join(60)
        return answer.get(timeout=5)

    with transaction():
        db.session.add(Organizer(email="a@example.org", password_hash="x"))
        assert other_process_finds() == "taken"
    assert other_process_finds() == "free" and count() == 1
    with pytest.raises(DomainError):
        with transaction():
            assert other_process_finds() == "taken"
            raise DomainError("refused", "refused")
    assert other_process_finds() == "free"


@SQLITE_ONLY
def test_on_sqlite_a_writer_waits_in_the_queue_only_so_long(app, monkeypatch):
    """A session that wrote before its transaction holds SQLite's lock while it queues: past
    SQLITE_QUEUE_SECONDS it goes on without the queue (SQLite's busy timeout decides), never a hang."""
    monkeypatch.setattr(database, "SQLITE_QUEUE_SECONDS", 0.2)
    holding, done = threading.Event(), threading.Event()

    def holder():
        with app.app_context():
            with transaction():
                holding.set()
                done.wait(10)
            db.session.remove()

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert holding.wait(10)
        started = time.monotonic()
        with transaction():  # the queue is taken: this goes on after its wait
            db.session.add(Organizer(email="a@example.org", password_hash="x"))
        assert 0.2 <= time.monotonic() - started < 5
    finally:
        done.set()
        thread.join(10)
    assert count() == 1


@SQLITE_ONLY
def test_on_sqlite_the_wait_for_another_worker_is_bounded(app, monkeypatch):
    """Another worker that keeps the file lock (stuck, or holding SQLite's lock as a session that
    wrote outside a transaction): past SQLITE_QUEUE_SECONDS this one goes on, and SQLite decides."""
    import fcntl

    monkeypatch.setattr(database, "SQLITE_QUEUE_SECONDS", 0.2)
    with open(f"{db.engine.url.database}-writes", "a+b") as other:  # its own open file: another worker's lock
        fcntl.flock(other.fileno(), fcntl.LOCK_EX)
        started = time.monotonic()
        with transaction():
            db.session.add(Organizer(email="a@example.org", password_hash="x"))
        assert 0.2 <= time.monotonic() - started < 5
    assert count() == 1
