"""The one rule for contact details: a person sees another's contact fields only while the two
are connected (neither has removed or blocked the other) and the owner's side of that
connection shares them (at once, or once the owner confirmed it: connections/consent.py),
and then only the fields their owner switched on. Every page, export and API response asks
here; nothing else decides."""
from functools import cache

from sqlalchemy import and_, select
from sqlalchemy.orm import aliased

from ..extensions import db
from .models import ConnectionSide


@cache
def _aliases():
    """The two sides, aliased once per process, not per call: a fresh alias is adapted column by
    column each time a query names it, which cost more than the query itself on the scan page.
    Made on first use: an alias configures every mapper, so not before all models are imported."""
    return aliased(ConnectionSide, name="owner"), aliased(ConnectionSide, name="mine")


def visible_to(viewer, people):
    """{person id: [contact fields viewer may see]} for `people` (loaded with their contacts).

    One query however many people: whose sides of a connection with the viewer let them see.
    """
    people = [person for person in people if person is not None]
    if viewer is None or not people:
        return {person.id: [] for person in people}
    others = [person.id for person in people if person.id != viewer.id]
    showing = set()
    if others:
        owner, mine = _aliases()
        # Both rows exist only while both people do: deleting an account deletes its sides.
        showing = set(db.session.scalars(
            select(owner.person_id)
            .join(mine, and_(mine.connection_id == owner.connection_id, mine.person_id == viewer.id))
            .where(owner.person_id.in_(others), owner.shares_contacts.is_(True),
                   owner.removed_at.is_(None), owner.blocked_at.is_(None),
                   mine.removed_at.is_(None), mine.blocked_at.is_(None))))
    return {person.id: [c for c in person.contacts if c.shared and c.value] if person.id in showing else []
            for person in people}


def visible_contacts(viewer, person):
    """The contact fields `viewer` may see of `person`."""
    return visible_to(viewer, [person])[person.id] if person is not None else []
