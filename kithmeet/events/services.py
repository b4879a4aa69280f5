"""Series, events and check-ins. Organizer-facing changes check ownership here."""
from flask import current_app
from sqlalchemy import delete, func, select
from sqlalchemy.orm import contains_eager

from .. import changelog, signals
from ..audit import services as audit
from ..database import insert_if_absent, transaction, utcnow
from ..errors import DomainError, NotFound
from ..extensions import db
from ..formtools import hidden_characters
from ..tokens import EVENT_CODE_LENGTH, new_code
from . import access, timezones
from . import join_policy as policies
from .models import DEFAULT_PROMPTS, CheckIn, Event, EventPrompt, EventRemoval, Series, SeriesMember, SeriesRemoval


DEFAULT_SERIES = "Meetups"


def _existing_series(organizer, name):
    """The series of that name the organizer runs (their own first), or None."""
    return db.session.scalar(
        select(Series).where(Series.id.in_(access.member_series_ids(organizer, "organizer")), Series.name == name)
        .order_by((Series.organizer_id == organizer.id).desc(), Series.id).limit(1))


def _new_series(organizer, name, time_zone):
    series = Series(organizer_id=organizer.id, name=name, time_zone=time_zone)
    db.session.add(series)
    db.session.add(SeriesMember(series=series, organizer_id=organizer.id, role="owner"))
    return series


def series_names(organizer):
    """Names of the series where the organizer may create events."""
    return list(series_zones(organizer))


def series_zones(organizer):
    """{name: time zone} of the series where the organizer may create events, the most recently
    made first (its zone is the new-event form's default): one query."""
    zones = {}
    for name, zone in db.session.execute(
            select(Series.name, Series.time_zone).where(Series.id.in_(access.member_series_ids(organizer, "organizer")))
            .order_by(Series.created_at.desc(), Series.id.desc())):
        zones.setdefault(name, zone)
    return zones


# The form shows five prompt fields; the service refuses more, whoever calls it.
MAX_PROMPTS = 5


def _checked_event_fields(name, starts_at, venue, description, prompts, series_name=None):
    """The event's fields stripped and checked, as (name, venue, description, labels, series_name).
    Raises DomainError: name_required, starts_at_required, too_long, control_characters, no_prompt,
    too_many_prompts, duplicate_prompt."""
    name, venue, description = (name or "").strip(), (venue or "").strip(), (description or "").strip()
    series_name = (series_name or "").strip() or DEFAULT_SERIES
    labels = [label.strip() for label in prompts if label and label.strip()]
    if not name:
        raise DomainError("Give the event a name.", "name_required")
    if starts_at is None:
        raise DomainError("Pick a date and time.", "starts_at_required")
    if (len(name) > 120 or len(series_name) > 120 or len(venue) > 200 or len(description) > 2000
            or any(len(label) > 80 for label in labels)):
        raise DomainError("A field is longer than we keep.", "too_long")
    if (any(hidden_characters(text) for text in (name, venue, series_name, *labels))
            or hidden_characters(description, multiline=True)):
        raise DomainError("Remove the invisible or direction-changing characters.", "control_characters")
    if not labels:
        raise DomainError("Keep at least one prompt: it leads the badge.", "no_prompt")
    if len(labels) > MAX_PROMPTS:
        raise DomainError(f"Keep to {MAX_PROMPTS} prompts.", "too_many_prompts")
    if len(set(label.casefold() for label in labels)) != len(labels):
        raise DomainError("Each prompt must be different.", "duplicate_prompt")
    return name, venue, description, labels, series_name


def create_event(organizer, *, name, starts_at, venue="", description="", prompts=DEFAULT_PROMPTS, series_name="",
                 time_zone=None, join_policy="open", entry_code="", capacity=None):
    """A draft event in the organizer's series (made if new, in `time_zone`, default UTC).
    `starts_at` is the wall-clock time in the series' zone (events.timezones): an existing
    series keeps its own zone whatever `time_zone` says. Raises DomainError: name_required,
    starts_at_required, too_long, control_characters, no_prompt, too_many_prompts, duplicate_prompt,
    bad_time_zone, nonexistent_time, bad_date; and for who may join (events.join_policy.checked_policy):
    bad_join_policy, bad_entry_code_format, bad_capacity."""
    name, venue, description, labels, series_name = _checked_event_fields(
        name, starts_at, venue, description, prompts, series_name)
    join_policy, entry_code, capacity = policies.checked_policy(join_policy, entry_code, capacity)
    series = _existing_series(organizer, series_name)
    zone = series.time_zone if series is not None else timezones.checked_zone(time_zone or "UTC")
    starts_at = timezones.to_utc(starts_at, zone)
    with transaction():
        event = Event(series=series or _new_series(organizer, series_name, zone), name=name, starts_at=starts_at,
                      venue=venue, description=description, join_policy=join_policy, entry_code=entry_code,
                      capacity=capacity)
        event.prompts = [EventPrompt(position=i, label=label) for i, label in enumerate(labels)]
        db.session.add(event)
        db.session.flush()
        audit.record(organizer.id, "event.created", event_id=event.id)
    return event


