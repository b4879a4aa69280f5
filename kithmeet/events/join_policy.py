"""Who may join an event (JOIN_POLICIES) and how many: checked on every check-in.

events.services.check_in calls `ensure_may_join` and `take_place`, so the join page, the door
kiosk and any later caller get the same rules. The policy is about the join link: a code
announced at the venue proves the phone is in the room, and the guest list keeps walk-ins out;
at the kiosk a volunteer is that proof, so check-ins there skip both. Capacity holds for
everyone, the kiosk too; someone already checked in always gets back in.
"""
import hmac
import re
import secrets

from flask import has_request_context
from sqlalchemy import func, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .. import ratelimits
from ..database import insert_if_absent, utcnow
from ..errors import DomainError
from ..extensions import db
from ..tokens import ALPHABET
from .models import JOIN_POLICIES, CheckIn, Event

# Read aloud and typed on a phone: capitals and digits without look-alikes (as badge codes).
ENTRY_CODE_ALPHABET = ALPHABET
GENERATED_LENGTH = 6
ENTRY_CODE_LENGTH = (4, 16)  # letters and digits, spaces and dashes not counted
MAX_CAPACITY = 100_000
_SEPARATORS = re.compile(r"[\s\-]+")


def new_entry_code():
    """A fresh code to announce, grouped for reading aloud: "K7Q-M4X"."""
    code = "".join(secrets.choice(ENTRY_CODE_ALPHABET) for _ in range(GENERATED_LENGTH))
    return f"{code[:3]}-{code[3:]}"


def comparable(code):
    """A code as compared: case, spaces and dashes ignored."""
    return _SEPARATORS.sub("", code or "").casefold()


def checked_policy(policy, entry_code="", capacity=None):
    """(policy, entry code, capacity) as stored: the code trimmed (a new one when "code" is chosen
    without one; "" for other policies), capacity a positive whole number or None.
    Raises DomainError bad_join_policy, bad_entry_code_format, bad_capacity."""
    if policy not in JOIN_POLICIES:
        raise DomainError("Choose who may join.", "bad_join_policy")
    entry_code = " ".join((entry_code or "").split())
    if policy != "code":
        entry_code = ""
    elif not entry_code:
        entry_code = new_entry_code()
    else:
        bare = comparable(entry_code)
        if (len(entry_code) > 20 or not bare.isascii() or not bare.isalnum()
                or not ENTRY_CODE_LENGTH[0] <= len(bare) <= ENTRY_CODE_LENGTH[1]):
            raise DomainError(f"Use {ENTRY_CODE_LENGTH[0]} to {ENTRY_CODE_LENGTH[1]} letters and digits "
                              "(spaces and dashes are fine), or leave it empty for one made for you.",
                              "bad_entry_code_format")
    if capacity is not None and (isinstance(capacity, bool) or not isinstance(capacity, int)
                                 or not 1 <= capacity <= MAX_CAPACITY):
        raise DomainError(f"Enter a whole number from 1 to {MAX_CAPACITY:,}, or leave it empty for no limit.",
                          "bad_capacity")
    return policy, entry_code, capacity


def _wrong_code(event):
    return DomainError(f"That isn't the code for {event.name}. It is announced at the venue: ask at the door.",
                       "bad_entry_code")


def ensure_may_join(event, *, entry_code=None, email=None):
    """Refuse a join through the link that the event's policy keeps out. Raises DomainError
    bad_entry_code (the code was missing or wrong), too_many_guesses (this browser, or its
    address, missed too often lately), not_on_guest_list."""
    if event.join_policy == "code":
        # Only wrong codes count, per browser: a venue's attendees share one address, and a
        # troll's misses must not lock the room out. A browser over its limit is refused even
        # the right code (else the limit would tell a lucky guess). A browser that drops its
        # cookie starts afresh, so misses from one address have a higher cap as well, and over
        # it every try from there waits: otherwise that cap would stop no one.
        keys = ()
        if has_request_context():
            keys = (("entry_code", "RATELIMIT_ENTRY_CODE", f"{ratelimits.browser()}:{event.id}"),
                    ("entry_code_address", "RATELIMIT_ENTRY_CODE_ADDRESS", f"{ratelimits.requester()}:{event.id}"))
        if not all(ratelimits.within(*key) for key in keys):
            raise DomainError("Too many tries at the code. Wait a few minutes, or ask at the door.",
                              "too_many_guesses")
        typed, expected = comparable(entry_code), comparable(event.entry_code)
        # Constant time, so response times say nothing about how much of a guess was right.
        if not typed or not expected or not hmac.compare_digest(typed.encode(), expected.encode()):
            for key in keys:
                ratelimits.allow(*key)
            raise _wrong_code(event)
    elif event.join_policy == "guests":
        from ..guests.services import is_guest  # noqa: PLC0415 - guests builds on events: the import stays one-way
        if not (email and is_guest(event.series_id, email)):
            raise DomainError(f"{event.name} is for people on its guest list, and we can't find you there by your "
                              "e-mail address. Please see the door: they can check you in.", "not_on_guest_list")


def full(event):
    return DomainError(f"{event.name} is full: every place is taken. Please see the door.", "event_full")


def is_full(event, person_id=None):
    """Whether the event has no place left for this person (someone checked in always has one).
    Not a lock: for telling people before they fill a form in; `take_place` decides."""
    if event.capacity is None:
        return False
    if person_id is not None and db.session.scalar(select(CheckIn.id).where(
            CheckIn.event_id == event.id, CheckIn.person_id == person_id)) is not None:
        return False
    return db.session.scalar(select(func.count(CheckIn.id)).where(CheckIn.event_id == event.id)) >= event.capacity


def take_place(event, person_id, via):
    """Insert the person's check-in unless they have one, within capacity: returns whether this
    call inserted. Raises DomainError event_full.

    Race-safe on both databases: the insert itself counts (INSERT ... SELECT ... WHERE count <
    capacity, one statement: SQLite runs it under its single writer lock), and on PostgreSQL the
    event's row is locked first, so two phones at the last place take turns and the second
    counts the first's check-in."""
    values = {"event_id": event.id, "person_id": person_id, "created_at": utcnow(), "via": via}
    if event.capacity is None:
        return insert_if_absent(CheckIn, values, ["event_id", "person_id"])
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        db.session.execute(select(Event.id).where(Event.id == event.id).with_for_update())
    taken = select(func.count(CheckIn.id)).where(CheckIn.event_id == event.id).scalar_subquery()
    # The WHERE also settles SQLite's reading of INSERT ... SELECT ... ON CONFLICT.
    row = select(*(literal(value) for value in values.values())).where(taken < event.capacity)
    statement = ((pg_insert if dialect == "postgresql" else sqlite_insert)(CheckIn).from_select(list(values), row)
                 .on_conflict_do_nothing(index_elements=["event_id", "person_id"]).returning(CheckIn.id))
    if db.session.execute(statement).first() is not None:
        return True
    if db.session.scalar(select(CheckIn.id).where(
            CheckIn.event_id == event.id, CheckIn.person_id == person_id)) is None:
        raise full(event)
    return False
