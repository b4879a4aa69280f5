"""Scans, connections and encounters: the handshake that links two people.

connect() is the one way a connection is made; the scan page calls it now and an
offline sync or an API can call the same function later. It is safe to repeat and safe
to race: a pair has one connection, an event one encounter per pair, a client id one scan.
"""
import uuid

from sqlalchemy import func, select

from ..database import insert_if_absent, utcnow
from ..errors import DomainError
from ..events import services as events
from ..extensions import db
from ..people import services as people
from .models import Connection, ConnectionSide, Encounter, Scan

MAX_TEXT = 1000


def _merge_line(existing, addition):
    """Add a note to text without repeating it: a resent scan adds nothing.

    Raises too_long rather than store more than the follow-up form can edit.
    """
    addition = (addition or "").replace("\r\n", "\n").strip()
    existing = existing or ""
    if not addition or addition in existing.split("\n") or addition == existing:
        return existing
    merged = f"{existing}\n{addition}" if existing else addition
    if len(merged) > MAX_TEXT:
        raise DomainError(f"Your notes for this connection would pass {MAX_TEXT} characters. "
                          "Shorten them on your follow-up list, then add this.", "too_long")
    return merged


def _add_notes(connection, event_id, scanner_id, talked_about, private_note):
    """Merge the scan's notes into the encounter's shared line and the scanner's own note."""
    encounter = db.session.scalar(
        select(Encounter).where(Encounter.connection_id == connection.id, Encounter.event_id == event_id)
        .with_for_update())
    encounter.talked_about = _merge_line(encounter.talked_about, talked_about)
    if private_note and private_note.strip():
        side = db.session.scalar(select(ConnectionSide).where(
            ConnectionSide.connection_id == connection.id, ConnectionSide.person_id == scanner_id)
            .with_for_update())
        side.private_note = _merge_line(side.private_note, private_note)


def connection_between(person_id, other_id):
    a, b = sorted((person_id, other_id))
    return db.session.scalar(
        select(Connection).where(Connection.person_a_id == a, Connection.person_b_id == b))


def connect(scanner, badge_token, *, talked_about="", private_note="", client_id=None):
    """Connect the scanner with the badge's owner at the scanner's current event.

    Returns (connection, created). Raises DomainError: unknown_badge, revoked_badge,
    self_scan, not_checked_in, event_closed, too_long.
    """
    target = people.person_by_badge(badge_token)
    if target.id == scanner.id:
        raise DomainError("That's your own badge. Scan someone else's to connect.", "self_scan")
    if len(talked_about or "") > MAX_TEXT or len(private_note or "") > MAX_TEXT:
        raise DomainError(f"Keep notes under {MAX_TEXT} characters.", "too_long")
    client_id = (client_id or "").strip()[:64] or uuid.uuid4().hex
    earlier = db.session.scalar(select(Scan).where(Scan.client_id == client_id, Scan.scanner_id == scanner.id))
    if earlier is not None:
        # The same scan sent again (a retry, a back button, a sync after the event closed):
        # record nothing new but its notes.
        connection = db.session.get(Connection, earlier.connection_id)
        _add_notes(connection, earlier.event_id, scanner.id, talked_about, private_note)
        db.session.commit()
        return connection, False

    event = events.current_event_for(scanner.id)

    now = utcnow()
    a, b = sorted((scanner.id, target.id))
    created = insert_if_absent(Connection, {"person_a_id": a, "person_b_id": b, "first_event_id": event.id,
                                            "created_at": now, "last_met_at": now},
                               ["person_a_id", "person_b_id"])
    connection = connection_between(a, b)
    connection.last_met_at = now
    for person_id in (a, b):
        insert_if_absent(ConnectionSide, {"connection_id": connection.id, "person_id": person_id,
                                          "status": "to_follow_up", "private_note": "", "updated_at": now},
                         ["connection_id", "person_id"])
    insert_if_absent(Encounter, {"connection_id": connection.id, "event_id": event.id, "talked_about": "",
                                 "created_at": now, "updated_at": now},
                     ["connection_id", "event_id"])
    try:
        _add_notes(connection, event.id, scanner.id, talked_about, private_note)
    except DomainError:
        db.session.rollback()
        raise
    insert_if_absent(Scan, {"client_id": client_id, "scanner_id": scanner.id, "scanned_id": target.id,
                            "event_id": event.id, "connection_id": connection.id, "created_at": now},
                     ["client_id"])
    db.session.commit()
    return connection, created


def count_for_event(event):
    return db.session.scalar(select(func.count(Encounter.id)).where(Encounter.event_id == event.id))


def visible_contacts(viewer, person):
    """Contact fields the viewer may see: none unless connected, then only the shared ones."""
    if viewer is None or viewer.id == person.id or connection_between(viewer.id, person.id) is None:
        return []
    return person.shared_contacts


def encounters_of(connection):
    return db.session.scalars(
        select(Encounter).where(Encounter.connection_id == connection.id)
        .order_by(Encounter.created_at.desc())).all()
