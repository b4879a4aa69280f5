"""Optional two-factor sign-in with a time-based one-time code (TOTP, RFC 6238, via pyotp).

Turning it on is two steps: `start` stores a new secret, which the account page shows as
text and as an otpauth:// QR; `turn_on` switches it on once the password is right and a
code from the app matches, and returns ten recovery codes (only their SHA-256 is kept, in
`recovery_code`). Signing in then takes a second step, `complete_sign_in`, within five
minutes of the password.

A code is accepted once: its time step must be later than `Organizer.totp_last_counter`,
set by compare-and-set, so a code seen over a shoulder (or sent twice at once) fails the
second time. A recovery code works in place of a code, once (a conditional UPDATE of its
`used_at`). Wrong codes count towards the lockout like wrong passwords. During a lock a
right password may still reach the code step, and a right code signs in and clears the lock
(lockout.code_step_open says when).
"""
import hashlib
import hmac
import io
import re
import time

import pyotp
import segno
from markupsafe import Markup
from sqlalchemy import delete, func, or_, select, update
from werkzeug.security import check_password_hash

from ..audit import services as audit
from ..database import transaction, utcnow
from ..errors import DomainError
from ..extensions import db
from ..tokens import grouped, new_code, normalize
from . import lockout
from .models import Organizer, RecoveryCode

ISSUER = "kithmeet"
VALID_WINDOW = 1  # a code from the step before or after also works: phone clocks drift
RECOVERY_CODES = 10
RECOVERY_CODE_LENGTH = 16  # 31**16 ≈ 2**79: stored unsalted, so long enough that a copied table stays useless
PENDING_SECONDS = 5 * 60
_SIX_DIGITS = re.compile(r"^\d{6}$")


def is_on(organizer):
    return organizer.totp_enabled_at is not None


def _hash(code):
    return hashlib.sha256(normalize(code).encode()).hexdigest()


def _bad_password():
    return DomainError("That is not your password.", "bad_password")


def _bad_code():
    return DomainError("That code is not right, or was already used. Type the newest code from your app.",
                       "bad_code")


def start(organizer):
    """A new secret for the authenticator app; two-factor is not on until `turn_on` accepts
    a code made with it. Raises DomainError: two_factor_on."""
    if is_on(organizer):
        raise DomainError("Two-factor sign-in is already on.", "two_factor_on")
    with transaction():
        organizer.totp_secret = pyotp.random_base32()
    return organizer.totp_secret


def provisioning_uri(organizer):
    return pyotp.TOTP(organizer.totp_secret).provisioning_uri(name=organizer.email, issuer_name=ISSUER)


def secret_for_typing(organizer):
    """The secret in groups of four, for an app that cannot scan."""
    return grouped(organizer.totp_secret)


def qr_svg(uri):
    """The otpauth:// URI as an inline SVG QR (the page carries no images with secrets in a URL)."""
    buffer = io.BytesIO()
    # make_qr, never make: plain make may choose Micro QR, which authenticator apps can't read.
    segno.make_qr(uri, error="m", boost_error=True).save(
        buffer, kind="svg", border=4, dark="#000", light="#fff", xmldecl=False, omitsize=True,
        svgclass="totp-qr")  # a viewBox without a size: the CSS fits it to a 320 px screen
    svg = buffer.getvalue().decode()
    return Markup(svg.replace("<svg ", '<svg role="img" aria-label="QR code for your authenticator app" ', 1))


