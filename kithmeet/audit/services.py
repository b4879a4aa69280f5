"""The audit trail of organizer actions. Rows are added inside the acting service's
transaction, so an action and its audit entry are saved together or not at all."""
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import changelog
from ..extensions import db
from .models import ACTION_LABELS, AuditEntry


def record(organizer_id, action, *, event_id=None, series_id=None, actor=None):
    """Add an audit entry (and its log line) to the caller's transaction. Never commits.

    The entry belongs to `organizer_id`; the log line names `actor` when someone else acted
    on their account (`"cli"` for a reset link made on the command line)."""
    if action not in ACTION_LABELS:
        raise ValueError(f"unknown audit action {action!r}")
    db.session.add(AuditEntry(organizer_id=organizer_id, action=action, event_id=event_id, series_id=series_id))
    ids = {key: value for key, value in (("event", event_id), ("series", series_id)) if value is not None}
    changelog.record(action, actor or (changelog.organizer(organizer_id) if organizer_id else "cli"), **ids)


def for_event(event_id, limit=20):
    """The event's latest entries, newest first, with who did each: one query."""
    return db.session.scalars(
        select(AuditEntry).options(joinedload(AuditEntry.organizer))
        .where(AuditEntry.event_id == event_id)
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()).limit(limit)).all()


ACTIVITY_PAGE_SIZE = 30


def for_organizer(organizer_id, page=1, per_page=ACTIVITY_PAGE_SIZE):
    """One page of the organizer's own entries (their sign-ins and account changes, and the
    actions they took), newest first, with the event or series each names: one query, however
    many rows. Returns (entries, whether a later page exists)."""
    page = max(1, min(page, 100_000))
    rows = db.session.scalars(
        select(AuditEntry).options(joinedload(AuditEntry.event), joinedload(AuditEntry.series))
        .where(AuditEntry.organizer_id == organizer_id)
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .offset((page - 1) * per_page).limit(per_page + 1)).all()  # one more tells of a next page
    return rows[:per_page], len(rows) > per_page
