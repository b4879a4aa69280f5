"""The follow-up list and the page of one connection: everyone a person met, with their own
status and note for each.

The rows belong to the connections domain; this module puts a page of them together in a
fixed number of queries (filters and search are conditions on the same statements, never a
query per row), and edits go through connections.notes.
"""
from dataclasses import dataclass, field
from functools import cache

from sqlalchemy import Date, and_, bindparam, case, exists, func, or_, select
from sqlalchemy.orm import aliased

from ..connections import consent, contacts, notes
from ..connections import services as connections
from ..connections.models import FOLLOWUP_STATUSES, Connection, ConnectionSide, Encounter
from ..database import utcnow
from ..errors import NotFound
from ..events import timezones
from ..events.models import Event, Series
from ..extensions import db
from ..people import services as people
from ..people.models import Person, PromptAnswer
from . import drafts

MAX_PAGE = 10_000
MAX_QUERY = 100
SORTS = {"recent": "Newest meeting first", "untouched": "Longest untouched first"}


@dataclass
class Entry:
    connection: Connection
    side: ConnectionSide
    other: object  # None once they deleted their account
    encounters: list = field(default_factory=list)  # newest first
    contacts: list = field(default_factory=list)  # what the contact rule lets this person see
    draft: object = None  # this person's unsaved words for the shared line, after a conflict
    state: str = consent.CONNECTED  # or consent.NO_LONGER_CONNECTED, consent.ACCOUNT_DELETED
    status: str = "to_follow_up"  # as it reads today: a snooze that ended is to follow up

    @property
    def first(self):
        """The first meeting (where "someone you met" was met), or None if its event is gone."""
        return self.encounters[-1] if self.encounters else None

    @property
    def conflicted(self):
        """A draft waits, and the line still differs from it: show both."""
        return self.draft is not None and self.draft.typed != self.shared_text

    @property
    def latest(self):
        return self.encounters[0] if self.encounters else None

    @property
    def times_met(self):
        return len(self.encounters)

    @property
    def shared_text(self):
        """The latest encounter's talked-about line: the one the follow-up form edits."""
        return self.latest.talked_about if self.latest else ""

    @property
    def shared_text_fingerprint(self):
        return notes.fingerprint(self.shared_text)


@dataclass
class Filters:
    """What the list shows: "" means no filter (for status: every status but archived)."""
    event: str = ""  # an event's public id, among the events this person met people at
    status: str = ""
    q: str = ""
    sort: str = "recent"

    def cleaned(self):
        """The filters with anything unknown dropped: a stale link shows the list, not an error."""
        return Filters(event=(self.event or "").strip()[:16],
                       status=self.status if self.status in FOLLOWUP_STATUSES else "",
                       q=" ".join((self.q or "").split())[:MAX_QUERY],
                       sort=self.sort if self.sort in SORTS else "recent")


@dataclass
class TheirSide:
    """What consent.state reads of the other person's side."""
    removed_at: object


@dataclass
class Page:
    entries: list
    number: int
    has_next: bool
    total: int
    events: list = field(default_factory=list)  # the events this person met people at, newest first
    filters: Filters = field(default_factory=Filters)
    today: object = None  # the day the statuses were read for (a snooze shows its year if not this one)


def page_number(number):
    """A page number within 1..MAX_PAGE (a huge one would overflow the SQL OFFSET)."""
    return min(max(1, number), MAX_PAGE)


def escape_like(text):
    """`text` as a literal inside a LIKE pattern (escape character: backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def met_at_events(person_id):
    """The events where this person met someone still on their list, newest first, as rows of
    (id, public_id, name): one query, on the session's connection (Core rows: no ORM layer)."""
    return db.session.connection().execute(_events_statement(), {"person_id": person_id}).all()


@cache
def _events_statement():
    # Built once, like the page's own statement (see _page_statements). The events are those
    # of the person's own encounters (IN): as an EXISTS per event, SQLite walked every side of
    # the person once for each event of the site: six times the work on a list of 300.
    met = (select(Encounter.event_id).join(ConnectionSide, ConnectionSide.connection_id == Encounter.connection_id)
           .where(ConnectionSide.person_id == bindparam("person_id"), ConnectionSide.removed_at.is_(None)))
    return (select(Event.id, Event.public_id, Event.name).where(Event.id.in_(met))
            .order_by(Event.starts_at.desc(), Event.id.desc()))


