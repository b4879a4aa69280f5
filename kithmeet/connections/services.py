"""Scans, connections and encounters: the handshake that links two people.

connect() is the one way a connection is made: the scan page, the in-page scanner and the
API (an offline queue syncing late among its callers) all call it. It is safe to repeat and
safe to race: a pair has one connection, an event one encounter per pair, a client id one
scan. What comes after a scan (its result, Undo, the card) is in scans.py.
"""
import uuid
from dataclasses import dataclass
from functools import cache

from flask import current_app
from sqlalchemy import (Boolean, DateTime, Integer, String, Text, and_, bindparam, case, func, literal, or_, select,
                        inspect, true, union_all, update)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased, joinedload

from .. import changelog, signals
from ..database import insert_if_absent_statement, transaction, utcnow
from ..errors import DomainError
from ..events import scan_places
from ..events import services as events
from ..events.models import Event
from ..extensions import db
from ..people import services as people
from . import consent, notes
from .models import Connection, ConnectionSide, Encounter, Scan


@cache
def _between():
    """connection_between's statement, built once per process (on first use, once every mapper
    is configured): building it on every call cost more than running it."""
    return select(Connection).where(Connection.person_a_id == bindparam("a", type_=Integer),
                                    Connection.person_b_id == bindparam("b", type_=Integer))


def connection_between(person_id, other_id):
    a, b = sorted((person_id, other_id))
    return db.session.scalar(_between(), {"a": a, "b": b})


def where_to_connect(scanner, target, at=None):
    """(event, existing connection or None) for a scan of `target` by `scanner` made at `at`
    (None: now), checked without writing: the scanner's event at that time
    (scan_places.event_for_scan), which the series' organizers have not removed them from, and the
    target checked in there too, unless the two met before. Raises DomainError:
    not_checked_in, event_closed, removed_from_series, hidden_from_event, not_at_event (also for
    a target the organizers took off this event).

    A block is not a refusal here: a blocked scanner is never told (consent.on_rescan).
    """
    event, existing, _ = _where_and_when(scanner, target, at)
    return event, db.session.get(Connection, existing) if existing is not None else None


@cache
def _place_and_pair():
    """scan_places.scan_place's statement with the pair's connection (or NULLs) joined on: one query
    where the scan page and every connect asked two. Built once per process."""
    return scan_places.scan_place_statement().add_columns(Connection.id).outerjoin(
        Connection, and_(Connection.person_a_id == bindparam("a", type_=Integer),
                         Connection.person_b_id == bindparam("b", type_=Integer)))


def _where_and_when(scanner, target, at, now=None):
    """where_to_connect's (event, existing connection's id), and the moment the scan counts as there
    (scan_places.event_for_scan: never before the scanner's check-in nor the event's opening, never
    after `now`)."""
    a, b = sorted((scanner.id, target.id))
    place = scan_places.scan_place(scanner.id, target.id, at or utcnow(), now, statement=_place_and_pair(),
                                   params={"a": a, "b": b})
    event, moment = place.event, place.moment
    if place.target_hidden:
        # Taken off this event by its organizers: to the scanner they are simply not here.
        raise DomainError(f"{target.name} isn't checked in at {event.name}, so you can't connect here.",
                          "not_at_event")
    existing = place.extra[0]
    if existing is None and not place.target_checked_in:
        # Someone holding a photo of a badge must not connect from elsewhere.
        raise DomainError(f"{target.name} isn't checked in at {event.name}, so you can't connect here. "
                          "Once they check in, scan their badge again.", "not_at_event")
    return event, existing, moment


def _scan_undone():
    return DomainError("You undid this scan, so it wasn't added again. Scan the badge again to connect.",
                       "scan_undone", status=409)


@dataclass(frozen=True)
class Recorded:
    """A scan's row as `connect_scan` left it, read before its commit expired the row: what the
    API answers about the scan (api/serialise.scan) without reading it back."""
    client_id: str
    scanned_id: int
    event_id: int
    made_connection: bool
    scanned_at: object
    created_at: object
    connection_public_id: str
    undone_at: object = None


