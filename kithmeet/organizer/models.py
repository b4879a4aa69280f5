from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..database import utcnow
from ..extensions import db


class Organizer(db.Model):
    __tablename__ = "organizer"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    # Stored in each sign-in; bumping it (a password change or reset) signs every other one out.
    session_generation: Mapped[int] = mapped_column(default=1, server_default="1")
    # Base32 TOTP secret; two-factor sign-in is on once totp_enabled_at is set.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None]
    # The last accepted code's time step: a code is good once, even within its 30 seconds.
    totp_last_counter: Mapped[int | None]
    # Failed sign-ins in a row, and until when sign-in is refused (backoff doubles).
    failed_sign_ins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None]
    # sha256 of a one-time password-reset secret and when it stops working.
    reset_secret_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    reset_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=lambda: utcnow())


class RecoveryCode(db.Model):
    """A one-time two-factor recovery code; only its sha256 is stored."""
    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizer.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None]