def _filtered(statement, pattern, event_id):
    """The list's filters as conditions on `statement`: None for a filter not applied, else
    the LIKE pattern of the search, the id of the event met at (bound parameters)."""
    if event_id is not None:
        statement = statement.where(exists().where(Encounter.connection_id == Connection.id,
                                                   Encounter.event_id == event_id))
    if pattern is not None:
        def like(column):
            return column.ilike(pattern, escape="\\")
        statement = statement.where(or_(
            like(Person.name), like(Person.headline), like(ConnectionSide.private_note),
            exists().where(PromptAnswer.person_id == Person.id, like(PromptAnswer.answer)),
            exists().where(Encounter.connection_id == Connection.id, like(Encounter.talked_about))))
    return statement


@dataclass(frozen=True, slots=True)
class Listed:
    """A connection as a row of the list holds it: the fields the list, its API and the consent
    rule read, without an ORM object (a page of fifty built three of them per row)."""
    id: int
    public_id: str
    person_a_id: object
    person_b_id: object
    last_met_at: object


@dataclass(frozen=True, slots=True)
class ListedSide:
    """The person's own side as the list shows it."""
    status: str
    snoozed_until: object
    private_note: str


@dataclass(frozen=True, slots=True)
class ListedPerson:
    """The other person as the list shows them: their name and headline."""
    id: int
    name: str
    headline: str


@dataclass(frozen=True, slots=True)
class Meeting:
    """An encounter as the list shows it: the event's name, when (in its series' zone, so the
    date reads as it did at the venue) and the shared line."""
    created_at: object
    talked_about: str
    event_name: str
    time_zone: str

    @property
    def local_time(self):
        return timezones.to_local(self.created_at, self.time_zone)


@cache
def _page_statements(status, by_event, search, untouched):
    """(the page's rows, their total) for one shape of filters, built once: building them (ORM
    aliases, the CASE, the filters) cost more than running them. The rows are chosen on narrow
    rows (the side and its connection's order) and only the page's are joined to the rest:
    sorting every row with its people and notes attached took twice as long in SQLite. Each
    row also carries the total (last column) as an uncorrelated subquery, which both databases
    compute once: a statement less than counting apart, where a window count over the same
    rows cost more than it saved. The total alone is for a page past the end (no row to carry it).
    Parameters: person_id, today, event_id, pattern, offset, limit."""
    person_id = bindparam("person_id")
    other_id = case((Connection.person_a_id == person_id, Connection.person_b_id), else_=Connection.person_a_id)
    chosen = (select(ConnectionSide.id).join(Connection, ConnectionSide.connection_id == Connection.id)
              .where(ConnectionSide.person_id == person_id, ConnectionSide.removed_at.is_(None),
                     notes.status_is(status, bindparam("today", type_=Date))))
    if search:
        chosen = chosen.outerjoin(Person, Person.id == other_id)
    chosen = _filtered(chosen, bindparam("pattern") if search else None, bindparam("event_id") if by_event else None)
    if untouched:
        order = (ConnectionSide.touched_at.asc().nulls_first(), Connection.id.asc())
    else:
        order = (Connection.last_met_at.desc(), Connection.id.desc())
    if search or by_event:
        total = select(func.count()).select_from(chosen.subquery())
    else:  # the sides alone (each has its connection), counted from ix_connection_side_listed
        total = select(func.count(ConnectionSide.id)).where(
            ConnectionSide.person_id == person_id, ConnectionSide.removed_at.is_(None),
            notes.status_is(status, bindparam("today", type_=Date)))
    page = chosen.order_by(*order).offset(bindparam("offset")).limit(bindparam("limit")).subquery()
    other_side = aliased(ConnectionSide)
    rows = (
        select(Connection.id, Connection.public_id, Connection.person_a_id, Connection.person_b_id,
               Connection.last_met_at, ConnectionSide.status, ConnectionSide.snoozed_until,
               ConnectionSide.private_note, other_side.id.label("their_side"),
               other_side.removed_at.label("their_removed_at"), Person.id.label("other_id"), Person.name,
               Person.headline, total.scalar_subquery().label("total"))
        .select_from(page)
        .join(ConnectionSide, ConnectionSide.id == page.c.id)
        .join(Connection, ConnectionSide.connection_id == Connection.id)
        .outerjoin(other_side, and_(other_side.connection_id == Connection.id, other_side.person_id != person_id))
        .outerjoin(Person, Person.id == other_id)
        .order_by(*order))
    return rows, total