class Connected:
    """What one call of `connect_scan` did: `created` the pair's connection, or `repeat`: the
    client id was recorded before (by an earlier send, or a racing one), so only words were added.
    `scan`: the scan as recorded (Recorded). `connection` is read when asked for: the pages and
    the API need only what `scan` holds, and a connect reads no row it does not need."""

    def __init__(self, connection_id, created, repeat, scan=None, connection=None):
        self.connection_id, self.created, self.repeat, self.scan = connection_id, created, repeat, scan
        self._connection = connection

    @property
    def connection(self):
        if self._connection is None:
            self._connection = db.session.get(Connection, self.connection_id)
        return self._connection


def _client_id_taken():
    return DomainError("That client id belongs to another scan. Make a new one for each scan.",
                       "client_id_taken", status=409)


def connect(scanner, badge_token, *, talked_about="", private_note="", client_id=None, scanned_at=None, owner=None):
    """(connection, created): `connect_scan`, for callers that need not tell a repeat from a first send."""
    done = connect_scan(scanner, badge_token, talked_about=talked_about, private_note=private_note,
                        client_id=client_id, scanned_at=scanned_at, owner=owner)
    return done.connection, done.created


def connect_scan(scanner, badge_token, *, talked_about="", private_note="", client_id=None, scanned_at=None,
                 client_id_taken="renew", owner=None):
    """Connect the scanner with the badge's owner at the event where the scan was made.

    Returns a `Connected`. `scanned_at` is the device's time of the scan (naive UTC;
    None, or anything later than now, is now): a scan queued offline syncs late and counts at
    the scanner's event of that time, even one closed since (scan_places.event_for_scan); a time
    before the scanner's check-in there (or its opening) counts as that instant. Everything
    is checked before anything is written, and the writes are one transaction: the connection,
    both sides (each side's `touched_at` moved up to the meeting), that event's encounter with
    its own talked-about line, and the scan, which remembers what it made (`made_connection`,
    `made_encounter`) for connections.scans.undo. A client id records once, however often and
    however concurrently it is sent: a repeat adds only its words (`repeat`, not `created`);
    a repeat of an undone scan writes nothing. A client id that another scan holds (another
    badge, another scanner: a client's bug, a copied form) is `client_id_taken`: "renew" records
    this scan under a new id (the page, whose id only stops a double send), "refuse" refuses it
    (the API, whose client must be able to undo what it sent by its id); decided where the id is
    claimed, so a racing claim cannot make it answer differently from what it wrote. Raises
    DomainError: unknown_badge, revoked_badge, self_scan, too_long, control_characters,
    not_checked_in, event_closed, removed_from_series, hidden_from_event, not_at_event,
    scan_undone (409), client_id_taken (409, "refuse" only).

    `owner`: the badge's owner (people.badge_owner's, or a Person), when the caller looked the
    token up already (the scan page), so it is not asked twice; used only while it still holds that badge.
    """
    if client_id_taken not in ("renew", "refuse"):
        raise ValueError(f"client_id_taken is 'renew' or 'refuse', not {client_id_taken!r}")
    held = owner is not None and owner.badge_token == badge_token
    target = owner if held else people.badge_owner(badge_token)
    if target.id == scanner.id:
        raise DomainError("That's your own badge. Scan someone else's to connect.", "self_scan")
    talked_about, private_note = notes.clean(talked_about), notes.clean(private_note)
    notes.check_words(talked_about, private_note)
    now = utcnow()
    # The device's clock may run ahead: a scan is never recorded as made after it arrived.
    met_at = min(scanned_at, now) if scanned_at is not None else now
    client_id = (client_id or "").strip()[:64] or uuid.uuid4().hex
    earlier = _scan_by_client_id(client_id)
    if earlier is not None and not _same_scan(earlier, scanner, target):
        if client_id_taken == "refuse":
            raise _client_id_taken()
        client_id, earlier = uuid.uuid4().hex, None
    if earlier is not None:
        return _again(earlier, scanner, talked_about, private_note)

    event, existing, met_at = _where_and_when(scanner, target, met_at, now)
    a, b = sorted((scanner.id, target.id))
    words = bool(talked_about or private_note)  # none (the usual scan): nothing to merge, nor to measure
    if existing is not None and words:  # the rows below are written before the words: measure them first
        notes.check_scan_fits(existing, event.id, scanner.id, talked_about, private_note)
    blocked = False
    # One short write transaction (on SQLite it holds the database's write lock from its first
    # write to its commit, while every other connect waits): everything above decided it, and each
    # statement in it is built once (_writes) and runs on the session's connection, past the ORM
    # (nothing is pending in the session to flush first). expire=False: nothing the session holds
    # is changed by these statements but what they expire themselves, so the page and the API
    # read none of it again after the commit.
    writes = _writes(db.session.get_bind().dialect.name)
    with transaction(expire=False):
        run = db.session.connection().execute
        # The client id is claimed first: of identical sends racing, one records the scan and
        # the others wait for it here (a unique index), then add only their words.
        scan = {"scanner_id": scanner.id, "scanned_id": target.id, "event_id": event.id, "created_at": now,
                "scanned_at": met_at}
        if run(writes.scan, {"client_id": client_id, **scan}).first() is None:
            earlier = _scan_by_client_id(client_id)
            if _same_scan(earlier, scanner, target):
                return _again(earlier, scanner, talked_about, private_note)
            if client_id_taken == "refuse":  # claimed by another scan since the check above
                raise _client_id_taken()
            client_id = uuid.uuid4().hex
            run(writes.scan, {"client_id": client_id, **scan})
        pair = {"person_a_id": a, "person_b_id": b, "first_event_id": event.id, "created_at": met_at,
                "last_met_at": met_at}
        made = run(writes.connection, pair).first() if existing is None else None
        # Met before, or a racing scan of the pair made it since it was read: only moved up. A
        # scan that syncs late never moves the pair's latest meeting back.
        row = made or run(writes.met_again, {"a": a, "b": b, "met_at": met_at}).first()
        if row is None:  # an Undo took the connection back since it was read: made anew
            made = row = run(writes.connection, pair).first()
            if row is None:
                raise DomainError("That could not be saved; try again.", "conflict")
        connection_id, public_id = row
        created = made is not None
        if created:
            existing = None  # the one read went with an Undo
        elif existing is not None:
            _expire_met_at(existing)
        # Each side starts with its person's sharing choice; only the scanner has seen it yet. A
        # side that is there already is only touched: a meeting touches both sides, so reconnect
        # today (followup/reconnect.py) starts from the longest untouched, and someone met
        # tonight is not among them.
        run(writes.sides, {"connection_id": connection_id, "met_at": met_at, "now": now,
                           "scanner_id": scanner.id, "scanner_shares": scanner.share_on_connect,
                           "target_id": target.id, "target_shares": target.share_on_connect})
        if not created:
            blocked = consent.on_rescan(connection_id, scanner, target.id, now)
        made_encounter = run(writes.encounter, {"connection_id": connection_id, "event_id": event.id,
                                                "talked_about": notes.new_encounter_line(talked_about),
                                                "created_at": met_at, "updated_at": now}).first() is not None
        # An encounter made just now holds the words already (no read and rewrite of it); one from
        # before, and a private note, are merged as notes.py merges them.
        if private_note or (talked_about and not made_encounter):
            notes.add_from_scan(connection_id, event.id, scanner.id, "" if made_encounter else talked_about,
                                private_note)
        run(writes.result, {"key": client_id, "made_connection_id": connection_id, "made_it": created,
                            "made_meeting": made_encounter})
        if created:
            signals.connection_made.send(current_app._get_current_object(), connection_id=connection_id,
                                         person_ids=(a, b), event_id=event.id, scanner_id=scanner.id)
        changelog.record("connection.made" if created else "connection.met_again", changelog.person(scanner),
                         connection=connection_id, event=event.id, blocked=blocked)
        recorded = Recorded(client_id, target.id, event.id, created, met_at, now, public_id)
    return Connected(connection_id, created, repeat=False, scan=recorded)


