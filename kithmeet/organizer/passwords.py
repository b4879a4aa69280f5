"""Changing an organizer's password, and resetting it with a one-time link.

A reset link is `<public base>/organizer/reset/<secret>`: only the secret's SHA-256 is
stored (`Organizer.reset_secret_hash`), it works for an hour, and using it is a
conditional UPDATE, so the form sent many times at once sets a password once. Today the
link comes from `flask --app app reset-password EMAIL`; an e-mailed link only has to call
`issue_reset_secret(organizer)` and send `reset_link(secret)`.

Both a change and a reset bump `session_generation`, which ends every other sign-in of
that organizer; a reset signs no one in (the next sign-in still asks for a two-factor code).
"""
import hashlib
from datetime import timedelta

from sqlalchemy import select, update
from werkzeug.security import check_password_hash, generate_password_hash

from ..audit import services as audit
from ..database import transaction, utcnow
from ..errors import DomainError, NotFound
from ..extensions import db
from ..tokens import new_secret
from ..urls import external_url
from . import lockout
from .models import Organizer
from .services import check_new_password

RESET_VALID_FOR = timedelta(hours=1)
RESET_LINK_USED = "That reset link has expired or was already used. Ask for a new one."


def _hash(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


def change_password(organizer, current_password, new_password):
    """Set a new password for a signed-in organizer who knows the current one; every other
    sign-in of theirs ends. Raises DomainError: weak_password, locked, bad_password.

    A wrong current password counts as a failed attempt: a stolen session must not be a
    way to guess the password without the lockout.
    """
    check_new_password(new_password)
    lockout.refuse_if_locked(organizer)
    if not check_password_hash(organizer.password_hash, current_password or ""):
        with transaction():
            now_locked = lockout.count_failure(organizer.id, "organizer.sign_in_failed")
        raise lockout.locked_error() if now_locked else DomainError(
            "That is not your current password.", "bad_password")
    password_hash = generate_password_hash(new_password)
    with transaction():
        db.session.execute(
            update(Organizer).where(Organizer.id == organizer.id)
            .values(password_hash=password_hash, session_generation=Organizer.session_generation + 1)
            .execution_options(synchronize_session=False))
        audit.record(organizer.id, "organizer.password_changed")
    db.session.expire(organizer)  # session_generation and the hash moved on in SQL
    return organizer


def issue_reset_secret(organizer, *, actor=None):
    """A new one-time reset secret, valid for RESET_VALID_FOR; a newer one voids the older.
    `actor` names who asked in the log (`"cli"`); the audit entry is the organizer's."""
    secret = new_secret()
    with transaction():
        organizer.reset_secret_hash = _hash(secret)
        organizer.reset_expires_at = utcnow() + RESET_VALID_FOR
        audit.record(organizer.id, "organizer.reset_issued", actor=actor)
    return secret


def reset_link(secret, base=None):
    """The link to send or print; `base` is the fallback when PUBLIC_URL is unset and there
    is no request (the CLI passes what `make run` serves)."""
    return external_url("organizer.reset_password", base, secret=secret)


def organizer_by_reset_secret(secret):
    """The organizer a live reset secret belongs to. Reading never uses it up.
    Raises NotFound: bad_reset_link."""
    organizer = None
    if secret and len(secret) <= 100:
        organizer = db.session.scalar(select(Organizer).where(
            Organizer.reset_secret_hash == _hash(secret), Organizer.reset_expires_at > utcnow()))
    if organizer is None:
        raise NotFound(RESET_LINK_USED, "bad_reset_link")
    return organizer


def reset_password(secret, new_password):
    """Set the password through a reset link, once: it also ends every sign-in and clears a
    lockout. Raises NotFound: bad_reset_link; DomainError: weak_password.

    The secret is switched off by a conditional UPDATE (it must still match and be in
    time), so of many sends at once exactly one sets a password.
    """
    organizer = organizer_by_reset_secret(secret)
    check_new_password(new_password)
    password_hash = generate_password_hash(new_password)
    with transaction():
        used = db.session.execute(
            update(Organizer).where(Organizer.id == organizer.id, Organizer.reset_secret_hash == _hash(secret),
                                    Organizer.reset_expires_at > utcnow())
            .values(password_hash=password_hash, reset_secret_hash=None, reset_expires_at=None,
                    session_generation=Organizer.session_generation + 1, failed_sign_ins=0, locked_until=None)
            .execution_options(synchronize_session=False))
        if used.rowcount != 1:
            raise NotFound(RESET_LINK_USED, "bad_reset_link")
        audit.record(organizer.id, "organizer.password_reset")
    db.session.expire(organizer)  # session_generation and the hash moved on in SQL
    return organizer
