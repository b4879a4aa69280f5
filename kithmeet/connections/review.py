"""The review page: the connections a person has not seen yet (someone scanned their badge, or
met them again after one of them removed the connection), put together in a fixed number of
queries, with what the person can do about each (connections/consent.py)."""
from dataclasses import dataclass, field

from .models import Connection, ConnectionSide
from ..people import services as people
from . import consent, contacts
from .services import encounters_by_connection


@dataclass
class Unseen:
    connection: Connection
    side: ConnectionSide
    other: object  # None once they deleted their account
    state: str
    encounters: list = field(default_factory=list)  # newest first
    contacts: list = field(default_factory=list)  # what the contact rule lets this person see

    @property
    def latest(self):
        return self.encounters[0] if self.encounters else None

    @property
    def first(self):
        return self.encounters[-1] if self.encounters else None


def unseen(person):
    """The person's unseen connections, newest meeting first."""
    rows = consent.pending_rows(person)
    if not rows:
        return []
    others = people.persons_with_details([other_id for _, connection, _ in rows
                                          if (other_id := connection.other_id(person.id)) is not None])
    encounters = encounters_by_connection([connection.id for _, connection, _ in rows])
    visible = contacts.visible_to(person, others.values())
    entries = []
    for side, connection, other_side in rows:
        other = others.get(connection.other_id(person.id))
        entries.append(Unseen(connection, side, other, consent.state(connection, other_side if other else None),
                              encounters.get(connection.id, []), visible[other.id] if other is not None else []))
    return entries
