"""Words typed into a follow-up entry that could not be saved because the other person
changed the shared line meanwhile. Kept in the database (not the session cookie, which
is small and would drop a long draft) until their author saves that entry, so the page
that shows the conflict can be reloaded, or opened on another device, without losing them."""
from sqlalchemy import delete, or_, select

from ..connections import notes
from ..connections.models import Connection
from ..database import transaction
from ..extensions import db
from .models import EditDraft


def remember(person_id, connection_id, typed):
    """Keep (or replace) the person's draft for this connection. In the caller's transaction."""
    draft = db.session.scalar(select(EditDraft).where(EditDraft.person_id == person_id,
                                                      EditDraft.connection_id == connection_id))
    if draft is None:
        draft = EditDraft(person_id=person_id, connection_id=connection_id)
        db.session.add(draft)
    draft.typed = typed


def forget(person_id, connection_id):
    """Drop the draft, if any. In the caller's transaction."""
    db.session.execute(delete(EditDraft).where(EditDraft.person_id == person_id,
                                               EditDraft.connection_id == connection_id))


def erase_on_connections_of(person_ids):
    """Drop every draft on these people's connections, the other person's too, in the caller's
    transaction (account deletion). A draft is typed over the shared line and may quote the
    deleted person's words, as the line did. One statement, however many people and drafts."""
    theirs = select(Connection.id).where(or_(Connection.person_a_id.in_(person_ids),
                                             Connection.person_b_id.in_(person_ids)))
    db.session.execute(delete(EditDraft).where(EditDraft.connection_id.in_(theirs))
                       .execution_options(synchronize_session=False))


def for_connections(person_id, connection_ids):
    """{connection id: the person's draft} for a page of entries: one query."""
    if not connection_ids:
        return {}
    return {draft.connection_id: draft for draft in db.session.scalars(
        select(EditDraft).where(EditDraft.person_id == person_id, EditDraft.connection_id.in_(connection_ids)))}


def save_entry(person, connection_public_id, **changes):
    """Save an entry of the person's list through connections.notes.edit, and in the same
    transaction keep what they typed when it conflicted, or drop the draft it replaced."""
    with transaction():
        result = notes.edit(person, connection_public_id, **changes)
        if result.conflict:
            remember(person.id, result.side.connection_id, changes.get("talked_about") or "")
        else:
            forget(person.id, result.side.connection_id)
    return result
