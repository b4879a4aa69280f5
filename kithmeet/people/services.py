"""Profiles, joining an event, badge tokens and personal sign-in links."""
import hashlib

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..errors import DomainError, NotFound
from ..events import services as events
from ..extensions import db
from ..tokens import looks_valid, new_code, new_secret, normalize
from .models import CONTACT_KINDS, ContactField, Person, PromptAnswer, RevokedBadge


def _hash_secret(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


def _apply_profile(person, profile):
    """Copy a validated profile (plain dict) onto a person, in the caller's transaction."""
    person.name = profile["name"].strip()
    person.pronouns = (profile.get("pronouns") or "").strip()
    person.headline = (profile.get("headline") or "").strip()

    existing = {contact.kind: contact for contact in person.contacts}
    for kind in CONTACT_KINDS:
        value = (profile.get("contacts", {}).get(kind) or "").strip()
        shared = bool(profile.get("shared", {}).get(kind))
        contact = existing.get(kind)
        if not value:
            if contact is not None:
                person.contacts.remove(contact)
        elif contact is None:
            person.contacts.append(ContactField(kind=kind, value=value, shared=shared))
        else:
            contact.value, contact.shared = value, shared

    answers = {answer.prompt: answer for answer in person.answers}
    for position, (prompt, text) in enumerate(profile.get("answers", [])):
        text = (text or "").strip()
        answer = answers.get(prompt)
        if not text:
            if answer is not None:
                person.answers.remove(answer)
        elif answer is None:
            person.answers.append(PromptAnswer(prompt=prompt, answer=text, position=position))
        else:
            answer.answer, answer.position = text, position


def join_event(event, profile, *, person=None, nonce=None):
    """Create or update a profile and check in at the event, all or nothing.

    `nonce` is the join form's one-time id: sending the same form twice returns the
    person the first send created.
    """
    events.ensure_joinable(event)
    if person is None and nonce:
        earlier = db.session.scalar(select(Person).where(Person.join_nonce == nonce))
        if earlier is not None:
            return earlier
    if person is None:
        person = Person(join_nonce=nonce or None)
        db.session.add(person)
    _apply_profile(person, profile)
    try:
        db.session.flush()
        events.check_in(person.id, event)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        if nonce:
            earlier = db.session.scalar(select(Person).where(Person.join_nonce == nonce))
            if earlier is not None:
                return earlier
        raise DomainError("That could not be saved; try again.", "conflict") from None
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
    db.session.add(RevokedBadge(token=person.badge_token, person_id=person.id))
    person.badge_token = new_code()
    db.session.commit()
    return person


def issue_signin_secret(person):
    """A new personal sign-in link secret; the previous link stops working."""
    secret = new_secret()
    person.signin_secret_hash = _hash_secret(secret)
    db.session.commit()
    return secret


def person_by_signin_secret(secret):
    person = None
    if secret and len(secret) <= 100:
        person = db.session.scalar(select(Person).where(Person.signin_secret_hash == _hash_secret(secret)))
    if person is None:
        raise NotFound("This sign-in link doesn't work any more: each link works once. Open your badge "
                       "on a signed-in device to make a new one.", "bad_signin_link")
    return person


def redeem_signin_secret(secret):
    """Sign-in links work once: using one switches it off."""
    person = person_by_signin_secret(secret)
    person.signin_secret_hash = None
    db.session.commit()
    return person


def sign_out_everywhere(person):
    """End every device's sign-in (a lost phone, a shared tablet)."""
    person.session_generation += 1
    person.signin_secret_hash = None
    db.session.commit()
    return person


def persons_with_details(person_ids):
    """People with their contacts and answers in three queries, whatever the count."""
    if not person_ids:
        return {}
    people = db.session.scalars(
        select(Person).where(Person.id.in_(person_ids))
        .options(selectinload(Person.contacts), selectinload(Person.answers))).all()
    return {person.id: person for person in people}
