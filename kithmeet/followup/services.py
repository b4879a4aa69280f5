"""The follow-up list: everyone a person met, with their own status and note for each.

The rows belong to the connections domain; this module puts a page of them together
(people, encounters, the contact fields the rule lets this person see, drafts left by a
conflicting edit) in a fixed number of queries, and edits go through connections.notes.
"""
from dataclasses import dataclass, field

from ..connections import consent, contacts, notes
from ..connections import services as connections
from ..connections.models import Connection, ConnectionSide
from ..people import services as people
from . import drafts

MAX_PAGE = 10_000


@dataclass
class Entry:
    connection: Connection
    side: ConnectionSide
    other: object  # None once they deleted their account
    encounters: list = field(default_factory=list)  # newest first
    contacts: list = field(default_factory=list)  # what the contact rule lets this person see
    draft: object = None  # this person's unsaved words for the shared line, after a conflict
    state: str = consent.CONNECTED  # or consent.NO_LONGER_CONNECTED, consent.ACCOUNT_DELETED

    @property
    def first(self):
        """The first meeting (where "someone you met" was met), or None if its event is gone."""
        return self.encounters[-1] if self.encounters else None

    @property
    def conflicted(self):
        """A draft waits, and the line still differs from it: show both."""
        return self.draft is not None and self.draft.typed != self.shared_text

    @property
    def latest(self):
        return self.encounters[0] if self.encounters else None

    @property
    def shared_text(self):
        """The latest encounter's talked-about line: the one the follow-up form edits."""
        return self.latest.talked_about if self.latest else ""

    @property
    def shared_text_fingerprint(self):
        return notes.fingerprint(self.shared_text)


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
    rows, total = connections.sides_page(person.id, (number - 1) * size, size + 1)
    has_next = len(rows) > size
    rows = rows[:size]
    if not rows:
        return Page([], number, False, total)
    # An account deleted since leaves None here: the entry stays, without its person.
    others = people.persons_with_details([other_id for _, connection, _ in rows
                                          if (other_id := connection.other_id(person.id)) is not None])
    encounters = connections.encounters_by_connection([connection.id for _, connection, _ in rows])
    visible = contacts.visible_to(person, others.values())
    waiting = drafts.for_connections(person.id, [connection.id for _, connection, _ in rows])
    entries = []
    for side, connection, other_side in rows:
        other = others.get(connection.other_id(person.id))
        entries.append(Entry(connection, side, other, encounters.get(connection.id, []),
                             visible[other.id] if other is not None else [], waiting.get(connection.id),
                             consent.state(connection, other_side if other is not None else None)))
    return Page(entries, number, has_next, total)

