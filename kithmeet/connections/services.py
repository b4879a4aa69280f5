"""Scans, connections and encounters: the handshake that links two people.

connect() is the one way a connection is made; the scan page calls it now and an
offline sync or an API can call the same function later. It is safe to repeat and safe
to race: a pair has one connection, an event one encounter per pair, a client id one scan.
"""
import uuid

from flask import current_app
from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import aliased, joinedload

from .. import changelog, signals
from ..database import insert_if_absent, transaction, utcnow
from ..errors import DomainError
from ..events import services as events
from ..events.models import Event
from ..extensions import db
from ..people import services as people
from . import consent, notes
from .models import Connection, ConnectionSide, Encounter, Scan


def connection_between(person_id, other_id):
    a, b = sorted((person_id, other_id))
    return db.session.scalar(
        select(Connection).where(Connection.person_a_id == a, Connection.person_b_id == b))


def where_to_connect(scanner, target):
    """(event, existing connection or None) for a scan of `target` by `scanner`, checked without
    writing: the scanner's open event, which the series' organizers have not removed them from,
    and the target checked in there too, unless the two met before. Raises DomainError:
    not_checked_in, event_closed, removed_from_series, hidden_from_event, not_at_event (also for
    a target the organizers took off this event).

    A block is not a refusal here: a blocked scanner is never told (consent.on_rescan).
    """
    event = events.require_open_event(scanner.id)
    events.ensure_not_excluded(scanner.id, event)
    if events.is_hidden(target.id, event.id):
        # Taken off this event by its organizers: to the scanner they are simply not here.
        raise DomainError(f"{target.name} isn't checked in at {event.name}, so you can't connect here.",
                          "not_at_event")
    existing = connection_between(scanner.id, target.id)
    if existing is None and not events.is_checked_in(target.id, event.id):
        # Someone holding a photo of a badge must not connect from elsewhere.
        raise DomainError(f"{target.name} isn't checked in at {event.name}, so you can't connect here. "
                          "Once they check in, scan their badge again.", "not_at_event")
    return event, existing


def connect(scanner, badge_token, *, talked_about="", private_note="", client_id=None):
    """Connect the scanner with the badge's owner at the scanner's current event.

    Returns (connection, created). Everything is checked before anything is written, and
    the writes are one transaction: the connection, both sides (each side's `touched_at` set
    to now), tonight's encounter with its own talked-about line, and the scan. Raises
    DomainError: unknown_badge, revoked_badge, self_scan, too_long, not_checked_in,
    event_closed, removed_from_series, hidden_from_event, not_at_event.
    """
    target = people.person_by_badge(badge_token)
    if target.id == scanner.id:
        raise DomainError("That's your own badge. Scan someone else's to connect.", "self_scan")
    talked_about, private_note = notes.clean(talked_about), notes.clean(private_note)
    notes.check_words(talked_about, private_note)
    client_id = (client_id or "").strip()[:64] or uuid.uuid4().hex
    earlier = db.session.scalar(select(Scan).where(Scan.client_id == client_id))
    if earlier is not None and (earlier.scanner_id, earlier.scanned_id) != (scanner.id, target.id):
        # Another scan's id (a device's bug, or a copied form): not a resend of this scan,
        # so its words must not land on that other connection. Record this one on its own.
        client_id, earlier = uuid.uuid4().hex, None
    if earlier is not None:
        # The same scan sent again (a retry, a back button, a sync after the event closed):
        # record nothing new but its words. add_from_scan works out both merges before it
        # writes either, so there is nothing to check ahead of it here.
        events.ensure_not_excluded(scanner.id, db.session.get(Event, earlier.event_id))
        with transaction():
            notes.add_from_scan(earlier.connection_id, earlier.event_id, scanner.id, talked_about, private_note)
            changelog.record("connection.rescanned", changelog.person(scanner), connection=earlier.connection_id)
        return db.session.get(Connection, earlier.connection_id), False

    event, existing = where_to_connect(scanner, target)
    now = utcnow()
    a, b = sorted((scanner.id, target.id))
    if existing is not None:  # the rows below are written before the words: measure them first
        notes.check_scan_fits(existing.id, event.id, scanner.id, talked_about, private_note)
    blocked = False
    with transaction():
        created = insert_if_absent(Connection, {"person_a_id": a, "person_b_id": b, "first_event_id": event.id,
                                                "created_at": now, "last_met_at": now},
                                   ["person_a_id", "person_b_id"])
        connection = existing or connection_between(a, b)
        connection.last_met_at = now
        for person in (scanner, target):
            # Each side starts with its person's sharing choice; only the scanner has seen it yet.
            insert_if_absent(ConnectionSide, {"connection_id": connection.id, "person_id": person.id,
                                              "status": "to_follow_up", "private_note": "", "updated_at": now,
                                              "shares_contacts": person.share_on_connect,
                                              "acknowledged_at": now if person is scanner else None},
                             ["connection_id", "person_id"])
        # A meeting touches both sides: reconnect today (followup/reconnect.py) starts from the
        # longest untouched, and someone met tonight is not among them.
        db.session.execute(update(ConnectionSide).where(ConnectionSide.connection_id == connection.id)
                           .values(touched_at=now).execution_options(synchronize_session=False))
        if not created:
            blocked = consent.on_rescan(connection.id, scanner, target.id, now)
        insert_if_absent(Encounter, {"connection_id": connection.id, "event_id": event.id, "talked_about": "",
                                     "created_at": now, "updated_at": now},
                         ["connection_id", "event_id"])
        notes.add_from_scan(connection.id, event.id, scanner.id, talked_about, private_note)
        insert_if_absent(Scan, {"client_id": client_id, "scanner_id": scanner.id, "scanned_id": target.id,
                                "event_id": event.id, "connection_id": connection.id, "created_at": now},
                         ["client_id"])
        if created:
            signals.connection_made.send(current_app._get_current_object(), connection_id=connection.id,
                                         person_ids=(a, b), event_id=event.id, scanner_id=scanner.id)
        changelog.record("connection.made" if created else "connection.met_again", changelog.person(scanner),
                         connection=connection.id, event=event.id, blocked=blocked)
    return connection, created


def count_for_event(event):
    return db.session.scalar(select(func.count(Encounter.id)).where(Encounter.event_id == event.id))


def encounters_of(connection):
    """The pair's encounters, newest first, each with its event: one query, however many."""
    return db.session.scalars(
        select(Encounter).options(joinedload(Encounter.event)).where(Encounter.connection_id == connection.id)
        .order_by(Encounter.created_at.desc(), Encounter.id.desc())).all()


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
