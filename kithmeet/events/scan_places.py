"""Where a scan counts: the event of the scanner's check-ins that a scan made at a given moment
belongs to (`event_for_scan`), and with it, in the same one statement, whether the scanner is
refused there and whether the person scanned was taken off it or is checked in there
(`scan_place`). Asked on every scan page and every connect: the statement is built once per
process and read as plain rows, its event a read-only `ScanEvent`."""
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from flask import current_app
from sqlalchemy import DateTime, Integer, and_, bindparam, case, or_, select
from sqlalchemy.orm import aliased

from ..database import utcnow
from ..errors import DomainError
from ..extensions import db
from .models import CheckIn, Event, EventRemoval, Series, SeriesRemoval
from .services import refuse_excluded


def event_for_scan(person_id, at, now=None):
    """(event, moment): the event (a read-only ScanEvent) where a scan the person made at `at`
    (naive UTC, the device's clock) counts, and the moment it counts as. The event is one they
    checked in at that is open, or that closed after the moment no more than
    SCAN_SYNC_GRACE_DAYS ago (a scan made offline syncs late and still counts where it was
    made). The latest check-in made by `at` comes first, so a scan from last week's event that
    syncs at this week's counts at last week's; a later check-in still serves a device whose
    clock is a little behind. The moment is `at` within its bounds: never later than now, never
    earlier than the check-in there nor the event's opening (a clock behind the server's counts
    as that instant, so a claimed 1970 dates nothing). One query. Raises DomainError
    not_checked_in or event_closed."""
    event, moment, _ = _scan_row(person_id, person_id, at, now)
    return event, moment


@dataclass(frozen=True)
class ScanEvent:
    """The event where a scan counts, as scan_place reads it: the columns a scan and its page
    use, read as a plain row (an Event loaded through the ORM cost more than the whole statement)."""
    id: int
    public_id: str
    name: str
    series_id: int
    status: str
    opened_at: datetime | None
    closed_at: datetime | None

    @property
    def series(self):  # only when a refusal names the series: one query then
        return db.session.get(Series, self.series_id)


@dataclass(frozen=True)
class ScanPlace:
    """Where a scan counts (event_for_scan's event and moment), and the scanned person's standing
    there: taken off it by its organizers (`target_hidden`), checked in there (`target_checked_in`)."""
    event: ScanEvent
    moment: datetime
    target_hidden: bool
    target_checked_in: bool
    extra: tuple = ()  # the values of the columns a caller added to the statement (scan_place)


def scan_place(person_id, target_id, at, now=None, *, statement=None, params=None):
    """A ScanPlace: event_for_scan for a scan of `target_id`, the scanner refused there as
    ensure_not_excluded refuses, and whether the target was taken off that event or checked in
    there: one query for all of it, asked on every scan and every view of a badge
    (connections/services.py). `statement`: scan_place_statement() with columns a caller added
    after its own (run with `params` besides), whose values come back as ScanPlace.extra: the
    connections domain reads the pair's connection in the same query. Raises DomainError:
    not_checked_in, event_closed, removed_from_series, hidden_from_event."""
    event, moment, row = _scan_row(person_id, target_id, at, now, statement, params)
    refuse_excluded(event, row.removed, row.hidden)
    return ScanPlace(event, moment, bool(row.target_hidden), bool(row.target_checked_in),
                     tuple(row[_scan_columns():]))


_EVENT_COLUMNS = ("id", "public_id", "name", "series_id", "status", "opened_at", "closed_at")  # ScanEvent's


@cache
def _scan_columns():
    """How many columns scan_place_statement's own row has: a caller's come after them."""
    return len(scan_place_statement().selected_columns)


@cache
def scan_place_statement():
    """event_for_scan's choice of event, with the exclusions and the target's presence there as
    EXISTS columns: built once per process (building it cost more than running it), made on
    first use, once every mapper is configured."""
    at, oldest_close = bindparam("at", type_=DateTime), bindparam("oldest_close", type_=DateTime)
    person, target = bindparam("person_id", type_=Integer), bindparam("target_id", type_=Integer)
    # Nothing done at an event comes before the person was there and it was open.
    there_from = case((Event.opened_at > CheckIn.created_at, Event.opened_at), else_=CheckIn.created_at)
    counts = case((or_(Event.status == "open",
                       and_(Event.status == "closed", Event.closed_at >= at, Event.closed_at >= there_from,
                            Event.closed_at >= oldest_close)), 1),
                  else_=0)
    theirs = aliased(CheckIn)  # the outer query's check-in is the scanner's
    return (
        select(*(Event.__table__.c[name] for name in _EVENT_COLUMNS),
               counts.label("usable"), there_from.label("since"),
               select(SeriesRemoval.id).where(SeriesRemoval.series_id == Event.series_id,
                                              SeriesRemoval.person_id == person).exists().label("removed"),
               select(EventRemoval.id).where(EventRemoval.event_id == Event.id,
                                             EventRemoval.person_id == person).exists().label("hidden"),
               select(EventRemoval.id).where(EventRemoval.event_id == Event.id,
                                             EventRemoval.person_id == target).exists().label("target_hidden"),
               select(theirs.id).where(theirs.event_id == Event.id,
                                       theirs.person_id == target).exists().label("target_checked_in"))
        .join(CheckIn, CheckIn.event_id == Event.id)
        .where(CheckIn.person_id == person)
        .order_by(counts.desc(), case((CheckIn.created_at <= at, 1), else_=0).desc(),
                  CheckIn.created_at.desc(), CheckIn.id.desc()).limit(1))


def _scan_row(person_id, target_id, at, now, statement=None, params=None):
    """(event, moment, row) of event_for_scan, the row holding scan_place's EXISTS columns."""
    now = now or utcnow()
    at = min(at, now)
    grace = timedelta(days=current_app.config["SCAN_SYNC_GRACE_DAYS"])
    row = db.session.connection().execute(statement if statement is not None else scan_place_statement(),
                                          {**(params or {}), "at": at, "oldest_close": now - grace,
                                           "person_id": person_id, "target_id": target_id}).first()
    if row is None:
        raise DomainError("Check in at an event first: scan the join QR at the door.", "not_checked_in")
    event = ScanEvent(*row[:len(_EVENT_COLUMNS)])
    usable, since = row.usable, row.since
    moment = max(at, since)
    if usable:
        return event, moment, row
    if event.closed_at is not None and event.closed_at >= moment:
        raise DomainError(f"{event.name} closed more than {grace.days} days ago, too long ago to add scans "
                          "made there.", "event_closed")
    raise DomainError(f"{event.name} has closed, so new connections can't be made there. "
                      "Your follow-up list still has everyone you met.", "event_closed")