def _expire_met_at(connection_id):
    """A connection the session holds has its latest meeting read again (the write moved it up)."""
    held = db.session.identity_map.get(inspect(Connection).identity_key_from_primary_key((connection_id,)))
    if held is not None:
        db.session.expire(held, ["last_met_at"])


@dataclass(frozen=True)
class _Writes:
    scan: object  # the scan, or no row when its client id is taken (database.insert_if_absent)
    connection: object  # a new connection, or no row when the pair has one: (id, public_id)
    met_again: object  # the pair's latest meeting moved up to :met_at: (id, public_id)
    sides: object  # both sides made, or (already there) touched
    encounter: object  # the pair's encounter at the event, or no row when they met there before
    result: object  # what the scan made


@cache
def _writes(dialect):
    """connect_scan's writes, built once per process (on first use: the database kind decides
    the INSERT ... ON CONFLICT form): building them on every call cost more than running them."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    connection, side, scan = Connection.__table__, ConnectionSide.__table__, Scan.__table__
    met_at, now = bindparam("met_at", type_=DateTime()), bindparam("now", type_=DateTime())
    # Both sides as INSERT ... SELECT of two rows: a multi-row VALUES has no cache key, so
    # SQLAlchemy compiled it again on every connect (a tenth of the connect's time). WHERE true:
    # SQLite reads the ON of an upsert after a SELECT without one as a join's.
    sides = insert(side).from_select(
        ["connection_id", "person_id", "status", "private_note", "shares_contacts", "acknowledged_at",
         "touched_at", "updated_at"],
        union_all(*(select(bindparam("connection_id", type_=Integer()), bindparam(person, type_=Integer()),
                           literal("to_follow_up", String(20)), literal("", Text()),
                           bindparam(shares, type_=Boolean()), acknowledged, met_at, now).where(true())
                    for person, shares, acknowledged in (("scanner_id", "scanner_shares", now),
                                                         ("target_id", "target_shares", literal(None, DateTime()))))),
        include_defaults=False)
    return _Writes(
        scan=insert_if_absent_statement(Scan, ("client_id",), dialect=dialect),
        encounter=insert_if_absent_statement(Encounter, ("connection_id", "event_id"), dialect=dialect),
        connection=insert(connection).on_conflict_do_nothing(index_elements=["person_a_id", "person_b_id"])
        .returning(connection.c.id, connection.c.public_id),
        met_again=update(connection).where(connection.c.person_a_id == bindparam("a", type_=Integer()),
                                           connection.c.person_b_id == bindparam("b", type_=Integer()))
        .values(last_met_at=_later(connection.c.last_met_at, met_at))
        .returning(connection.c.id, connection.c.public_id),
        # ON CONFLICT's UPDATE runs no column's onupdate: updated_at is set here, as an UPDATE would.
        sides=sides.on_conflict_do_update(index_elements=["connection_id", "person_id"], set_={
            "touched_at": _later(side.c.touched_at, sides.excluded.touched_at),
            "updated_at": sides.excluded.updated_at}),
        result=update(scan).where(scan.c.client_id == bindparam("key", type_=String()))
        .values(connection_id=bindparam("made_connection_id", type_=Integer()),
                made_connection=bindparam("made_it", type_=Boolean()),
                made_encounter=bindparam("made_meeting", type_=Boolean())))


@cache
def _scan_by_client_id_statement():
    return select(Scan.__table__).where(Scan.client_id == bindparam("key", type_=String()))


def _scan_by_client_id(client_id):
    """The scan recorded under a client id, as the database has it now (a row, not an entity)."""
    return db.session.connection().execute(_scan_by_client_id_statement(), {"key": client_id}).first()


def _same_scan(earlier, scanner, target):
    """Whether a stored scan is this one sent again. Another scan's id (a device's bug, a copied
    form) is not: its words must not land on that other connection (connect_scan's
    `client_id_taken` says whether this scan then records under a new id or is refused)."""
    return (earlier.scanner_id, earlier.scanned_id) == (scanner.id, target.id)


def _later(column, when):
    """The column's value or `when`, whichever is later (NULL counts as earliest), in SQL."""
    return case((or_(column.is_(None), column < when), when), else_=column)


