from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..database import utcnow
from ..extensions import db
from ..tokens import EVENT_CODE_LENGTH, new_code


class GuestImport(db.Model):
    """One uploaded guest list: kept (raw bytes) from upload until the organizer confirms the
    column mapping, then emptied; the per-row report stays for the organizer to read."""
    __tablename__ = "guest_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True, default=lambda: new_code(EVENT_CODE_LENGTH))
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), index=True)
    # The event the guests were registered for, when the list is for one event.
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="SET NULL"))
    organizer_id: Mapped[int | None] = mapped_column(ForeignKey("organizer.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(200), default="")
    # "pending" (uploaded, mapping not yet confirmed) or "done".
    status: Mapped[str] = mapped_column(String(10), default="pending")
    data: Mapped[bytes | None] = mapped_column(LargeBinary)
    # JSON: the detected encoding, delimiter and column mapping.
    settings: Mapped[str] = mapped_column(Text, default="")
    total_rows: Mapped[int] = mapped_column(default=0)
    added: Mapped[int] = mapped_column(default=0)
    existing: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    # JSON: one entry per row (row number, outcome, reason code); no contact data.
    report: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=lambda: utcnow())
    finished_at: Mapped[datetime | None]


class Guest(db.Model):
    """A person on a series' guest list, matched by their e-mail identity."""
    __tablename__ = "guest"
    __table_args__ = (UniqueConstraint("series_id", "person_id"), UniqueConstraint("series_id", "email"))

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    # Normalised as people.identity normalises a person's e-mail.
    email: Mapped[str] = mapped_column(String(254))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("guest_import.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=lambda: utcnow())
