from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import utcnow
from ..extensions import db

ACTION_LABELS = {
    "organizer.created": "Organizer account created",
    "organizer.signed_in": "Signed in",
    # Account safety: what the organizer's activity page lists beside their event actions.
    "organizer.sign_in_failed": "Wrong password",
    "organizer.code_failed": "Wrong two-factor code",
    "organizer.locked": "Sign-in paused after failed attempts",
    "organizer.password_changed": "Password changed",
    "organizer.reset_issued": "Password reset link made",
    "organizer.password_reset": "Password reset",
    "organizer.two_factor_on": "Two-factor sign-in turned on",
    "organizer.two_factor_off": "Two-factor sign-in turned off",
    "organizer.recovery_code_used": "Recovery code used",
    "event.created": "Event created",
    "event.opened": "Event opened",
    "event.closed": "Event closed",
    "event.edited": "Event edited",
    "event.deleted": "Draft event deleted",
    "event.join_code_rotated": "Join code replaced",
    "event.branding_changed": "Branding changed",
    "event.repeated": "Created as the next event of its series (a copy)",
    "series.updated": "Series settings changed",
    # Acting on attendees' reports (kithmeet/reports): entries name the series.
    "report.resolved": "Report marked resolved",
    "person.removed_from_series": "Person removed from the series",
    # The door kiosk (organizer/kiosk.py): entries name the event.
    "kiosk.opened": "Door kiosk opened",
    "kiosk.left": "Door kiosk closed",
    "kiosk.checked_in": "Checked someone in at the kiosk",
    "kiosk.joined": "Someone joined at the kiosk",
    # Guest-list import (kithmeet/guests): entries name the series.
    "guests.uploaded": "Guest list uploaded",
    "guests.imported": "Guest list imported",
    # The attendee list (events/attendees.py): entries name the event, never the person.
    "person.hidden_from_event": "Person hidden from the event",
    # Who helps run a series (events/members.py): entries name the series.
    "series.member_invited": "Invite link made",
    "series.invite_revoked": "Invite withdrawn",
    "series.member_joined": "Joined the series through an invite",
    "series.role_changed": "A member's role changed",
    "series.member_removed": "Member removed from the series",
    "series.left": "Left the series",
}


class AuditEntry(db.Model):
    """One organizer action, kept for the organizer pages; ids only, never personal text."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int | None] = mapped_column(ForeignKey("organizer.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    series_id: Mapped[int | None] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=lambda: utcnow())

    organizer = relationship("Organizer")
    event = relationship("Event")
    series = relationship("Series")

    @property
    def label(self):
        return ACTION_LABELS.get(self.action, self.action)
