"""The audit trail of organizer actions. Rows are added inside the acting service's
transaction, so an action and its audit entry are saved together or not at all."""
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import changelog
from ..extensions import db
from .models import ACTION_LABELS, AuditEntry


def record(organizer_id, action, *, event_id=None):
    """Add an audit entry (and its log line) to the caller's transaction. Never commits."""
    if action not in ACTION_LABELS:
        raise ValueError(f"unknown audit action {action!r}")
    db.session.add(AuditEntry(organizer_id=organizer_id, action=action, event_id=event_id))
    ids = {"event": event_id} if event_id is not None else {}
    changelog.record(action, changelog.organizer(organizer_id) if organizer_id else "cli", **ids)


def for_event(event_id, limit=20):
    """The event's latest entries, newest first, with who did each: one query."""
    return db.session.scalars(
        select(AuditEntry).options(joinedload(AuditEntry.organizer))
        .where(AuditEntry.event_id == event_id)
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()).limit(limit)).all()
