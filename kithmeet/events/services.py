"""Series, events and check-ins. Organizer-facing changes check ownership here."""
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from ..database import insert_if_absent, utcnow
from ..errors import DomainError, NotFound
from ..extensions import db
from .models import CheckIn, Event, EventPrompt, Series


def _series_for(organizer, name):
    name = (name or "").strip() or "Meetups"
    series = db.session.scalar(
        select(Series).where(Series.organizer_id == organizer.id, Series.name == name))
    if series is None:
        series = Series(organizer_id=organizer.id, name=name)
        db.session.add(series)
    return series


def series_names(organizer):
    return db.session.scalars(
        select(Series.name).where(Series.organizer_id == organizer.id).order_by(Series.name)).all()


def create_event(organizer, *, name, starts_at, venue="", description="", prompts=(), series_name=""):
    labels = [label.strip() for label in prompts if label and label.strip()]
    if len(set(label.casefold() for label in labels)) != len(labels):
        raise DomainError("Each prompt must be different.", "duplicate_prompt")
    event = Event(series=_series_for(organizer, series_name), name=name.strip(), starts_at=starts_at,
                  venue=(venue or "").strip(), description=(description or "").strip())
    event.prompts = [EventPrompt(position=i, label=label) for i, label in enumerate(labels)]
    db.session.add(event)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise DomainError("That could not be saved; try again.", "conflict") from None
    return event


def event_for_organizer(organizer, public_id):
    """The organizer's own event, or NotFound: another organizer's event does not exist for them."""
    event = db.session.scalar(
        select(Event).join(Series).where(Event.public_id == public_id, Series.organizer_id == organizer.id))
    if event is None:
        raise NotFound("There is no such event among yours.")
    return event


def set_status(organizer, public_id, status):
    event = event_for_organizer(organizer, public_id)
    if status not in ("open", "closed"):
        raise DomainError("Unknown status.", "bad_status")
    if event.status == status:
        return event
    event.status = status
    if status == "open":
        event.opened_at = utcnow()
        event.closed_at = None
    else:
        event.closed_at = utcnow()
    db.session.commit()
    return event


def events_overview(organizer):
    """The organizer's events and their series, newest first, with check-in counts: two queries in all."""
    events = db.session.scalars(
        select(Event).join(Series).where(Series.organizer_id == organizer.id)
        .options(contains_eager(Event.series))
        .order_by(Event.starts_at.desc(), Event.id.desc())).all()
    counts = dict(db.session.execute(
        select(CheckIn.event_id, func.count(CheckIn.id))
        .where(CheckIn.event_id.in_([event.id for event in events]))
        .group_by(CheckIn.event_id)).all()) if events else {}
    return [(event, counts.get(event.id, 0)) for event in events]


def event_by_join_code(code):
    event = db.session.scalar(select(Event).where(Event.join_code == code))
    if event is None:
        raise NotFound("This join link isn't for any event here. Check it with the organizer.", "unknown_event")
    return event


def ensure_joinable(event):
    if event.status == "draft":
        raise DomainError(f"{event.name} isn't open yet. The organizer opens it when doors open.",
                          "event_not_open")
    if event.status == "closed":
        raise DomainError(f"{event.name} has ended. Thanks for coming!", "event_closed")


def check_in(person_id, event):
    """Record presence once, however often the join form is sent. Commits with the caller."""
    ensure_joinable(event)
    insert_if_absent(CheckIn, {"event_id": event.id, "person_id": person_id, "created_at": utcnow()},
                     ["event_id", "person_id"])


def open_event_of(person_id):
    """The open event the person most recently checked in at, if any."""
    return db.session.scalar(
        select(Event).join(CheckIn, CheckIn.event_id == Event.id)
        .where(CheckIn.person_id == person_id, Event.status == "open")
        .order_by(CheckIn.created_at.desc(), CheckIn.id.desc()).limit(1))


def current_event_for(person_id):
    """The open event where the person's scans count, or a DomainError saying why there is none."""
    event = open_event_of(person_id)
    if event is not None:
        return event
    last = db.session.scalar(
        select(Event).join(CheckIn, CheckIn.event_id == Event.id).where(CheckIn.person_id == person_id)
        .order_by(CheckIn.created_at.desc(), CheckIn.id.desc()).limit(1))
    if last is None:
        raise DomainError("Check in at an event first: scan the join QR at the door.", "not_checked_in")
    raise DomainError(f"{last.name} has closed, so new connections can't be made there. "
                      "Your follow-up list still has everyone you met.", "event_closed")


def checkin_count(event):
    return db.session.scalar(select(func.count(CheckIn.id)).where(CheckIn.event_id == event.id))
