"""Organizer accounts: the guarded first-run setup, sign-in (the password step), and the CLI's create.

Passwords change and reset in passwords.py, two-factor sign-in is twofactor.py, and failed
attempts are counted in lockout.py."""
import hmac
import os
import secrets
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from .. import changelog
from ..audit import services as audit
from ..database import transaction
from ..emails import checked_email, normalize_email
from ..errors import DomainError, NotFound
from ..extensions import db
from ..instance_files import read_or_create
from . import lockout
from .models import Organizer

MIN_PASSWORD = 10
MAX_PASSWORD = 200
# Checked against when the email is unknown, so a wrong email costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("kithmeet-no-such-organizer")


def organizer_exists():
    return db.session.scalar(select(func.count(Organizer.id))) > 0


def _setup_code_path():
    return os.path.join(current_app.instance_path, "setup_code")


def setup_code():
    """The one-time code the first organizer must type; created on demand, kept in instance/."""
    return read_or_create(_setup_code_path(), lambda: "-".join(secrets.token_hex(2).upper() for _ in range(3)))


def existing_setup_code():
    """The code if `flask setup-code` (which `make run` calls) made one; reading never makes one."""
    try:
        with open(_setup_code_path(), encoding="ascii") as handle:
            return handle.read().strip() or None
    except FileNotFoundError:
        return None


def check_new_password(password):
    if len(password or "") < MIN_PASSWORD or len(password) > MAX_PASSWORD:
        raise DomainError(f"Use {MIN_PASSWORD} to {MAX_PASSWORD} characters for the password.", "weak_password")


def _checked_email(email):
    address = checked_email(email)
    if address is None:
        raise DomainError("Enter your email.", "bad_email")
    return address


def create_organizer(email, password):
    """An organizer account. Raises DomainError: bad_email, weak_password, organizer_exists."""
    email = _checked_email(email)
    check_new_password(password)
    exists = DomainError("An organizer with that email already exists.", "organizer_exists")
    if db.session.scalar(select(Organizer.id).where(Organizer.email == email)) is not None:
        raise exists
    with transaction(conflict=exists):  # the unique email still decides a race
        organizer = Organizer(email=email, password_hash=generate_password_hash(password))
        db.session.add(organizer)
        db.session.flush()
        audit.record(organizer.id, "organizer.created")
    return organizer


def complete_setup(code, email, password):
    """Create the first organizer, if the setup code is right and nobody did it first.

    The code file is claimed by renaming it (atomic, and shared by every worker on the
    machine), so when the form is sent many times at once exactly one send creates an
    organizer. A send that fails after the claim gives the code back.
    """
    if organizer_exists():
        raise DomainError("Setup is already done. Sign in instead.", "setup_done")
    expected = existing_setup_code()
    if expected is None or not hmac.compare_digest((code or "").strip().upper().encode(), expected.encode()):
        raise DomainError("That setup code is not right. It is printed in the terminal running kithmeet.",
                          "bad_setup_code")
    email = _checked_email(email)
    check_new_password(password)
    path = _setup_code_path()
    claimed = f"{path}.claimed-{secrets.token_hex(8)}"
    try:
        os.rename(path, claimed)
    except FileNotFoundError:
        raise DomainError("Setup is already done. Sign in instead.", "setup_done") from None
    try:
        organizer = create_organizer(email, password)
    except BaseException:
        os.rename(claimed, path)
        raise
    os.remove(claimed)
    return organizer


@dataclass(frozen=True)
class PasswordChecked:
    organizer: Organizer
    needs_code: bool  # two-factor is on: the sign-in is not done until a code is accepted
    # False only during a lock: any password goes on to the code step, where only a right one
    # can finish (twofactor.complete_sign_in), so the answer here tells a guesser nothing.
    password_right: bool = True


def authenticate(email, password):
    """Check an organizer's email and password. Returns PasswordChecked: signed in (the
    failure count reset, audited), or, with two-factor on, waiting for a code.
    Raises DomainError: bad_credentials, locked.

    An unknown email costs one password hash check, as a wrong password does, and gets the
    same answer. A wrong password is counted (lockout.py); a locked account answers
    `locked` to any password, after the same hash check, unless two-factor is on and
    `lockout.code_step_open` lets every password, right or wrong, go on to the code.
    """
    organizer = db.session.scalar(select(Organizer).where(Organizer.email == normalize_email(email)))
    right = check_password_hash(organizer.password_hash if organizer else _DUMMY_HASH, password or "")
    if organizer is None:
        changelog.record("organizer.sign_in_failed", "system")
        raise _bad_credentials()
    two_factor = organizer.totp_enabled_at is not None
    if two_factor and lockout.is_locked(organizer) and lockout.code_step_open(organizer):
        # With two-factor on, a lock anyone can set must not keep the owner out: a right
        # password with a right code gets past it. Every password goes on to the code step,
        # right or wrong (uncounted, as during any lock), so this answer says nothing of it.
        return PasswordChecked(organizer, needs_code=True, password_right=right)
    lockout.refuse_if_locked(organizer)
    if not right:
        with transaction():
            now_locked = lockout.count_failure(organizer.id, lockout.PASSWORD_FAILED)
        raise lockout.locked_error() if now_locked else _bad_credentials()
    if two_factor:
        # Not a success yet: resetting the count here would let whoever knows the password
        # guess codes forever, four at a time.
        return PasswordChecked(organizer, needs_code=True)
    with transaction():
        if not lockout.clear_failures(organizer.id):
            raise lockout.locked_error()
        audit.record(organizer.id, "organizer.signed_in")
    return PasswordChecked(organizer, needs_code=False)


def _bad_credentials():
    return DomainError("That email and password don't match an organizer.", "bad_credentials")


def organizer_by_email(email):
    """Raises NotFound: unknown_organizer (only the CLI may say so: pages never tell who has an account)."""
    organizer = db.session.scalar(select(Organizer).where(Organizer.email == normalize_email(email)))
    if organizer is None:
        raise NotFound("No organizer has that email.", "unknown_organizer")
    return organizer
