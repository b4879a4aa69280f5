"""Who came to an event, for its organizers: the attendee list, hiding someone from the event,
removing them from the series, and the check-in CSV.

Organizers see a name, a headline and when and how each person checked in: never contact
fields, answers or connections. People hidden from the event or removed from the series are
off the list and the CSV (the live dashboard still counts them: events/live.py).

A row is named in URLs and forms by an attendee key, an HMAC of the person under a key
derived from the app's secret and the event, never by a row id: a key opens nothing but that
person's row at that event, and says nothing about them elsewhere.

Only organizers (organizer and owner roles) see the list; a door volunteer runs the door.
Like events/live.py this module reads a table above events (person), so only views import it.
"""
import csv
import hashlib
import hmac
import io
import re
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import func, or_, select

from ..audit import services as audit
from ..database import insert_if_absent, transaction, utcnow
from ..errors import NotFound
from ..extensions import db
from ..people.models import Person
from . import access, services, timezones
from .models import CheckIn, Event, EventRemoval, SeriesRemoval

PAGE_SIZE = 50
MAX_SEARCH = 80
VIA_LABELS = {"join": "Own phone", "kiosk": "Kiosk", "door": "At the door"}


@dataclass(frozen=True)
class Attendee:
    key: str
    name: str
    headline: str
    checked_in_at: datetime  # in the series' zone, aware
    via: str

    @property
    def via_label(self):
        return VIA_LABELS.get(self.via, self.via)


@dataclass(frozen=True)
class Listing:
    attendees: list
    total: int  # matching the search, across pages
    page: int
    pages: int
    off_list: int  # hidden from the event or removed from the series


KEY = re.compile(r"[0-9a-f]{20}")


def attendee_key(event, person_id):
    event_key = hmac.new(current_app.config["SECRET_KEY"].encode(), f"attendee:{event.id}".encode(),
                         hashlib.sha256).digest()
    return hmac.new(event_key, str(person_id).encode(), hashlib.sha256).hexdigest()[:20]


def _listed(event):
    """The conditions of a check-in that is on the event's list."""
    return (CheckIn.event_id == event.id,
            CheckIn.person_id.not_in(select(EventRemoval.person_id).where(EventRemoval.event_id == event.id)),
            CheckIn.person_id.not_in(select(SeriesRemoval.person_id).where(SeriesRemoval.series_id == event.series_id)))


def _attendee(event, person_id, name, headline, created_at, via):
    return Attendee(key=attendee_key(event, person_id), name=name, headline=headline,
                    checked_in_at=timezones.to_local(created_at, event.series.time_zone), via=via)


def listing(organizer, public_id, *, search="", page=1):
    """(event, Listing): one page of the event's attendees, in check-in order, whose name or
    headline contains `search`. Five queries whatever the numbers. Raises NotFound
    unknown_event, or DomainError role_too_low."""
    event = access.event_for(organizer, public_id, "organizer")
    conditions = list(_listed(event))
    search = " ".join((search or "").split())[:MAX_SEARCH]
    if search:
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(or_(Person.name.ilike(pattern, escape="\\"), Person.headline.ilike(pattern, escape="\\")))
    total = db.session.scalar(select(func.count(CheckIn.id)).join(Person, Person.id == CheckIn.person_id)
                              .where(*conditions))
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    rows = db.session.execute(
        select(CheckIn.person_id, Person.name, Person.headline, CheckIn.created_at, CheckIn.via)
        .join(Person, Person.id == CheckIn.person_id).where(*conditions)
        .order_by(CheckIn.created_at, CheckIn.id).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    everyone = db.session.scalar(select(func.count(CheckIn.id)).where(CheckIn.event_id == event.id))
    listed = total if not search else db.session.scalar(select(func.count(CheckIn.id)).where(*_listed(event)))
    return event, Listing(attendees=[_attendee(event, *row) for row in rows], total=total, page=page, pages=pages,
                          off_list=everyone - listed)


def attendee(organizer, public_id, key):
    """(event, Attendee) for one row of the list, for the confirmation pages. Raises NotFound
    unknown_event or unknown_attendee (not on this event's list), or DomainError role_too_low."""
    event = access.event_for(organizer, public_id, "organizer")
    person_id = _person_for_key(event, key)
    row = db.session.execute(
        select(CheckIn.person_id, Person.name, Person.headline, CheckIn.created_at, CheckIn.via)
        .join(Person, Person.id == CheckIn.person_id).where(*_listed(event), CheckIn.person_id == person_id)).one()
    return event, _attendee(event, *row)


def _person_for_key(event, key):
    """The person on the event's list with that key. Raises NotFound unknown_attendee."""
    key = (key or "").strip()
    if KEY.fullmatch(key):  # compare_digest takes ASCII only: anything else is no key at all
        for person_id in db.session.scalars(select(CheckIn.person_id).where(*_listed(event))):
            if hmac.compare_digest(attendee_key(event, person_id), key):
                return person_id
    raise NotFound("That person isn't on this event's list (any more).", "unknown_attendee")


def hide(organizer, public_id, key):
    """Take a person off one of the organizer's events: off its list and its CSV, and their badge
    stops checking in and connecting there (events.services.ensure_not_excluded). Their check-in
    and the connections they made stay, and so do other events. Raises NotFound unknown_event
    or unknown_attendee, or DomainError role_too_low."""
    event = access.event_for(organizer, public_id, "organizer")
    person_id = _person_for_key(event, key)
    with transaction():
        insert_if_absent(EventRemoval, {"event_id": event.id, "person_id": person_id,
                                        "organizer_id": organizer.id, "created_at": utcnow()},
                         ["event_id", "person_id"])
        audit.record(organizer.id, "person.hidden_from_event", event_id=event.id)
    return event


def remove_from_series(organizer, public_id, key):
    """Remove a person on the event's list from its whole series (events.services.remove_from_series:
    their check-ins at events not yet closed go, and every event of the series refuses them).
    Raises NotFound unknown_event or unknown_attendee, or DomainError role_too_low."""
    event = access.event_for(organizer, public_id, "organizer")
    person_id = _person_for_key(event, key)
    services.remove_from_series(organizer, event.series_id, person_id)
    return event


# A spreadsheet runs a cell that starts like a formula (=, +, -, @; a leading tab or carriage
# return hides one): such a cell gets a leading apostrophe. The rule of people/export.py.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    value = "" if value is None else str(value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def checkins_csv(organizer, public_id):
    """(event, text): everyone on the event's list, one row each in check-in order: name,
    headline, check-in time in the series' zone, and how they checked in. UTF-8 with a byte order
    mark, CRLF rows, formula-like cells defused. Three queries whatever the numbers. Raises
    NotFound unknown_event, or DomainError role_too_low."""
    event = access.event_for(organizer, public_id, "organizer")
    zone = event.series.time_zone
    rows = db.session.execute(
        select(Person.name, Person.headline, CheckIn.created_at, CheckIn.via)
        .join(Person, Person.id == CheckIn.person_id).where(*_listed(event))
        .order_by(CheckIn.created_at, CheckIn.id)).all()
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(["Name", "Headline", f"Checked in ({zone})", "Via"])
    for name, headline, created_at, via in rows:
        writer.writerow([_cell(value) for value in (
            name, headline, timezones.to_local(created_at, zone).strftime("%Y-%m-%d %H:%M"), via)])
    return event, out.getvalue()
