"""A scan after it was made: what came of it, taking it back (Undo), and the card of the person
scanned, for the scanner page and the API.

Undo takes back exactly what the scan made (`Scan.made_connection`, `made_encounter`), and
only what the scanned person has not made their own: a connection they have seen, kept,
noted or written on stays, and so does an encounter they wrote on; the scan is then only
marked undone. Whatever goes, the scan's row stays as a tombstone (`undone_at`, and
`connection_id` NULL once the connection went), so the same scan replayed from an offline
queue records nothing again (connections.services.connect: scan_undone).
"""
from datetime import timedelta

from sqlalchemy import delete, select, update

from .. import changelog
from ..database import transaction, utcnow
from ..errors import DomainError, NotFound
from ..extensions import db
from .models import Connection, ConnectionSide, Encounter, Scan

# Long enough to notice a wrong badge and tap Undo; short enough that the other person has not
# yet come to rely on the connection.
UNDO_WINDOW = timedelta(minutes=10)


def scan_result(scanner, client_id):
    """The scanner's own scan with that client id; to anyone else it does not exist. Raises
    NotFound unknown_scan."""
    scan = db.session.scalar(select(Scan).where(Scan.client_id == (client_id or "").strip()[:64],
                                                Scan.scanner_id == scanner.id))
    if scan is None:
        raise NotFound("That scan isn't one of yours.", "unknown_scan")
    return scan


def undo(scanner, client_id, now=None):
    """Take back what the scanner's scan made, within UNDO_WINDOW of when it was recorded:

    - it made the pair's connection, no other scan was made of it since, and the scanned person
      has not touched it (not seen, kept, removed, noted, given a status, written on the shared
      line, pressed Done): the connection goes, with both sides and every encounter;
    - it made the pair's encounter at that event, no other scan of the pair was made there, and
      the scanned person has not written since: that encounter goes (the pair's latest meeting
      goes back to the one before);
    - otherwise nothing goes: the scan is marked undone, and its words stay where they are.

    Returns the scan. Undoing an undone scan changes nothing (a double tap, a retry). Raises
    NotFound unknown_scan (not the scanner's), DomainError undo_too_late.
    """
    scan = scan_result(scanner, client_id)
    now = now or utcnow()
    if scan.undone_at is not None:
        return scan
    if now - scan.created_at > UNDO_WINDOW:
        raise DomainError(f"Undo works for {UNDO_WINDOW.seconds // 60} minutes after a scan. Remove the "
                          "connection from your follow-up list instead.", "undo_too_late")
    with transaction():
        # The write comes first: it takes the scan's row lock (on SQLite, the write lock), so a
        # resend of this scan or a second Undo at the same instant goes wholly before or after.
        claimed = db.session.execute(update(Scan).where(Scan.id == scan.id, Scan.undone_at.is_(None))
                                     .values(undone_at=now).execution_options(synchronize_session=False))
        if claimed.rowcount == 1:
            connection_id = scan.connection_id
            took = _take_back(scan) if connection_id is not None else "nothing"
            changelog.record("scan.undone", changelog.person(scanner), scan=scan.id, connection=connection_id,
                             took=took)
    db.session.refresh(scan)
    return scan


def _take_back(scan):
    """Delete what the scan made, if it is still the scan's alone, in undo's transaction; returns
    what went: "connection", "encounter" or "nothing"."""
    # Locked (on PostgreSQL) in the order a scan locks them, the connection first, and then as an
    # edit does, encounters before sides: whichever comes second waits, neither deadlocks.
    db.session.execute(select(Connection.id).where(Connection.id == scan.connection_id).with_for_update())
    encounters = db.session.scalars(select(Encounter).where(Encounter.connection_id == scan.connection_id)
                                    .with_for_update().execution_options(populate_existing=True)).all()
    theirs = db.session.scalar(select(ConnectionSide).where(ConnectionSide.connection_id == scan.connection_id,
                                                            ConnectionSide.person_id == scan.scanned_id)
                               .with_for_update().execution_options(populate_existing=True))
    # Another scan of it (theirs, or the scanner's again) makes it more than this scan's, and
    # would hide an edit of theirs: every meeting touches both sides to its own instant.
    others = select(Scan.id).where(Scan.connection_id == scan.connection_id, Scan.id != scan.id)
    if not scan.made_connection:
        others = others.where(Scan.event_id == scan.event_id)
    another = db.session.scalar(others.limit(1)) is not None
    # With no other scan, a touch of their side after this scan arrived is theirs: an edit, Done.
    touched = theirs is not None and theirs.touched_at is not None and theirs.touched_at > scan.created_at
    alone = not another and not touched
    if scan.made_connection and alone and _untouched(theirs):
        sides = db.session.scalars(select(ConnectionSide.id)
                                   .where(ConnectionSide.connection_id == scan.connection_id)).all()
        # Its sides and encounters go with it (ON DELETE CASCADE); the scan stays, connection_id
        # NULL (ON DELETE SET NULL).
        db.session.execute(delete(Connection).where(Connection.id == scan.connection_id)
                           .execution_options(synchronize_session=False))
        _forget(Connection, {scan.connection_id})
        _forget(ConnectionSide, set(sides))
        _forget(Encounter, {e.id for e in encounters})
        return "connection"
    tonight = next((e for e in encounters if e.event_id == scan.event_id), None)
    if scan.made_encounter and not scan.made_connection and alone and tonight is not None and len(encounters) > 1:
        db.session.execute(delete(Encounter).where(Encounter.id == tonight.id)
                           .execution_options(synchronize_session=False))
        # The pair last met at their latest remaining encounter.
        latest = max(e.created_at for e in encounters if e.id != tonight.id)
        db.session.execute(update(Connection).where(Connection.id == scan.connection_id).values(last_met_at=latest)
                           .execution_options(synchronize_session=False))
        _forget(Encounter, {tonight.id})
        return "encounter"
    return "nothing"


def _untouched(side):
    """Whether the scanned person's side is as the scan made it: they have not seen it nor made
    any choice or note on it (None: their account is gone, and with it anything of theirs)."""
    return side is None or (
        side.acknowledged_at is None and side.removed_at is None and side.blocked_at is None
        and side.private_note == "" and side.status == "to_follow_up" and side.snoozed_until is None
        and side.reconnected_at is None and side.skipped_on is None)


def _forget(model, ids):
    """Drop the session's copies of rows the statements above deleted, found by their keys: once
    the commit expires them, reading one would fail."""
    for key, row in list(db.session.identity_map.items()):
        if key[0] is model and key[1][0] in ids:
            db.session.expunge(row)


def card(person, event=None):
    """What the scanner page shows of the person scanned: name, headline and their answers to the
    prompts ("ask me about"), the event's prompts first, in its order. No contact details: those
    follow the contact rule (connections.contacts) on the follow-up list. Read-only."""
    order = {label: i for i, label in enumerate(event.prompt_labels)} if event is not None else {}
    answers = sorted((a for a in person.answers if a.answer),
                     key=lambda a: (order.get(a.prompt, len(order)), a.position, a.id))
    return {"name": person.name, "headline": person.headline,
            "prompts": [{"label": a.prompt, "answer": a.answer} for a in answers]}
