"""The door kiosk: a tablet at the door, opened by an organizer or door volunteer, where people
check themselves in ("I registered") or join ("I'm new here"), then take over on their own
phone through a hand-off QR (people/handoff.py).

Every call names the signed-in organizer and the event, and needs the door role there
(events.access). Which browser is in kiosk mode, and whom it is showing, is the views' business
(kiosk_views.py): these functions only read and write rows.

The name search is the kiosk's alone: it finds people of this series only (the guests it may
show, guests.shown_guests, and everyone who checked in at one of its events), answers names and
nothing else, and only to a session in kiosk mode (the view), rate-limited (ratelimits.LIMITS).

Picking a name is no proof of being that person: the hand-off, which signs a phone in as them,
is only for someone whose badge was unclaimed until this check-in, or who has just joined here.
Anyone else is checked in and told to sign in on their phone the way they already do.
"""
from dataclasses import dataclass

from sqlalchemy import exists, or_, select
from werkzeug.security import check_password_hash

from ..audit import services as audit
from ..database import transaction
from ..errors import DomainError, NotFound
from ..events import access
from ..events import services as events
from ..events.models import EventRemoval, SeriesRemoval
from ..extensions import db
from ..guests import services as guests
from ..people import handoff
from ..people import services as people
from ..people.models import Person
from ..people.profile import Profile
from . import lockout

MIN_LETTERS = 2
MAX_MATCHES = 8  # a tablet screen of names; more means "keep typing"
HINT_LENGTH = 12


@dataclass(frozen=True)
class Match:
    person_id: int
    name: str
    hint: str  # the start of the headline, only when two matches share a name; else ""


@dataclass(frozen=True)
class Matches:
    people: list
    more: bool  # more matched than are shown


def open_kiosk(organizer, public_id):
    """Start kiosk mode for an event where the organizer holds at least the door role; the event
    must be open. Raises NotFound unknown_event, DomainError role_too_low, event_not_open,
    event_closed."""
    event = access.event_for(organizer, public_id, "door")
    events.ensure_joinable(event)
    with transaction():
        audit.record(organizer.id, "kiosk.opened", event_id=event.id)
    return event


def kiosk_event(organizer, public_id):
    """The kiosk's event, as long as the organizer still holds the door role there. Raises
    NotFound unknown_event, DomainError role_too_low."""
    return access.event_for(organizer, public_id, "door")


def leave_kiosk(organizer, password, event_id=None):
    """Leave kiosk mode: the signed-in organizer's own password is asked, so that nobody at the
    door can walk off with an organizer's session. A wrong one counts as a failed sign-in
    (lockout.py): five in a row pause sign-in, and leaving, for everyone using that account.
    Raises DomainError: locked, bad_password."""
    lockout.refuse_if_locked(organizer)
    if not check_password_hash(organizer.password_hash, password or ""):
        with transaction():
            now_locked = lockout.count_failure(organizer.id, lockout.PASSWORD_FAILED)
        # Raised after the commit: a refusal inside the transaction would roll the count back.
        if now_locked:
            raise lockout.locked_error()
        raise DomainError("That isn't the password of the account that opened the kiosk.", "bad_password")
    with transaction():
        # A right password here is no sign-in: it leaves the failure count alone, or whoever
        # knows the password could reset it between two-factor guesses.
        audit.record(organizer.id, "kiosk.left", event_id=event_id)


def _candidates(event):
    """The conditions for a person the kiosk may find: on the series' guest list or checked in at
    one of its events, and neither removed from the series nor hidden from this event."""
    return (
        or_(guests.brought_by(event.series_id), guests.came_to(event.series_id)),
        ~exists().where(SeriesRemoval.person_id == Person.id, SeriesRemoval.series_id == event.series_id),
        ~exists().where(EventRemoval.person_id == Person.id, EventRemoval.event_id == event.id),
    )


def _hint(headline):
    headline = (headline or "").strip()
    return headline if len(headline) <= HINT_LENGTH else headline[:HINT_LENGTH].rstrip() + "…"


