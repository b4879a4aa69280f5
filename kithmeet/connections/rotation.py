"""Each side's place in "reconnect today" (followup/reconnect.py): "Done" and "not today".

Both write only the acting person's own side: `reconnected_at` and `touched_at` for Done
(reaching out is a touch, so they go to the back of the rotation) and the status "followed
up" through notes.py (the status's one writer), `skipped_on` for not today (off today's
picks, back from tomorrow).
"""
from .. import changelog
from ..database import transaction, utcnow
from ..errors import DomainError, NotFound
from .notes import mark_followed_up, own_side


def _listed_side(person, connection_public_id):
    """The person's side of a connection on their list; to anyone else it does not exist."""
    side = own_side(person, connection_public_id)
    if side.removed_at is not None:
        raise NotFound("That connection isn't in your list.", "unknown_connection")
    if None in (side.connection.person_a_id, side.connection.person_b_id):
        raise DomainError("That person deleted their account; there is no one to reconnect with.",
                          "account_deleted")
    return side


def done(person, connection_public_id, now=None):
    """The person reached out: followed up, off the rotation for 30 days, and touched now.
    Raises NotFound unknown_connection, DomainError account_deleted."""
    side = _listed_side(person, connection_public_id)
    now = now or utcnow()
    with transaction():
        side.reconnected_at = now
        side.touched_at = now
        mark_followed_up(side)
        changelog.record("connection.reconnected", changelog.person(person), connection=side.connection_id)
    return side


def skip(person, connection_public_id, day):
    """Not today: off the picks for `day` (the next candidate takes the slot), back the day after.
    Raises NotFound unknown_connection, DomainError account_deleted."""
    side = _listed_side(person, connection_public_id)
    with transaction():
        side.skipped_on = day
        changelog.record("connection.skipped", changelog.person(person), connection=side.connection_id)
    return side