def update_event(organizer, public_id, *, name, starts_at, venue="", description="", prompts=(),
                 join_policy=None, entry_code="", capacity=None):
    """Change one of the organizer's events, whatever its status: a closed event's typo is still
    worth fixing. Its series stays.

    Prompts are labels in order, blanks skipped. Attendees' answers are kept by label
    (people.models.PromptAnswer), so an answer stays with a label that stays, wherever it moves;
    a renamed label starts without answers. `starts_at` is the wall-clock time in the series'
    zone. Raises NotFound unknown_event, or DomainError: name_required, starts_at_required,
    too_long, control_characters, no_prompt, too_many_prompts, duplicate_prompt, nonexistent_time, bad_date;
    bad_join_policy, bad_entry_code_format, bad_capacity. Who may join (`join_policy` with its
    `entry_code` and `capacity`) is kept as it is when `join_policy` is None; a capacity below
    the check-ins already made only closes the door to more."""
    event = event_for_organizer(organizer, public_id)
    name, venue, description, labels, _ = _checked_event_fields(name, starts_at, venue, description, prompts)
    joining = (event.join_policy, event.entry_code, event.capacity) if join_policy is None else \
        policies.checked_policy(join_policy, entry_code, capacity)
    starts_at = timezones.to_utc(starts_at, event.series.time_zone)
    with transaction():
        event.name, event.starts_at, event.venue, event.description = name, starts_at, venue, description
        event.join_policy, event.entry_code, event.capacity = joining
        # Relabel rows in place rather than replace them: positions never move, so the
        # (event_id, position) constraint cannot trip half-way; surplus rows go, new ones follow.
        kept = event.prompts[:len(labels)]
        for prompt, label in zip(kept, labels):
            prompt.label = label
        event.prompts = kept + [EventPrompt(position=i, label=label)
                                for i, label in enumerate(labels) if i >= len(kept)]
        audit.record(organizer.id, "event.edited", event_id=event.id)
    return event


def delete_event(organizer, public_id):
    """Delete one of the organizer's draft events. A draft was never open, so nobody checked in or
    connected there; an opened event keeps its history and is closed instead. Raises NotFound
    unknown_event, or DomainError not_a_draft."""
    event = event_for_organizer(organizer, public_id)
    if event.status != "draft":
        raise DomainError("Only a draft can be deleted: close the event instead.", "not_a_draft")
    with transaction():
        # The entry names the series: the event's own entries go with it (audit_entry.event_id cascades).
        audit.record(organizer.id, "event.deleted", series_id=event.series_id)
        db.session.delete(event)


def rotate_join_code(organizer, public_id):
    """Give one of the organizer's events a new join code: the old join link and the printed
    poster stop working at once (say, after the link was posted somewhere public). Badges and
    check-ins are untouched. Raises NotFound unknown_event."""
    event = event_for_organizer(organizer, public_id)
    with transaction():
        event.join_code = new_code(EVENT_CODE_LENGTH)
        audit.record(organizer.id, "event.join_code_rotated", event_id=event.id)
    return event


def event_for_organizer(organizer, public_id, need="organizer"):
    """An event of a series where the organizer holds at least `need` (events.access). Another
    series' event does not exist for them: NotFound unknown_event; a weaker role: role_too_low."""
    return access.event_for(organizer, public_id, need)


def set_status(organizer, public_id, status):
    """Open or close one of the organizer's events. Raises NotFound, or DomainError bad_status."""
    event = event_for_organizer(organizer, public_id)
    if status not in ("open", "closed"):
        raise DomainError("Unknown status.", "bad_status")
    if event.status == status:
        return event
    with transaction():
        event.status = status
        if status == "open":
            event.opened_at, event.closed_at = utcnow(), None
        else:
            event.closed_at = utcnow()
        audit.record(organizer.id, f"event.{'opened' if status == 'open' else 'closed'}", event_id=event.id)
        signal = signals.event_opened if status == "open" else signals.event_closed
        signal.send(current_app._get_current_object(), event_id=event.id, organizer_id=organizer.id)
    return event


