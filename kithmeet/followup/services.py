"""The follow-up list: everyone a person met, and their own status and note for each."""
import hashlib
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..connections.models import FOLLOWUP_STATUSES, Connection, ConnectionSide, Encounter
from ..connections.services import MAX_TEXT
from ..errors import DomainError, NotFound
from ..extensions import db
from ..people import services as people


MAX_PAGE = 10_000


def text_version(text):
    """A short fingerprint of shared text, sent with the edit form to detect a concurrent edit."""
    return hashlib.sha256((text or "").encode()).hexdigest()[:16]


@dataclass
class Entry:
    connection: Connection
    side: ConnectionSide
    other: object
    encounters: list = field(default_factory=list)  # newest first

    @property
    def latest(self):
        return self.encounters[0] if self.encounters else None

    @property
    def shared_text(self):
        """The latest encounter's talked-about line: the one the follow-up form edits."""
        return self.latest.talked_about if self.latest else ""

    @property
    def shared_text_version(self):
        return text_version(self.shared_text)


@dataclass
class Page:
    entries: list
    number: int
    has_next: bool
    total: int


def page_number(number):
    """A page number within 1..MAX_PAGE (a huge one would overflow the SQL OFFSET)."""
    return min(max(1, number), MAX_PAGE)


def followup_page(person, number=1, size=50):
    """One page of the list, newest meeting first, in a fixed number of queries."""
    number = page_number(number)
    rows = db.session.execute(
        select(ConnectionSide, Connection).join(Connection, ConnectionSide.connection_id == Connection.id)
        .where(ConnectionSide.person_id == person.id)
        .order_by(Connection.last_met_at.desc(), Connection.id.desc())
        .offset((number - 1) * size).limit(size + 1)).all()
    has_next = len(rows) > size
    rows = rows[:size]
    total = db.session.scalar(select(func.count(ConnectionSide.id)).where(ConnectionSide.person_id == person.id))
    if not rows:
        return Page([], number, False, total)

    others = people.persons_with_details([connection.other_id(person.id) for _, connection in rows])
    encounters = {}
    for encounter in db.session.scalars(
            select(Encounter).options(joinedload(Encounter.event))
            .where(Encounter.connection_id.in_([connection.id for _, connection in rows]))
            .order_by(Encounter.created_at.desc(), Encounter.id.desc())):
        encounters.setdefault(encounter.connection_id, []).append(encounter)
    entries = [Entry(connection, side, others[connection.other_id(person.id)], encounters.get(connection.id, []))
               for side, connection in rows]
    return Page(entries, number, has_next, total)


def update_entry(person, connection_public_id, *, status=None, private_note=None, talked_about=None,
                 talked_about_version=None):
    """Change one's own side of a connection and the latest shared talked-about line.

    Only the two people of the connection may; to anyone else it does not exist. The
    shared line is written only when this person changed it, and not over a change the
    other person saved since this person's page was drawn (`talked_about_version`).
    """
    side = db.session.scalar(
        select(ConnectionSide).join(Connection, ConnectionSide.connection_id == Connection.id)
        .where(Connection.public_id == connection_public_id, ConnectionSide.person_id == person.id))
    if side is None:
        raise NotFound("That connection isn't in your list.", "unknown_connection")
    if status is not None:
        if status not in FOLLOWUP_STATUSES:
            raise DomainError("Choose a follow-up status from the list.", "bad_status")
        side.status = status
    for text in (private_note, talked_about):
        if text is not None and len(text) > MAX_TEXT:
            raise DomainError(f"Keep notes under {MAX_TEXT} characters.", "too_long")
    if private_note is not None:
        side.private_note = private_note.strip()
    if talked_about is not None:
        encounter = db.session.scalar(
            select(Encounter).where(Encounter.connection_id == side.connection_id)
            .order_by(Encounter.created_at.desc(), Encounter.id.desc()).limit(1).with_for_update())
        talked_about = talked_about.strip()
        # Unchanged from what this person's page showed: leave the line (the other side may have added to it).
        untouched = talked_about_version is not None and text_version(talked_about) == talked_about_version
        if encounter is not None and not untouched and talked_about != encounter.talked_about:
            if talked_about_version is not None and talked_about_version != text_version(encounter.talked_about):
                db.session.rollback()
                raise DomainError("The other person changed “talked about” while you were editing. "
                                  "Reload the page to see their words, then add yours.", "edit_conflict")
            encounter.talked_about = talked_about
    db.session.commit()
    return side
