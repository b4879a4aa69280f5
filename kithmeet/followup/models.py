from datetime import datetime

from sqlalchemy import ForeignKey, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..database import utcnow
from ..extensions import db


class EditDraft(db.Model):
    """Words one side typed into the shared line that could not be saved, because the other
    side changed it meanwhile: kept until they save that entry, shown only to their author."""

    __tablename__ = "edit_draft"
    __table_args__ = (UniqueConstraint("connection_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connection.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    typed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=lambda: utcnow())


class EventDigest(db.Model):
    """An event whose after-the-event digests were queued: at most once, however often it closes."""

    __tablename__ = "event_digest"

    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), primary_key=True)
    queued_at: Mapped[datetime] = mapped_column(default=lambda: utcnow())
    messages: Mapped[int] = mapped_column(default=0)
