"""Profiles, joining an event, badge tokens and personal sign-in links.

Every change here is all or nothing: checked first, then written in one transaction.
"""
import hashlib
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from flask import current_app
from sqlalchemy import String, bindparam, select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from .. import changelog, signals
from ..database import transaction, utcnow
from ..emails import checked_email
from ..errors import DomainError, NotFound
from ..events import services as events
from ..events.models import CheckIn, Event
from ..extensions import db
from ..tokens import looks_valid, new_code, new_secret, normalize
from . import email_signin, identity
from .models import CONTACT_KINDS, ContactField, Person, PromptAnswer, RevokedBadge


SIGNIN_LINK_USED = ("This sign-in link doesn't work any more: each link works once. Open your badge "
                    "on a signed-in device to make a new one.")


def _email_known():
    return DomainError("That email address already has a profile. We can e-mail it a sign-in link, "
                       "so you get back the profile and the people you met.", "email_known")


def _hash_secret(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


def _apply_profile(person, profile):
    """Copy a cleaned Profile onto a person, in the caller's transaction."""
    person.name, person.pronouns, person.headline = profile.name, profile.pronouns, profile.headline
    if profile.share_on_connect is not None:
        person.share_on_connect = profile.share_on_connect

    existing = {contact.kind: contact for contact in person.contacts}
    for kind in CONTACT_KINDS:
        value = profile.contacts.get(kind, "")
        shared = profile.shared.get(kind, False)
        contact = existing.get(kind)
        if not value:
            if contact is not None:
                person.contacts.remove(contact)
        elif contact is None:
            person.contacts.append(ContactField(kind=kind, value=value, shared=shared))
        else:
            contact.value, contact.shared = value, shared

    answers = {answer.prompt: answer for answer in person.answers}
    for position, (prompt, text) in enumerate(profile.answers):
        answer = answers.get(prompt)
        if not text:
            if answer is not None:
                person.answers.remove(answer)
        elif answer is None:
            person.answers.append(PromptAnswer(prompt=prompt, answer=text, position=position))
        else:
            answer.answer, answer.position = text, position


NONCE_WINDOW = timedelta(minutes=5)  # a double tap or a retry on bad Wi-Fi, not a replay days later


def _person_by_nonce(nonce):
    """Who a send of this join form made, and whether that was recent enough to be the same
    join (a retry) rather than a replay: (person or None, recent)."""
    person = db.session.scalar(select(Person).where(Person.join_nonce == nonce)) if nonce else None
    return person, person is not None and person.created_at > utcnow() - NONCE_WINDOW


def join_event(event, profile, *, person=None, nonce=None, issued_nonce=None, via="join", entry_code=None,
               also=None):
    """Create or update a profile and check in at the event, all or nothing.

    `nonce` is the join form's one-time id, honoured only when it is the one this browser
    was given (`issued_nonce`): the same form sent twice returns the person the first send
    made, but a copy of the form sent from elsewhere never signs anyone in as that person.

    The "email" contact also becomes the person's e-mail identity when they have none and
    nobody holds it (unconfirmed until an e-mailed link to it is opened). A new person whose
    address is already someone's identity is refused with "email_known": joining never makes
    a second person for one address; the page offers that address a sign-in link instead.
    `via` is where the check-in happened (events.services.check_in): the door kiosk says "kiosk".
    `also(person)` adds the caller's own writes to the join's transaction (the kiosk's audit
    entry): join_event settles a double-sent form itself, so it cannot join a caller's.
    Raises DomainError: event_not_open, event_closed, removed_from_series, hidden_from_event,
    name_required, too_long, bad_contact, control_characters, bad_email, email_known; and who may
    join (events.join_policy: `entry_code` is what was typed where the event asks for the announced
    code; the guest list is matched by the e-mail identity): bad_entry_code, too_many_guesses,
    not_on_guest_list, event_full.
    """
    events.ensure_joinable(event)
    if person is not None:
        events.ensure_not_excluded(person.id, event)  # check_in refuses too; this says so before any write
    profile = profile.cleaned()
    address = checked_email(profile.contacts.get("email"))
    nonce = nonce if nonce and nonce == issued_nonce else None
    joining = person is None
    if joining:
        earlier, recent = _person_by_nonce(nonce)
        if recent:
            return earlier  # before the address check: the first send of this form claimed it
        if earlier is not None:
            nonce = None  # spent: this send makes a person of its own
        if address and identity.person_by_email(address) is not None:
            earlier, recent = _person_by_nonce(nonce)  # again: this form's other send may have just made it
            if recent:
                return earlier
            raise _email_known()
    try:
        with transaction():
            new = person is None
            if new:
                person = Person(join_nonce=nonce)
                db.session.add(person)
            _apply_profile(person, profile)
            db.session.flush()
            if address and new:
                identity.claim_email(person, address)  # email_taken if another join claimed it since
            elif address and person.email is None and identity.person_by_email(address) is None:
                identity.claim_email(person, address)  # someone else's stays theirs: only a contact here
            if new:
                signals.person_joined.send(current_app._get_current_object(), person_id=person.id,
                                           event_id=event.id)
            events.check_in(person.id, event, via=via, entry_code=entry_code, email=person.email)
            changelog.record("person.joined" if new else "person.updated", changelog.person(person),
                             event=event.id)
            if also is not None:
                also(person)
    except DomainError as error:
        lost_race = error.code in ("conflict", "email_taken")
        earlier, recent = _person_by_nonce(nonce) if lost_race else (None, False)
        if recent:
            return earlier  # the same form, sent twice at once: the other send made the person
        if lost_race and joining and address and identity.person_by_email(address) is not None:
            raise _email_known() from None  # another join claimed the address a moment earlier
        raise
    return person


def profile_prompts(person):
    """The prompts the profile page asks: those of the event the person last checked in at, then
    any others they have answered (an earlier event's), each once, in that order."""
    latest = db.session.scalar(
        select(Event).join(CheckIn, CheckIn.event_id == Event.id).where(CheckIn.person_id == person.id)
        .order_by(CheckIn.created_at.desc(), CheckIn.id.desc()).limit(1))
    prompts = list(latest.prompt_labels) if latest is not None else []
    return prompts + [answer.prompt for answer in person.answers if answer.prompt not in prompts]


def _email_taken():
    return DomainError("That email address belongs to another profile. To use that profile, sign in with "
                       "a link sent to it.", "email_taken")


def update_profile(person, profile, email_identity):
    """The person's own edit of their profile and e-mail identity, all or nothing.

    Answers to prompts missing from `profile.answers` are kept (the page did not show them); an
    empty `email_identity` clears the identity, and a new one is unconfirmed until a sign-in link
    e-mailed to it is opened (people/identity.py). Raises DomainError: name_required, too_long,
    bad_contact, control_characters, bad_email, email_taken.
    """
    profile = profile.cleaned()
    address = checked_email(email_identity)
    changed = address != person.email
    if changed and address is not None:
        holder = identity.person_by_email(address)
        if holder is not None and holder.id != person.id:
            raise _email_taken()
    # A claim racing this one loses at the unique index: email_taken, and the profile rolls back too.
    with transaction(conflict=_email_taken()):
        _apply_profile(person, profile)
        if changed and address is not None:
            identity.claim_email(person, address)
        elif changed:
            identity.set_email(person, None)  # joins this transaction
        db.session.flush()
        changelog.record("person.profile_updated", changelog.person(person), email_changed=changed)
    return person


def person_by_badge(token):
    """The badge's owner as a Person, for a caller that goes on to change them; badge_owner for one
    that only reads. The same NotFound."""
    token = normalize(token)
    person = db.session.scalar(select(Person).where(Person.badge_token == token)) if looks_valid(token) else None
    if person is not None:
        return person
    _not_found(token)


@dataclass(frozen=True, slots=True)
class Answer:
    prompt: str
    answer: str


@dataclass(frozen=True, slots=True)
class BadgeOwner:
    """A badge's owner as a scan shows them and a connect needs them: read-only, and no ORM
    object (a Person with its answers joined cost four times the plain read this is, on every
    scan page and every connect)."""
    id: int
    badge_token: str
    name: str
    pronouns: str
    headline: str
    share_on_connect: bool
    email: object  # the e-mail identity, None when there is none ("Is this you?" on a guest's badge)
    claimed_at: object
    answers: tuple  # of Answer, in the profile's order


@cache
def _owner_by_badge():
    person, answer = Person.__table__.c, PromptAnswer.__table__.c
    return (select(person.id, person.badge_token, person.name, person.pronouns, person.headline,
                   person.share_on_connect, person.email, person.claimed_at, answer.prompt, answer.answer)
            .outerjoin(PromptAnswer.__table__, answer.person_id == person.id)
            .where(person.badge_token == bindparam("token", type_=String))
            .order_by(answer.position, answer.id))


def badge_owner(token):
    """The badge's owner as a BadgeOwner, or a NotFound that says whether the code was replaced or
    never existed: one statement on the session's connection, read as plain rows (one for each
    prompt answer)."""
    token = normalize(token)
    rows = db.session.connection().execute(_owner_by_badge(), {"token": token}).all() if looks_valid(token) else ()
    if not rows:
        _not_found(token)
    answers = tuple(Answer(row.prompt, row.answer) for row in rows if row.prompt is not None)
    return BadgeOwner(*rows[0][:8], answers)


def _not_found(token):
    if looks_valid(token) and db.session.get(RevokedBadge, token) is not None:
        raise NotFound("This badge was replaced by its owner, so it no longer works. "
                       "Ask them for their new badge.", "revoked_badge")
    raise NotFound("We don't recognise that badge code. Check the letters under the QR and try again.",
                   "unknown_badge")


def replace_badge(person):
    """A lost or photographed badge: retire its token for good and issue a new one."""
    with transaction():
        db.session.add(RevokedBadge(token=person.badge_token, person_id=person.id))
        person.badge_token = new_code()
        changelog.record("badge.replaced", changelog.person(person))
    return person


def issue_signin_secret(person):
    """A new personal sign-in link secret; the previous link stops working."""
    secret = new_secret()
    with transaction():
        person.signin_secret_hash = _hash_secret(secret)
        changelog.record("signin_link.issued", changelog.person(person))
    return secret


def person_by_signin_secret(secret):
    person = None
    if secret and len(secret) <= 100:
        person = db.session.scalar(select(Person).where(Person.signin_secret_hash == _hash_secret(secret)))
    if person is None:
        raise NotFound(SIGNIN_LINK_USED, "bad_signin_link")
    return person


def redeem_signin_secret(secret):
    """Sign-in links work once: using one switches it off.

    The switch-off is a conditional UPDATE, so when the same link is sent several times
    at once exactly one send signs in; the others find it already used.
    """
    person = person_by_signin_secret(secret)
    with transaction():
        used = db.session.execute(
            update(Person).where(Person.id == person.id, Person.signin_secret_hash == _hash_secret(secret))
            .values(signin_secret_hash=None).execution_options(synchronize_session=False))
        if used.rowcount != 1:
            raise NotFound(SIGNIN_LINK_USED, "bad_signin_link")
        set_committed_value(person, "signin_secret_hash", None)
        changelog.record("signin_link.used", changelog.person(person))
    return person


def sign_out_everywhere(person):
    """End every device's sign-in (a lost phone, a shared tablet)."""
    with transaction():
        person.session_generation += 1
        person.signin_secret_hash = None
        person.join_nonce = None  # a copy of the join form must not sign a device back in
        email_signin.void_links_of(person)  # nor a sign-in link still waiting in a mailbox
        changelog.record("person.signed_out_everywhere", changelog.person(person))
    return person


def persons_with_details(person_ids):
    """People with their contacts and answers in three queries, whatever the count."""
    if not person_ids:
        return {}
    people = db.session.scalars(
        select(Person).where(Person.id.in_(person_ids))
        .options(selectinload(Person.contacts), selectinload(Person.answers))).all()
    return {person.id: person for person in people}
