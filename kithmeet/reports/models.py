from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import utcnow
from ..extensions import db
from ..tokens import new_code

REASONS = {
    "harassment": "Harassment or unwanted contact",
    "inappropriate": "Inappropriate profile or behaviour",
    "spam": "Spam or selling",
    "impersonation": "Pretending to be someone else",
    "other": "Something else",
}


class Report(db.Model):
    """One attendee's report about another, for the organizers of the series it names.

    Both people's rows cascade: a report is about people, and deleting an account deletes
    every report that person wrote or that names them (see docs/decisions.md).
    """
    __tablename__ = "report"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True, default=lambda: new_code())
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="SET NULL"))
    reporter_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    reported_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(20))
    details: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=lambda: utcnow())
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("organizer.id", ondelete="SET NULL"))

    # Loaded together for the organizer's list (reports.services.for_series), never one by one.
    reporter = relationship("Person", foreign_keys=[reporter_id])
    reported = relationship("Person", foreign_keys=[reported_id])
    event = relationship("Event")
    series = relationship("Series")

    @property
    def reason_label(self):
        return REASONS.get(self.reason, self.reason)
