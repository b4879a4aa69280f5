"""Failed sign-in attempts, and the lock with backoff that follows them.

Every wrong password or two-factor code counts in `Organizer.failed_sign_ins`, by an
atomic `UPDATE … SET failed_sign_ins = failed_sign_ins + 1`, so guesses sent in parallel
all count. From the fifth failure in a row sign-in is refused until `locked_until`: one
minute, then two, four … at most an hour for each further failure. A full sign-in resets
the count. The lock is checked before a password is trusted, and a locked account refuses
even the right one, so guessing during the lock learns nothing.
"""
from datetime import timedelta

from sqlalchemy import or_, update

from ..audit import services as audit
from ..database import utcnow
from ..errors import DomainError
from ..extensions import db
from .models import Organizer

THRESHOLD = 5
FIRST_LOCK = timedelta(minutes=1)
LONGEST_LOCK = timedelta(hours=1)
LOCKED_MESSAGE = "Too many failed attempts: sign-in is paused for a while. Try again later."


def lock_length(failures):
    """How long the `failures`-th failure in a row locks the account (none below THRESHOLD)."""
    if failures < THRESHOLD:
        return timedelta(0)
    doublings = min(failures - THRESHOLD, 7)  # 2**7 minutes is past the cap already
    return min(FIRST_LOCK * 2 ** doublings, LONGEST_LOCK)


def is_locked(organizer, now=None):
    return organizer.locked_until is not None and organizer.locked_until > (now or utcnow())


def locked_error():
    return DomainError(LOCKED_MESSAGE, "locked")


def refuse_if_locked(organizer):
    """Raises DomainError: locked."""
    if is_locked(organizer):
        raise locked_error()


def count_failure(organizer_id, action):
    """Count one failed attempt (audited as `action`) in the caller's transaction; returns
    True when the account is locked now. Never commits.

    The caller commits this and raises its refusal after the transaction: a refusal raised
    inside would roll the count back.
    """
    failures = db.session.execute(
        update(Organizer).where(Organizer.id == organizer_id)
        .values(failed_sign_ins=Organizer.failed_sign_ins + 1)
        .returning(Organizer.failed_sign_ins).execution_options(synchronize_session=False)).scalar_one()
    audit.record(organizer_id, action)
    if failures < THRESHOLD:
        return False
    until = utcnow() + lock_length(failures)
    # Parallel failures each set a lock; the longest one stands, whichever commits last.
    db.session.execute(
        update(Organizer).where(Organizer.id == organizer_id,
                                or_(Organizer.locked_until.is_(None), Organizer.locked_until < until))
        .values(locked_until=until).execution_options(synchronize_session=False))
    audit.record(organizer_id, "organizer.locked")
    return True


def clear_failures(organizer_id):
    """Reset the count after a full sign-in, in the caller's transaction. Returns False (and
    writes nothing) when a lock began since the caller checked: the sign-in must then fail."""
    done = db.session.execute(
        update(Organizer).where(Organizer.id == organizer_id,
                                or_(Organizer.locked_until.is_(None), Organizer.locked_until <= utcnow()))
        .values(failed_sign_ins=0, locked_until=None).execution_options(synchronize_session=False))
    return done.rowcount == 1
