"""Each person's say over a connection: being told of it, keeping it, confirming that their
contacts may show, removing it and blocking the other person.

A connection has two sides, one per person, and everything here writes only the acting
person's own side (the scan that reconnects a pair is the one exception, in `on_rescan`):

- `acknowledged_at`: NULL until the person has seen the connection. The scanner's side is
  acknowledged as it is made; the scanned person is told by a banner on every page until
  they keep, confirm, remove or block it on the review page.
- `shares_contacts`: copied from `person.share_on_connect` when the side is made; the
  person sets it by confirming. connections/contacts.py reads it.
- `removed_at`: off this person's list, and contacts hidden both ways. The other person
  keeps their entry, shown as "no longer connected", until they meet again.
- `blocked_at`: removed, and a later scan by the other person changes nothing this person
  sees. The scanner is not told: to them it looks like a scan of someone who shares only
  after confirming and has not confirmed yet.
"""
from dataclasses import dataclass
from functools import cache

from flask import current_app
from sqlalchemy import Integer, and_, bindparam, func, select, update
from sqlalchemy.orm import aliased

from .. import changelog, signals
from ..database import transaction, utcnow
from ..errors import DomainError, NotFound
from ..extensions import db
from .models import Connection, ConnectionSide
from .notes import own_side

CONNECTED, NO_LONGER_CONNECTED, ACCOUNT_DELETED = "connected", "no-longer-connected", "account-deleted"


def state(connection, other_side):
    """How a connection stands for one side, given the other side's row (None once that person
    deleted their account, which deletes their side). A removal by the other person counts
    until the pair meets again: a scan after it moves `last_met_at` past `removed_at`."""
    if other_side is None or None in (connection.person_a_id, connection.person_b_id):
        return ACCOUNT_DELETED
    if other_side.removed_at is not None and other_side.removed_at >= connection.last_met_at:
        return NO_LONGER_CONNECTED
    return CONNECTED


@cache
def _statements():
    """(sides, pending count): statements asked on every scan page and every page's banner, built
    once per process (on first use, once every mapper is configured) rather than per call."""
    person = bindparam("person_id", type_=Integer)
    return (select(ConnectionSide).where(ConnectionSide.connection_id == bindparam("connection_id", type_=Integer)),
            select(func.count(ConnectionSide.id)).where(_pending(person)))


def sides(connection, person_id):
    """(the person's side, the other side or None) of a connection: one query."""
    rows = db.session.scalars(_statements()[0], {"connection_id": connection.id}).all()
    mine = next((side for side in rows if side.person_id == person_id), None)
    return mine, next((side for side in rows if side.person_id != person_id), None)


def _pending(person_id):
    return and_(ConnectionSide.person_id == person_id, ConnectionSide.acknowledged_at.is_(None),
                ConnectionSide.removed_at.is_(None))


def pending_count(person):
    """How many connections the person has not seen yet: one COUNT, for the banner on every page,
    read from ix_connection_side_listed alone (models.ConnectionSide) on the session's connection
    (no ORM layer for a number)."""
    return db.session.connection().execute(_statements()[1], {"person_id": person.id}).scalar_one()


def pending_rows(person):
    """(side, connection, other side or None) of the connections the person has not seen yet, newest first."""
    other = aliased(ConnectionSide)
    return db.session.execute(
        select(ConnectionSide, Connection, other)
        .join(Connection, ConnectionSide.connection_id == Connection.id)
        .outerjoin(other, and_(other.connection_id == Connection.id, other.person_id != person.id))
        .where(_pending(person.id))
        .order_by(Connection.last_met_at.desc(), Connection.id.desc())).all()


@dataclass
class Change:
    """What a consent action did: False when it was done already (a double tap, another device)."""
    side: ConnectionSide
    changed: bool


def _side(person, connection_public_id, *, allow_removed=False):
    side = own_side(person, connection_public_id)
    if side.removed_at is not None and not allow_removed:
        raise NotFound("That connection isn't in your list.", "unknown_connection")
    return side


def _set(side, condition, **values):
    """A conditional UPDATE of one side: True when it changed (a repeat, or a race lost, writes nothing)."""
    result = db.session.execute(
        update(ConnectionSide).where(ConnectionSide.id == side.id, condition)
        .values(updated_at=utcnow(), **values).execution_options(synchronize_session=False))
    db.session.expire(side)
    return result.rowcount == 1


