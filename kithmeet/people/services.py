"""Profiles, joining an event, badge tokens and personal sign-in links.

Every change here is all or nothing: checked first, then written in one transaction.
"""
import hashlib
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from .. import changelog, signals
from ..database import transaction, utcnow
from ..errors import DomainError, NotFound
from ..events import services as events
from ..extensions import db
from ..tokens import looks_valid, new_code, new_secret, normalize
from .models import CONTACT_KINDS, ContactField, Person, PromptAnswer, RevokedBadge


SIGNIN_LINK_USED = ("This sign-in link doesn't work any more: each link works once. Open your badge "
                    "on a signed-in device to make a new one.")


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


def join_event(event, profile, *, person=None, nonce=None, issued_nonce=None):
    """Create or update a profile and check in at the event, all or nothing.

    `nonce` is the join form's one-time id, honoured only when it is the one this browser
    was given (`issued_nonce`): the same form sent twice returns the person the first send
    made, but a copy of the form sent from elsewhere never signs anyone in as that person.
    Raises DomainError: event_not_open, event_closed, removed_from_series, name_required,
    too_long, bad_contact.
    """
    events.ensure_joinable(event)
    if person is not None:
        events.ensure_not_removed(person.id, event)  # check_in refuses too; this says so before any write
    profile = profile.cleaned()
    nonce = nonce if nonce and nonce == issued_nonce else None
    if person is None:
        earlier, recent = _person_by_nonce(nonce)
        if recent:
            return earlier
        if earlier is not None:
            nonce = None  # spent: this send makes a person of its own
    try:
        with transaction():
            new = person is None
            if new:
                person = Person(join_nonce=nonce)
                db.session.add(person)
            _apply_profile(person, profile)
            db.session.flush()
            if new:
                signals.person_joined.send(current_app._get_current_object(), person_id=person.id,
                                           event_id=event.id)
            events.check_in(person.id, event)
            changelog.record("person.joined" if new else "person.updated", changelog.person(person),
                             event=event.id)
    except DomainError as error:
        earlier, recent = _person_by_nonce(nonce) if error.code == "conflict" else (None, False)
        if not recent:
            raise
        return earlier  # the same form, sent twice at once: the other send made the person
    return person


def person_by_badge(token):
    """The badge's owner, or a NotFound that says whether the code was replaced or never existed."""
    token = normalize(token)
    person = db.session.scalar(select(Person).where(Person.badge_token == token)) if looks_valid(token) else None
    if person is not None:
        return person
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