def _again(earlier, scanner, talked_about, private_note):
    """A scan sent again (a retry, a back button, an offline queue replayed): record nothing new
    but its words. Refused (scan_undone) once it was undone, and nothing is written."""
    if earlier.undone_at is not None or earlier.connection_id is None:
        raise _scan_undone()
    events.ensure_not_excluded(scanner.id, db.session.get(Event, earlier.event_id))
    with transaction():
        # The scan's row first, then the encounter (in add_from_scan), in the order an Undo locks
        # them: on PostgreSQL an Undo at the same instant waits for this whole, or this for it.
        if _current(earlier).undone_at is not None:
            raise _scan_undone()
        # add_from_scan works out both merges before it writes either: nothing to check ahead of it.
        if not notes.add_from_scan(earlier.connection_id, earlier.event_id, scanner.id, talked_about, private_note):
            raise _scan_undone()  # its encounter went with an Undo since
        # On SQLite a read takes no lock: an Undo may have committed before the words above were
        # written. Asked again now that any write of ours holds the database's write lock.
        current = _current(earlier)
        if current.undone_at is not None:
            raise _scan_undone()
        changelog.record("connection.rescanned", changelog.person(scanner), connection=earlier.connection_id)
        connection = db.session.get(Connection, earlier.connection_id)
        recorded = Recorded(current.client_id, current.scanned_id, current.event_id, current.made_connection,
                            current.scanned_at, current.created_at, connection.public_id)
    return Connected(connection.id, created=False, repeat=True, scan=recorded, connection=connection)


