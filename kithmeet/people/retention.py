"""Retention: attendee data is kept for as long as the series they came to say, then purged.

A person's data expires when, for every series they checked in to, their last event in it
started more than that series' `retention_months` ago ("more than N months ago" counts back
from now by calendar months, the day clamped to the month's length). Someone who never
checked in anywhere expires NO_CHECK_IN_MONTHS after they joined. Expired people are deleted
by people/erasure.py, as if they had deleted their accounts themselves.

`flask --app app purge` runs `purge` (daily, from cron); the series settings page shows
`preview`. Both answer in counts: no names ever leave this module.
"""
import calendar
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, distinct, exists, false, func, or_, select

from .. import database
from ..connections.models import Connection, Encounter
from ..database import transaction
from ..events.models import CheckIn, Event, Series
from ..extensions import db
from . import erasure
from .models import Person

NO_CHECK_IN_MONTHS = 12
BATCH = 200  # people per transaction: a few statements each, and bounded parameter lists


@dataclass(frozen=True)
class Counts:
    people: int = 0
    connections: int = 0  # connections these people were part of (their side of each goes)
    check_ins: int = 0

    def __add__(self, other):
        return Counts(self.people + other.people, self.connections + other.connections,
                      self.check_ins + other.check_ins)


def months_before(moment: datetime, months: int) -> datetime:
    """The same time `months` calendar months earlier; 31 March less one month is 28 or 29 February."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _expired(now):
    """The condition "this Person row has expired at `now`", for a WHERE clause.

    One term per retention length in use (at most 120), not per series or person, so the
    statement stays the same size however many people it looks at.
    """
    lengths = db.session.scalars(select(Series.retention_months).distinct()).all()
    kept_by = [and_(Series.retention_months == months, Event.starts_at >= months_before(now, months))
               for months in lengths]
    recent = (select(CheckIn.id).join(Event, CheckIn.event_id == Event.id).join(Series, Event.series_id == Series.id)
              .where(CheckIn.person_id == Person.id, or_(false(), *kept_by)))
    any_check_in = select(CheckIn.id).where(CheckIn.person_id == Person.id)
    return and_(~exists(recent), or_(exists(any_check_in),
                                      Person.created_at < months_before(now, NO_CHECK_IN_MONTHS)))


def expired_ids(now):
    return db.session.scalars(select(Person.id).where(_expired(now)).order_by(Person.id)).all()


def _counts(person_ids):
    """What erasing these people removes, counted before it does: two statements."""
    if not person_ids:
        return Counts()
    connections = db.session.scalar(select(func.count(Connection.id)).where(
        or_(Connection.person_a_id.in_(person_ids), Connection.person_b_id.in_(person_ids))))
    check_ins = db.session.scalar(select(func.count(CheckIn.id)).where(CheckIn.person_id.in_(person_ids)))
    return Counts(len(person_ids), connections, check_ins)


def _batches(ids):
    for start in range(0, len(ids), BATCH):
        yield ids[start:start + BATCH]


def expiring(now=None):
    """What `purge(now)` would remove, as counts; removes nothing (`purge --dry-run`)."""
    now = now or database.utcnow()
    total = Counts()
    for batch in _batches(expired_ids(now)):
        total += _counts(batch)
    return total


def purge(now=None):
    """Delete everyone whose data has expired at `now`; returns the Counts removed.

    Each batch is one transaction, and checks expiry again inside it: someone who checked in
    while the purge ran is kept.
    """
    now = now or database.utcnow()
    total = Counts()
    for batch in _batches(expired_ids(now)):
        with transaction():
            still = db.session.scalars(select(Person.id).where(Person.id.in_(batch), _expired(now))
                                       .with_for_update()).all()
            total += _counts(still)
            erasure.erase(still, actor="system")
    return total


def preview(series, now=None):
    """What the next purge would remove among this series' attendees, as counts: people who
    checked in to it and have expired, their connections made or renewed at its events, and
    their check-ins there. Nothing about other series: an organizer sees their own only."""
    now = now or database.utcnow()
    expired = select(Person.id).where(_expired(now))
    in_series = select(Event.id).where(Event.series_id == series.id)
    people, check_ins = db.session.execute(
        select(func.count(distinct(CheckIn.person_id)), func.count(CheckIn.id))
        .where(CheckIn.event_id.in_(in_series), CheckIn.person_id.in_(expired))).one()
    connections = db.session.scalar(
        select(func.count(distinct(Connection.id))).join(Encounter, Encounter.connection_id == Connection.id)
        .where(Encounter.event_id.in_(in_series),
               or_(Connection.person_a_id.in_(expired), Connection.person_b_id.in_(expired))))
    return Counts(people, connections, check_ins)
