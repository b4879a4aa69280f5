"""The follow-up list and the page of one connection: everyone a person met, with their own
status and note for each.

The rows belong to the connections domain; this module puts a page of them together in a
fixed number of queries (filters and search are conditions on the same statements, never a
query per row), and edits go through connections.notes.
"""
from dataclasses import dataclass, field

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import aliased, load_only

from ..connections import consent, contacts, notes
from ..connections import services as connections
from ..connections.models import FOLLOWUP_STATUSES, Connection, ConnectionSide, Encounter
from ..database import utcnow
from ..errors import NotFound
from ..events.models import Event
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
    """The events where this person met someone still on their list, newest first: one query."""
    return db.session.scalars(
        select(Event).where(exists().where(
            Encounter.event_id == Event.id, ConnectionSide.connection_id == Encounter.connection_id,
            ConnectionSide.person_id == person_id, ConnectionSide.removed_at.is_(None)))
        .order_by(Event.starts_at.desc(), Event.id.desc())).all()


def _listed(person_id, filters, event_id, today):
    """SELECT (side, connection, other side's id and removed_at, other person) of the person's
    list, filtered. A row needs only the other's name and headline, and of their side whether
    it exists and when it removed the connection."""
    other_side = aliased(ConnectionSide)
    other_id = case((Connection.person_a_id == person_id, Connection.person_b_id), else_=Connection.person_a_id)
    statement = (
        select(ConnectionSide, Connection, other_side.id, other_side.removed_at, Person)
        .options(load_only(Person.name, Person.headline))
        .join(Connection, ConnectionSide.connection_id == Connection.id)
        .outerjoin(other_side, and_(other_side.connection_id == Connection.id, other_side.person_id != person_id))
        .outerjoin(Person, Person.id == other_id)
        .where(ConnectionSide.person_id == person_id, ConnectionSide.removed_at.is_(None),
               notes.status_is(filters.status, today)))
    if event_id is not None:
        statement = statement.where(exists().where(Encounter.connection_id == Connection.id,
                                                   Encounter.event_id == event_id))
    if filters.q:
        pattern = f"%{escape_like(filters.q)}%"

        def like(column):
            return column.ilike(pattern, escape="\\")
        statement = statement.where(or_(
            like(Person.name), like(Person.headline), like(ConnectionSide.private_note),
            exists().where(PromptAnswer.person_id == Person.id, like(PromptAnswer.answer)),
            exists().where(Encounter.connection_id == Connection.id, like(Encounter.talked_about))))
    return statement


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
    listed = _listed(person.id, filters, event_id, today)
    if filters.sort == "untouched":
        order = (ConnectionSide.touched_at.asc().nulls_first(), Connection.id.asc())
    else:
        order = (Connection.last_met_at.desc(), Connection.id.desc())
    rows = db.session.execute(listed.order_by(*order).offset((number - 1) * size).limit(size + 1)).all()
    has_next = len(rows) > size
    rows = rows[:size]
    total = db.session.scalar(select(func.count()).select_from(listed.subquery())) if rows or number > 1 else 0
    encounters = connections.encounters_by_connection([connection.id for _, connection, _, _, _ in rows])
    entries = [Entry(connection, side, other, encounters.get(connection.id, []),
                     state=consent.state(connection, TheirSide(removed_at)
                                         if other is not None and their_side is not None else None),
                     status=notes.current_status(side, today))
               for side, connection, their_side, removed_at, other in rows]
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