def keep(person, connection_public_id):
    """The person has seen the connection and keeps it as it is. Raises NotFound unknown_connection."""
    side = _side(person, connection_public_id)
    with transaction():
        changed = _set(side, ConnectionSide.acknowledged_at.is_(None), acknowledged_at=utcnow())
        if changed:
            changelog.record("connection.kept", changelog.person(person), connection=side.connection_id)
    return Change(side, changed)


def confirm(person, connection_public_id):
    """Keep the connection and let the person's shared contact fields show to the other.
    Raises NotFound unknown_connection."""
    side = _side(person, connection_public_id)
    now = utcnow()
    with transaction():
        changed = _set(side, ConnectionSide.shares_contacts.is_(False), shares_contacts=True)
        changed = _set(side, ConnectionSide.acknowledged_at.is_(None), acknowledged_at=now) or changed
        if changed:
            changelog.record("connection.confirmed", changelog.person(person), connection=side.connection_id)
    return Change(side, changed)


def _removable(person, connection_public_id):
    side = _side(person, connection_public_id, allow_removed=True)
    if None in (side.connection.person_a_id, side.connection.person_b_id):
        raise DomainError("That person deleted their account; there is nothing to remove.", "account_deleted")
    return side


def _remove(person, side, now):
    """Take the connection off the person's list, in the caller's transaction; True if it was on it."""
    removed = _set(side, ConnectionSide.removed_at.is_(None), removed_at=now,
                   acknowledged_at=func.coalesce(ConnectionSide.acknowledged_at, now))
    if removed:
        connection = side.connection
        signals.connection_removed.send(current_app._get_current_object(), connection_id=connection.id,
                                        person_ids=(connection.person_a_id, connection.person_b_id),
                                        removed_by=person.id)
    return removed


def remove(person, connection_public_id):
    """Remove a connection: off the person's list, and neither sees the other's contacts from now
    on. The other person keeps their entry, notes and shared line, shown as "no longer connected".
    Sends connection_removed. Raises NotFound unknown_connection, DomainError account_deleted."""
    side = _removable(person, connection_public_id)
    with transaction():
        changed = _remove(person, side, utcnow())
        if changed:
            changelog.record("connection.removed", changelog.person(person), connection=side.connection_id)
    return Change(side, changed)


def block(person, connection_public_id):
    """Remove the connection (if it is not already) and refuse the other person's later scans,
    without telling them (see `on_rescan`). Raises NotFound unknown_connection, DomainError
    account_deleted."""
    side = _removable(person, connection_public_id)
    now = utcnow()
    with transaction():
        _remove(person, side, now)
        changed = _set(side, ConnectionSide.blocked_at.is_(None), blocked_at=now)
        if changed:
            changelog.record("connection.blocked", changelog.person(person), connection=side.connection_id)
    return Change(side, changed)


def on_rescan(connection_id, scanner, target_id, now):
    """A scan of a pair that was already connected, in connect's transaction. Returns whether the
    scanned person had blocked the scanner.

    The scanner plainly knows of the connection: their side is acknowledged, and if they had
    removed it, scanning again is their choice to reconnect (their sharing choice applies
    afresh). The scanned person's removal is undone only as far as they confirm: their side
    comes back not sharing contacts and not acknowledged, so they are told again. A block is
    left exactly as it is; the scan still records (the caller moves `last_met_at`), so the
    scanner sees what they would see of someone who has not confirmed yet.
    """
    mine = and_(ConnectionSide.connection_id == connection_id, ConnectionSide.person_id == scanner.id)
    theirs = and_(ConnectionSide.connection_id == connection_id, ConnectionSide.person_id == target_id)
    for condition, values in (
            (and_(mine, ConnectionSide.removed_at.is_not(None)),
             {"removed_at": None, "blocked_at": None, "acknowledged_at": now,
              "shares_contacts": scanner.share_on_connect}),
            (and_(mine, ConnectionSide.acknowledged_at.is_(None)), {"acknowledged_at": now}),
            (and_(theirs, ConnectionSide.removed_at.is_not(None), ConnectionSide.blocked_at.is_(None)),
             {"removed_at": None, "shares_contacts": False, "acknowledged_at": None})):
        db.session.execute(update(ConnectionSide).where(condition).values(updated_at=now, **values)
                           .execution_options(synchronize_session=False))
    for row in list(db.session.identity_map.values()):  # sides this session holds are stale now
        if isinstance(row, ConnectionSide) and row.connection_id == connection_id:
            db.session.expire(row)
    return db.session.scalar(select(ConnectionSide.blocked_at.is_not(None)).where(theirs)) or False
