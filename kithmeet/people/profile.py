"""A profile as the people services take it: typed, and checked again by the service
whatever built it (the join form, the demo, a later API or import)."""
from dataclasses import dataclass, field

from ..errors import DomainError
from ..formtools import hidden_characters
from .models import CONTACT_KINDS

LIMITS = {"name": 80, "pronouns": 40, "headline": 120, "contact": 300, "prompt": 80, "answer": 200}


@dataclass(frozen=True)
class Profile:
    name: str
    pronouns: str = ""
    headline: str = ""
    contacts: dict = field(default_factory=dict)  # kind -> value; "" or missing removes it
    shared: dict = field(default_factory=dict)  # kind -> shown to connections?
    answers: tuple = ()  # (prompt, answer) pairs in the event's prompt order
    # Contacts shown at once on connecting (True), or only once this person confirms each
    # connection (False); None leaves the person's choice as it is (a new person shares at once).
    share_on_connect: bool | None = None

    def cleaned(self):
        """The same profile trimmed and checked; raises DomainError before anything is written."""
        profile = Profile(
            name=(self.name or "").strip(), pronouns=(self.pronouns or "").strip(),
            headline=(self.headline or "").strip(),
            contacts={kind: (value or "").strip() for kind, value in dict(self.contacts).items()},
            shared={kind: bool(value) for kind, value in dict(self.shared).items()},
            answers=tuple((prompt, (text or "").strip()) for prompt, text in self.answers),
            share_on_connect=None if self.share_on_connect is None else bool(self.share_on_connect))
        if not profile.name:
            raise DomainError("Tell people your name.", "name_required")
        unknown = set(profile.contacts) - set(CONTACT_KINDS)
        if unknown:
            raise DomainError("Unknown contact field.", "bad_contact")
        too_long = [len(profile.name) > LIMITS["name"], len(profile.pronouns) > LIMITS["pronouns"],
                    len(profile.headline) > LIMITS["headline"],
                    any(len(value) > LIMITS["contact"] for value in profile.contacts.values()),
                    any(len(prompt) > LIMITS["prompt"] or len(text) > LIMITS["answer"]
                        for prompt, text in profile.answers)]
        if any(too_long):
            raise DomainError("A profile field is longer than we keep.", "too_long")
        texts = [profile.name, profile.pronouns, profile.headline, *profile.contacts.values(),
                 *(part for pair in profile.answers for part in pair)]
        if any(hidden_characters(text) for text in texts):
            raise DomainError("Remove the invisible or direction-changing characters.", "control_characters")
        return profile


def shared_contacts(person):
    """The contact fields `person` switched on: what a connection sees once their contacts show.

    For the person's own preview only. Whether a given viewer sees them (connected, not removed,
    shared at once or confirmed) is connections/contacts.py's rule, asked by every other page."""
    return [contact for contact in person.contacts if contact.shared and contact.value]