@cache
def _meetings_statement():
    """Every encounter of the page's connections (parameter `ids`), newest first, with its
    event's name and its series' zone: one statement, built once."""
    return (select(Encounter.connection_id, Encounter.created_at, Encounter.talked_about, Event.name,
                   Series.time_zone)
            .join(Event, Event.id == Encounter.event_id).join(Series, Series.id == Event.series_id)
            .where(Encounter.connection_id.in_(bindparam("ids", expanding=True)))
            .order_by(Encounter.created_at.desc(), Encounter.id.desc()))


def followup_page(person, number=1, size=50, filters=None, today=None):
    """One page of the list in a fixed number of queries, whatever the rows and filters:
    the events for the filter, the page of rows with their people, the total, the encounters."""
    filters = (filters or Filters()).cleaned()
    today = today or utcnow().date()
    number = page_number(number)
    events = met_at_events(person.id)
    event_id = next((event.id for event in events if event.public_id == filters.event), None)
    if event_id is None:
        filters.event = ""
    params = {"person_id": person.id, "today": today, "event_id": event_id,
              "pattern": f"%{escape_like(filters.q)}%", "offset": (number - 1) * size, "limit": size + 1}
    rows_statement, total_statement = _page_statements(filters.status, event_id is not None, bool(filters.q),
                                                       filters.sort == "untouched")
    # Core rows on the session's connection, read by position: these statements load no ORM
    # object, and the session's ORM layer and named row access were a third of this function.
    execute = db.session.connection().execute
    rows = execute(rows_statement, params).all()
    has_next = len(rows) > size
    rows = rows[:size]
    if rows:
        total = rows[0][-1]
    else:  # past the end: no row carries the total
        total = execute(total_statement, params).scalar() if number > 1 else 0
    meetings = {}
    if rows:
        for connection_id, *meeting in execute(_meetings_statement(), {"ids": [row[0] for row in rows]}):
            meetings.setdefault(connection_id, []).append(Meeting(*meeting))
    entries = []
    for (id_, public_id, person_a_id, person_b_id, last_met_at, status, snoozed_until, private_note, their_side,
         their_removed_at, other_id, name, headline, _) in rows:
        connection = Listed(id_, public_id, person_a_id, person_b_id, last_met_at)
        side = ListedSide(status, snoozed_until, private_note)
        other = ListedPerson(other_id, name, headline) if other_id is not None else None
        theirs = TheirSide(their_removed_at) if other is not None and their_side is not None else None
        entries.append(Entry(connection, side, other, meetings.get(id_, []),
                             state=consent.state(connection, theirs), status=notes.current_status(side, today)))
    return Page(entries, number, has_next, total, events, filters, today)


def connection_page(person, connection_public_id, today=None):
    """One connection as its person sees it: the other's card and the contacts they may see,
    every encounter, their own side and any draft. A fixed number of queries, however many
    encounters. Raises NotFound unknown_connection for anyone but its two people, and for a
    connection the person removed (it is off their list)."""
    today = today or utcnow().date()
    other_side = aliased(ConnectionSide)
    row = db.session.execute(
        select(ConnectionSide, Connection, other_side)
        .join(Connection, ConnectionSide.connection_id == Connection.id)
        .outerjoin(other_side, and_(other_side.connection_id == Connection.id, other_side.person_id != person.id))
        .where(Connection.public_id == connection_public_id, ConnectionSide.person_id == person.id,
               ConnectionSide.removed_at.is_(None))).first()
    if row is None:
        raise NotFound("That connection isn't in your list.", "unknown_connection")
    side, connection, theirs = row
    other_id = connection.other_id(person.id)
    other = people.persons_with_details([other_id]).get(other_id) if other_id is not None else None
    return Entry(connection, side, other, connections.encounters_by_connection([connection.id]).get(connection.id, []),
                 contacts.visible_contacts(person, other), drafts.for_connections(person.id, [connection.id])
                 .get(connection.id), consent.state(connection, theirs if other is not None else None),
                 notes.current_status(side, today))
