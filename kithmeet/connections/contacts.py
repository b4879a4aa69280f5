"""The one rule for contact details: a person sees another's contact fields only while the two
are connected (neither has removed or blocked the other) and the owner's side of that
connection shares them (at once, or once the owner confirmed it: connections/consent.py),
and then only the fields their owner switched on. Every page, export and API response asks
here; nothing else decides."""
from functools import cache

from sqlalchemy import Integer, and_, bindparam, inspect, select
from sqlalchemy.orm import aliased

from ..extensions import db
from ..people.models import ContactField, Person
from .models import ConnectionSide


@cache
def _statements():
    """(whose sides of a connection with the viewer let them see, of `others`; the fields one
    person lets the viewer see): built once per process, not per call (building them, and
    adapting fresh aliases column by column, cost more than running them on the scan page).
    Made on first use: an alias configures every mapper, so not before all models are imported."""
    owner, mine = aliased(ConnectionSide, name="owner"), aliased(ConnectionSide, name="mine")

    def showing(owners):
        # Both rows exist only while both people do: deleting an account deletes its sides.
        return (select(owner.person_id)
                .join(mine, and_(mine.connection_id == owner.connection_id,
                                 mine.person_id == bindparam("viewer_id", type_=Integer)))
                .where(owners, owner.shares_contacts.is_(True), owner.removed_at.is_(None),
                       owner.blocked_at.is_(None), mine.removed_at.is_(None), mine.blocked_at.is_(None)))
    person = bindparam("person_id", type_=Integer)
    return (showing(owner.person_id.in_(bindparam("others", expanding=True, type_=Integer))),
            select(ContactField)
            .where(ContactField.person_id == person, ContactField.shared.is_(True), ContactField.value != "",
                   ContactField.person_id.in_(showing(owner.person_id == person)))
            .order_by(ContactField.id))


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
        showing = set(db.session.scalars(_statements()[0], {"viewer_id": viewer.id, "others": others}))
    return {person.id: [c for c in person.contacts if c.shared and c.value] if person.id in showing else []
            for person in people}


def visible_contacts(viewer, person, connected=None):
    """The contact fields `viewer` may see of `person`: one query. A person without their contacts
    loaded (a people.BadgeOwner on the scan page, or a Person loaded without them) gets the rule and
    the fields it lets through in that one query, rather than the rule's and then a lazy load of
    every field. `connected=False`: the caller read that the two have no connection (the scan
    page, for someone just met), so the rule lets nothing through: no query."""
    if person is None or (connected is False and viewer is not None and person.id != viewer.id):
        return []
    if viewer is None or person.id == viewer.id or (
            isinstance(person, Person) and "contacts" not in inspect(person).unloaded):
        return visible_to(viewer, [person])[person.id]
    return db.session.scalars(_statements()[1], {"viewer_id": viewer.id, "person_id": person.id}).all()
