"""Failed sign-in attempts, and the lock with backoff that follows them.

Every wrong password or two-factor code counts in `Organizer.failed_sign_ins`, by an
atomic `UPDATE … SET failed_sign_ins = failed_sign_ins + 1`, so guesses sent in parallel
all count. From the fifth failure in a row sign-in is refused until `locked_until`: one
minute, then two, four … at most an hour for each further failure. A full sign-in resets
the count. The lock is checked before a password is trusted: a locked account answers
`locked` to a wrong password, uncounted.

Anyone who knows an organizer's email can set the lock, so with two-factor on it does not
stop the owner: during a lock a right password still goes on to the code step, and a right
code signs in and clears the lock (`code_step_open`). Only someone with the password can
get a code wrong, so a wrong code closes that way until the lock ends: codes are still
guessed one per lock. Without two-factor a locked account refuses even the right password.
"""
from datetime import timedelta

from sqlalchemy import or_, select, update

from ..audit import services as audit
from ..audit.models import AuditEntry
from ..database import utcnow
from ..errors import DomainError
from ..extensions import db
from .models import Organizer

THRESHOLD = 5
# How a counted failure is audited; the latest one tells a lock set by wrong passwords
# (anyone can) from one that wrong codes set or renewed (only someone with the password can).
PASSWORD_FAILED = "organizer.sign_in_failed"
CODE_FAILED = "organizer.code_failed"
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


def code_step_open(organizer):
    """Whether a right password may go on to the two-factor code step (and a right code then
    sign in): always when not locked; during a lock only while the latest counted failure is
    a wrong password. A wrong password during a lock is never counted, so only a wrong code
    changes that, and it stays closed until the lock ends."""
    if not is_locked(organizer):
        return True
    latest = db.session.scalar(
        select(AuditEntry.action)
        .where(AuditEntry.organizer_id == organizer.id, AuditEntry.action.in_((PASSWORD_FAILED, CODE_FAILED)))
        .order_by(AuditEntry.id.desc()).limit(1))
    return latest == PASSWORD_FAILED


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


def clear_failures(organizer_id, failures_seen=None):
    """Reset the count (and any lock) after a full sign-in, in the caller's transaction.
    Returns False (and writes nothing) when a lock began since the caller checked; or, for a
    sign-in during a lock (`failures_seen`: the count when `code_step_open` said yes), when
    any failure was counted since, as that may have closed the code step. The sign-in must
    then fail."""
    if failures_seen is None:
        still = or_(Organizer.locked_until.is_(None), Organizer.locked_until <= utcnow())
    else:
        still = Organizer.failed_sign_ins == failures_seen
    done = db.session.execute(
        update(Organizer).where(Organizer.id == organizer_id, still)
        .values(failed_sign_ins=0, locked_until=None).execution_options(synchronize_session=False))
    return done.rowcount == 1
