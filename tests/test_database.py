"""The transaction helper every service writes through."""
import pytest
from sqlalchemy import func, select

from kithmeet.database import transaction
from kithmeet.errors import DomainError
from kithmeet.extensions import db
from kithmeet.organizer.models import Organizer


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


def _other_writer_blocked(app):
    """Whether another connection, asking without waiting, is refused the database's write lock."""
    import sqlite3

    other = sqlite3.connect(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"), timeout=0)
    try:
        other.execute("UPDATE organizer SET password_hash = password_hash")
        other.commit()
        return False
    except sqlite3.OperationalError as error:
        assert "locked" in str(error)
        return True
    finally:
        other.close()


def test_an_immediate_transaction_holds_sqlites_write_lock_from_its_first_read(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's database-wide write lock (PostgreSQL locks rows: FOR UPDATE)")
    with transaction():
        db.session.add(Organizer(email="a@example.org", password_hash="x"))
    db.session.rollback()
    # Deferred (the default): a read takes no write lock, so another writer may come in between.
    with transaction():
        assert count() == 1
        assert not _other_writer_blocked(app)
    # Immediate: from the start no one else writes, so what is read is what the writes build on.
    with transaction(immediate=True):
        assert count() == 1
        assert _other_writer_blocked(app)
        db.session.add(Organizer(email="b@example.org", password_hash="x"))
    assert not _other_writer_blocked(app)  # the commit let it go
    assert count() == 2


def test_an_immediate_transaction_that_fails_lets_go_of_the_lock_and_writes_nothing(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's database-wide write lock")
    with pytest.raises(DomainError):
        with transaction(immediate=True):
            db.session.add(Organizer(email="a@example.org", password_hash="x"))
            db.session.flush()
            raise DomainError("no", "refused")
    assert not _other_writer_blocked(app)
    assert count() == 0