def _current(scan):
    """The scan's row as the database has it now, locked (FOR UPDATE) on PostgreSQL."""
    return db.session.scalar(select(Scan).where(Scan.id == scan.id).with_for_update()
                             .execution_options(populate_existing=True))


def count_for_event(event):
    return db.session.scalar(select(func.count(Encounter.id)).where(Encounter.event_id == event.id))


@cache
def _encounters():
    return (select(Encounter).options(joinedload(Encounter.event))
            .where(Encounter.connection_id == bindparam("connection_id", type_=Integer))
            .order_by(Encounter.created_at.desc(), Encounter.id.desc()))


def encounters_of(connection):
    """The pair's encounters, newest first, each with its event: one query, however many."""
    return db.session.scalars(_encounters(), {"connection_id": connection.id}).all()


def sides_page(person_id, offset, limit):
    """(side, connection, other side or None) rows of the person's list, newest meeting first, and
    the total. Connections the person removed are not on it. The other side is None once that
    person deleted their account (their side goes with it, and the connection keeps a NULL)."""
    listed = and_(ConnectionSide.person_id == person_id, ConnectionSide.removed_at.is_(None))
    other = aliased(ConnectionSide)
    rows = db.session.execute(
        select(ConnectionSide, Connection, other).join(Connection, ConnectionSide.connection_id == Connection.id)
        .outerjoin(other, and_(other.connection_id == Connection.id, other.person_id != person_id))
        .where(listed)
        .order_by(Connection.last_met_at.desc(), Connection.id.desc())
        .offset(offset).limit(limit)).all()
    total = db.session.scalar(select(func.count(ConnectionSide.id)).where(listed))
    return rows, total


def encounters_by_connection(connection_ids):
    """{connection id: [encounters, newest first]}, each with its event and the event's series
    (whose zone dates it): one query."""
    encounters = {}
    if connection_ids:
        for encounter in db.session.scalars(
                select(Encounter).options(joinedload(Encounter.event).joinedload(Event.series))
                .where(Encounter.connection_id.in_(connection_ids))
                .order_by(Encounter.created_at.desc(), Encounter.id.desc())):
            encounters.setdefault(encounter.connection_id, []).append(encounter)
    return encounters
