from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import utcnow
from ..extensions import db

ACTION_LABELS = {
    "organizer.created": "Organizer account created",
    "organizer.signed_in": "Signed in",
    "event.created": "Event created",
    "event.opened": "Event opened",
    "event.closed": "Event closed",
}


class AuditEntry(db.Model):
    """One organizer action, kept for the organizer pages; ids only, never personal text."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int | None] = mapped_column(ForeignKey("organizer.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=lambda: utcnow())

    organizer = relationship("Organizer")

    @property
    def label(self):
        return ACTION_LABELS.get(self.action, self.action)