def events_overview(organizer):
    """The events of every series the organizer belongs to (any role), newest first, with check-in
    counts: two queries in all."""
    events = db.session.scalars(
        select(Event).join(Series).where(Series.id.in_(access.member_series_ids(organizer)))
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


def check_in(person_id, event, via="join", *, entry_code=None, email=None):
    """Record presence once, however often the join form is sent. Writes in the caller's transaction.
    `via` says where: "join" (the join form), "kiosk" (the door kiosk) or "door". The first
    check-in's stays. Through the join link the event's policy applies (events.join_policy: the
    announced `entry_code`, or the person's e-mail identity `email` on the guest list); capacity
    applies to every way in. Raises DomainError: event_not_open, event_closed, removed_from_series,
    hidden_from_event, bad_entry_code, too_many_guesses, not_on_guest_list, event_full."""
    ensure_joinable(event)
    ensure_not_excluded(person_id, event)
    if via == "join" and event.join_policy != "open" and not is_checked_in(person_id, event.id):
        policies.ensure_may_join(event, entry_code=entry_code, email=email)
    if policies.take_place(event, person_id, via):
        signals.checked_in.send(current_app._get_current_object(), person_id=person_id, event_id=event.id)
        changelog.record("person.checked_in", changelog.person(person_id), event=event.id)


def open_event_or_none(person_id):
    """The open event the person most recently checked in at, or None."""
    return db.session.scalar(
        select(Event).join(CheckIn, CheckIn.event_id == Event.id)
        .where(CheckIn.person_id == person_id, Event.status == "open")
        .order_by(CheckIn.created_at.desc(), CheckIn.id.desc()).limit(1))


def checkin_count(event):
    return db.session.scalar(select(func.count(CheckIn.id)).where(CheckIn.event_id == event.id))


# Removal from a series: an organizer acting on a report (kithmeet/reports) keeps a person away
# from every event of the series, now and later.

def is_removed_from_series(person_id, series_id):
    return db.session.scalar(select(SeriesRemoval.id).where(
        SeriesRemoval.series_id == series_id, SeriesRemoval.person_id == person_id)) is not None


def removed_from_series(series_id, person_ids):
    """Which of `person_ids` the series' organizers removed: one query."""
    if not person_ids:
        return set()
    return set(db.session.scalars(select(SeriesRemoval.person_id).where(
        SeriesRemoval.series_id == series_id, SeriesRemoval.person_id.in_(set(person_ids)))))


# Hiding from one event (events/attendees.py writes event_removal): the person is off that event's
# lists, and their badge stops checking in and connecting there; other events are untouched.

def ensure_not_excluded(person_id, event):
    """Refuse a person the organizers removed from this event's series (removed_from_series) or
    took off this event (hidden_from_event): one query, asked on every check-in (a scan asks
    scan_places.scan_place, which answers the same in its one query)."""
    removed, hidden = db.session.execute(select(
        select(SeriesRemoval.id).where(SeriesRemoval.series_id == event.series_id,
                                       SeriesRemoval.person_id == person_id).exists(),
        select(EventRemoval.id).where(EventRemoval.event_id == event.id,
                                      EventRemoval.person_id == person_id).exists())).one()
    refuse_excluded(event, removed, hidden)


def refuse_excluded(event, removed, hidden):
    if removed:
        raise DomainError(f"The organizers of {event.series.name} have removed you from their events, so you "
                          "can't join or connect here.", "removed_from_series")
    if hidden:
        raise DomainError(f"The organizers of {event.name} have taken you off this event, so you can't check in "
                          "or connect here.", "hidden_from_event")


def is_checked_in(person_id, event_id):
    return db.session.scalar(select(CheckIn.id).where(
        CheckIn.event_id == event_id, CheckIn.person_id == person_id)) is not None


def remove_from_series(organizer, series_id, person_id):
    """Keep a person away from every event of the organizer's series: their check-ins at its events
    that have not closed are deleted, and joining, checking in or scanning there is refused from
    now on (`ensure_not_excluded`). Closed events keep their history. Returns whether this call
    removed them (a repeat changes nothing). Raises NotFound unknown_series for a series that is
    not the organizer's."""
    series = access.series_by_id_for(organizer, series_id)
    with transaction():
        removed = insert_if_absent(SeriesRemoval, {"series_id": series.id, "person_id": person_id,
                                                   "organizer_id": organizer.id, "created_at": utcnow()},
                                   ["series_id", "person_id"])
        if removed:
            still_open = select(Event.id).where(Event.series_id == series.id, Event.status != "closed")
            db.session.execute(delete(CheckIn).where(CheckIn.person_id == person_id,
                                                     CheckIn.event_id.in_(still_open))
                               .execution_options(synchronize_session=False))
            audit.record(organizer.id, "person.removed_from_series", series_id=series.id)
    return removed