def _matching_step(secret, code, now=None):
    """The time step whose code `code` is, within VALID_WINDOW of now; or None."""
    if not secret or not _SIX_DIGITS.match(code):
        return None
    totp = pyotp.TOTP(secret)
    current = int((now or time.time()) // totp.interval)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _accept(organizer, code):
    """Use `code` (an app code or a recovery code) in the caller's transaction; returns
    whether it was accepted. Each code works once, decided at the database."""
    code = re.sub(r"\s", "", code or "")
    if _SIX_DIGITS.match(code):
        step = _matching_step(organizer.totp_secret, code)
        if step is None:
            return False
        won = db.session.execute(
            update(Organizer).where(Organizer.id == organizer.id,
                                    or_(Organizer.totp_last_counter.is_(None), Organizer.totp_last_counter < step))
            .values(totp_last_counter=step).execution_options(synchronize_session=False))
        return won.rowcount == 1
    if not code or len(code) > 40:
        return False
    used = db.session.execute(
        update(RecoveryCode).where(RecoveryCode.organizer_id == organizer.id, RecoveryCode.code_hash == _hash(code),
                                   RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow()).execution_options(synchronize_session=False))
    if used.rowcount != 1:
        return False
    audit.record(organizer.id, "organizer.recovery_code_used")
    return True


def turn_on(organizer, password, code):
    """Switch two-factor on once the password is right and `code` matches the secret from
    `start`; every other sign-in ends. Returns the recovery codes, to be shown once.
    Raises DomainError: two_factor_on, two_factor_not_started, locked, bad_password, bad_code.

    The password, because turning it on signs everyone else out and then asks for codes only
    this app makes: a stolen session alone must not lock the owner out. A wrong one counts
    towards the lockout as in `turn_off`; a wrong code does not (the secret is new, there is
    nothing to guess, and a fumbled setup should not lock anyone out).
    """
    if is_on(organizer):
        raise DomainError("Two-factor sign-in is already on.", "two_factor_on")
    if not organizer.totp_secret:
        raise DomainError("Start again: set up two-factor sign-in from your account page.", "two_factor_not_started")
    right_password = check_password_hash(organizer.password_hash, password or "")
    lockout.refuse_if_locked(organizer)
    if not right_password:
        with transaction():
            now_locked = lockout.count_failure(organizer.id, lockout.PASSWORD_FAILED)
        db.session.expire(organizer)
        # Raised after the commit: the failure must stay counted.
        raise lockout.locked_error() if now_locked else _bad_password()
    step = _matching_step(organizer.totp_secret, re.sub(r"\s", "", code or ""))
    if step is None:
        raise _bad_code()
    codes = ["-".join(grouped(new_code(RECOVERY_CODE_LENGTH)).split()) for _ in range(RECOVERY_CODES)]
    with transaction():
        # Only from the state this check saw: a second send, or a new secret meanwhile, loses.
        won = db.session.execute(
            update(Organizer).where(Organizer.id == organizer.id, Organizer.totp_enabled_at.is_(None),
                                    Organizer.totp_secret == organizer.totp_secret)
            .values(totp_enabled_at=utcnow(), totp_last_counter=step,
                    session_generation=Organizer.session_generation + 1)
            .execution_options(synchronize_session=False))
        if won.rowcount != 1:
            raise DomainError("Two-factor sign-in is already on.", "two_factor_on")
        db.session.execute(delete(RecoveryCode).where(RecoveryCode.organizer_id == organizer.id))
        db.session.add_all(RecoveryCode(organizer_id=organizer.id, code_hash=_hash(c)) for c in codes)
        audit.record(organizer.id, "organizer.two_factor_on")
    db.session.expire(organizer)
    return codes


def recovery_codes_left(organizer):
    return db.session.scalar(
        select(func.count(RecoveryCode.id))
        .where(RecoveryCode.organizer_id == organizer.id, RecoveryCode.used_at.is_(None)))


def turn_off(organizer, password, code):
    """Switch two-factor off: needs the password and a code (or a recovery code); every other
    sign-in ends. Raises DomainError: two_factor_off, locked, bad_password, bad_code."""
    if not is_on(organizer):
        raise DomainError("Two-factor sign-in is already off.", "two_factor_off")
    right_password = check_password_hash(organizer.password_hash, password or "")
    lockout.refuse_if_locked(organizer)
    with transaction():
        if not right_password:
            refusal = _bad_password()
            now_locked = lockout.count_failure(organizer.id, lockout.PASSWORD_FAILED)
        elif not _accept(organizer, code):
            refusal = _bad_code()
            now_locked = lockout.count_failure(organizer.id, lockout.CODE_FAILED)
        else:
            refusal, now_locked = None, False
            _switch_off(organizer)
    db.session.expire(organizer)
    if refusal is not None:  # raised after the commit: the failure must stay counted
        raise lockout.locked_error() if now_locked else refusal
    return organizer


def _switch_off(organizer, actor=None):
    db.session.execute(
        update(Organizer).where(Organizer.id == organizer.id)
        .values(totp_secret=None, totp_enabled_at=None, totp_last_counter=None,
                session_generation=Organizer.session_generation + 1)
        .execution_options(synchronize_session=False))
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.organizer_id == organizer.id))
    audit.record(organizer.id, "organizer.two_factor_off", actor=actor)


def turn_off_from_the_server(organizer):
    """For whoever runs the server, when the organizer lost both their phone and their recovery
    codes (`flask --app app reset-password EMAIL --two-factor-off`): no code asked, every
    sign-in ends, and the activity page shows it. Raises DomainError: two_factor_off."""
    if not is_on(organizer):
        raise DomainError("Two-factor sign-in is already off.", "two_factor_off")
    with transaction():
        _switch_off(organizer, actor="cli")
    db.session.expire(organizer)
    return organizer


def pending_sign_in(organizer, password_right=True):
    """What the server-side session keeps between the password and the code: [organizer id,
    when the password was sent (epoch seconds), session_generation, whether it was right].
    No secret: it is no sign-in, and the browser never sees it."""
    return [organizer.id, int(time.time()), organizer.session_generation, bool(password_right)]


def complete_sign_in(organizer_id, started_at, generation, password_right, code):
    """The second step: a password was sent at `started_at` (epoch seconds) for this sign-in
    `generation`; `code` finishes it if the password was right. Returns the organizer, signed
    in (audited, the failure count and any lock cleared). Raises DomainError:
    sign_in_expired, locked, bad_code.

    A wrong password gets here only during a lock (organizer.services.authenticate); it
    answers `locked`, uncounted, whatever the code, as a right password with a wrong code does.

    During a lock a right code still signs in while `lockout.code_step_open` says so (the
    lock was set by wrong passwords, which anyone can send); a wrong code is counted and
    closes that until the lock ends."""
    organizer = db.session.get(Organizer, organizer_id) if isinstance(organizer_id, int) else None
    if (organizer is None or not isinstance(started_at, (int, float)) or not is_on(organizer) or organizer.session_generation != generation
            or not 0 <= time.time() - started_at <= PENDING_SECONDS):
        raise DomainError("That sign-in took too long or has changed: enter your password again.",
                          "sign_in_expired")
    # Read before the check: a failure counted after it must void this sign-in (clear_failures).
    failures_seen = organizer.failed_sign_ins if lockout.is_locked(organizer) else None
    if password_right is not True or not lockout.code_step_open(organizer):
        raise lockout.locked_error()
    with transaction():
        accepted = _accept(organizer, code)
        if accepted:
            if not lockout.clear_failures(organizer.id, failures_seen):
                # A lock began, or a code failed, meanwhile: the code stays unused.
                raise lockout.locked_error()
            audit.record(organizer.id, "organizer.signed_in")
        else:
            now_locked = lockout.count_failure(organizer.id, lockout.CODE_FAILED)
    if not accepted:
        raise lockout.locked_error() if now_locked else _bad_code()
    return organizer
