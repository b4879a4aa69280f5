"""The one rule for contact details: a person sees another's contact fields only once the
two are connected, and then only the fields their owner switched on. Every page, export
and API response asks here; nothing else decides."""
from sqlalchemy import and_, or_, select

from ..extensions import db
from .models import Connection


def visible_to(viewer, people):
    """{person id: [contact fields viewer may see]} for `people` (loaded with their contacts).

    One query however many people: which of them the viewer is connected with.
    """
    people = list(people)
    if viewer is None or not people:
        return {person.id: [] for person in people}
    others = [person.id for person in people if person.id != viewer.id]
    connected = set()
    if others:
        rows = db.session.execute(select(Connection.person_a_id, Connection.person_b_id).where(or_(
            and_(Connection.person_a_id == viewer.id, Connection.person_b_id.in_(others)),
            and_(Connection.person_b_id == viewer.id, Connection.person_a_id.in_(others)))))
        connected = {a if b == viewer.id else b for a, b in rows}
    return {person.id: [c for c in person.contacts if c.shared and c.value] if person.id in connected else []
            for person in people}


def visible_contacts(viewer, person):
    """The contact fields `viewer` may see of `person`."""
    return visible_to(viewer, [person])[person.id]
