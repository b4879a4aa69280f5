"""Scans, connections and encounters: the handshake that links two people.

connect() is the one way a connection is made; the scan page calls it now and an
offline sync or an API can call the same function later. It is safe to repeat and safe
to race: a pair has one connection, an event one encounter per pair, a client id one scan.
"""
import uuid

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from .. import changelog, signals
from ..database import insert_if_absent, transaction, utcnow
from ..errors import DomainError
from ..events import services as events
from ..extensions import db
from ..people import services as people
from . import notes
from .models import Connection, ConnectionSide, Encounter, Scan


def connection_between(person_id, other_id):
    a, b = sorted((person_id, other_id))
    return db.session.scalar(
        select(Connection).where(Connection.person_a_id == a, Connection.person_b_id == b))


def connect(scanner, badge_token, *, talked_about="", private_note="", client_id=None):
    """Connect the scanner with the badge's owner at the scanner's current event.

    Returns (connection, created). Everything is checked before anything is written, and
    the writes are one transaction. Raises DomainError: unknown_badge, revoked_badge,
    self_scan, too_long, not_checked_in, event_closed.
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
        with transaction():
            notes.add_from_scan(earlier.connection_id, earlier.event_id, scanner.id, talked_about, private_note)
            changelog.record("connection.rescanned", changelog.person(scanner), connection=earlier.connection_id)
        return db.session.get(Connection, earlier.connection_id), False

    event = events.require_open_event(scanner.id)
    now = utcnow()
    a, b = sorted((scanner.id, target.id))
    existing = connection_between(a, b)
    if existing is not None:  # the rows below are written before the words: measure them first
        notes.check_scan_fits(existing.id, event.id, scanner.id, talked_about, private_note)
    with transaction():
        created = insert_if_absent(Connection, {"person_a_id": a, "person_b_id": b, "first_event_id": event.id,
                                                "created_at": now, "last_met_at": now},
                                   ["person_a_id", "person_b_id"])
        connection = existing or connection_between(a, b)
        connection.last_met_at = now
        for person_id in (a, b):
            insert_if_absent(ConnectionSide, {"connection_id": connection.id, "person_id": person_id,
                                              "status": "to_follow_up", "private_note": "", "updated_at": now},
                             ["connection_id", "person_id"])
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
                         connection=connection.id, event=event.id)
    return connection, created


def count_for_event(event):
    return db.session.scalar(select(func.count(Encounter.id)).where(Encounter.event_id == event.id))


def encounters_of(connection):
    return db.session.scalars(
        select(Encounter).where(Encounter.connection_id == connection.id)
        .order_by(Encounter.created_at.desc())).all()


def sides_page(person_id, offset, limit):
    """(side, connection) rows of the person's list, newest meeting first, and the total."""
    rows = db.session.execute(
        select(ConnectionSide, Connection).join(Connection, ConnectionSide.connection_id == Connection.id)
        .where(ConnectionSide.person_id == person_id)
        .order_by(Connection.last_met_at.desc(), Connection.id.desc())
        .offset(offset).limit(limit)).all()
    total = db.session.scalar(select(func.count(ConnectionSide.id)).where(ConnectionSide.person_id == person_id))
    return rows, total


def encounters_by_connection(connection_ids):
    """{connection id: [encounters, newest first]}, each with its event: one query."""
    encounters = {}
    if connection_ids:
        for encounter in db.session.scalars(
                select(Encounter).options(joinedload(Encounter.event))
                .where(Encounter.connection_id.in_(connection_ids))
                .order_by(Encounter.created_at.desc(), Encounter.id.desc())):
            encounters.setdefault(encounter.connection_id, []).append(encounter)
    return encounters