def search(organizer, public_id, text):
    """People of the event's series whose name contains `text` (any case), at most MAX_MATCHES,
    by name: one query whatever the count. Names only; two people of one name are told apart by
    the start of their headline. Raises NotFound unknown_event, DomainError role_too_low,
    too_short."""
    event = kiosk_event(organizer, public_id)
    text = (text or "").strip()
    if len(text) < MIN_LETTERS:
        raise DomainError(f"Type at least {MIN_LETTERS} letters of your name.", "too_short")
    rows = db.session.execute(
        select(Person.id, Person.name, Person.headline)
        .where(Person.name.ilike(f"%{_escaped(text)}%", escape="\\"), *_candidates(event))
        .order_by(Person.name, Person.id).limit(MAX_MATCHES + 1)).all()
    shown = rows[:MAX_MATCHES]
    names = [row.name.casefold() for row in shown]
    return Matches([Match(row.id, row.name, _hint(row.headline) if names.count(row.name.casefold()) > 1 else "")
                    for row in shown], more=len(rows) > MAX_MATCHES)


def _escaped(text):
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class Arrival:
    person: Person
    handoff: bool  # may their phone be signed in from the kiosk (start_handoff)


def check_in_registered(organizer, public_id, person_id):
    """Check in someone the kiosk search can find (by their pick on the screen), and claim their
    badge if they were an imported guest who had not yet. An Arrival: a hand-off only when this
    check-in claimed the badge (anyone could have picked the name of someone who has). Raises NotFound
    unknown_event, unknown_person, DomainError role_too_low and check_in's refusals
    (event_not_open, event_closed, removed_from_series, ...)."""
    event = kiosk_event(organizer, public_id)
    person = db.session.scalar(select(Person).where(Person.id == person_id, *_candidates(event))) \
        if isinstance(person_id, int) else None
    if person is None:
        raise NotFound("We couldn't find that person. Search again.", "unknown_person")
    with transaction():
        events.check_in(person.id, event, via="kiosk")
        claimed = guests.claim(person.id)  # an imported guest takes their badge in hand: joins this transaction
        audit.record(organizer.id, "kiosk.checked_in", event_id=event.id)
    return Arrival(person, handoff=claimed)


def join_new(organizer, public_id, *, name, answer="", email="", nonce=None, issued_nonce=None):
    """"I'm new here": a new profile from the short form (name, the first prompt's answer, an
    optional e-mail, kept unshared) checked in at the event through people.join_event, so
    capacity and a double-sent form are handled as on the join page. Of the join policies, a
    guest-list-only event takes nobody new here (its guests find their names instead); an
    announced code is not asked, since the kiosk stands where it is announced. Returns the
    person. Raises NotFound unknown_event, DomainError role_too_low, not_on_guest_list and
    join_event's refusals (name_required, too_long, bad_email, email_known, event_full, ...). The
    join and its audit entry are one transaction. Someone new may always take the hand-off."""
    event = kiosk_event(organizer, public_id)
    if event.join_policy == "guests":
        raise DomainError(f"{event.name} is for people on its guest list: find your name under "
                          "\u201cI registered\u201d, or ask someone at the door.", "not_on_guest_list")
    labels = event.prompt_labels
    email = (email or "").strip()
    profile = Profile(name=name, answers=((labels[0], answer or ""),) if labels else (),
                      contacts={"email": email} if email else {}, shared={"email": False})
    return people.join_event(event, profile, nonce=nonce, issued_nonce=issued_nonce, via="kiosk",
                             also=lambda _person: audit.record(organizer.id, "kiosk.joined", event_id=event.id))


def _checked_in(event, person_id):
    person = db.session.get(Person, person_id)
    if person is None or not events.is_checked_in(person.id, event.id):
        raise NotFound("That check-in isn't here any more.", "not_checked_in")
    return person


def checked_in_person(organizer, public_id, person_id):
    """The person, checked in at the kiosk's event. Raises NotFound unknown_event,
    not_checked_in, DomainError role_too_low."""
    return _checked_in(kiosk_event(organizer, public_id), person_id)


def start_handoff(organizer, public_id, person_id, *, allowed):
    """A hand-off secret for someone checked in at the kiosk's event (people/handoff.py), and
    the person. `allowed` is the Arrival's `handoff` (kept by the view, server-side): only a
    badge claimed, or a person made, by this very visit. Raises NotFound unknown_event,
    not_checked_in, DomainError role_too_low, no_handoff."""
    event = kiosk_event(organizer, public_id)
    person = _checked_in(event, person_id)
    if allowed is not True:
        raise DomainError("Sign in on your phone the way you usually do.", "no_handoff", status=403)
    return person, handoff.issue(person.id, event.id)
