"""The door kiosk's hand-off: a QR that, opened on the person's own phone, signs them in there.

The kiosk (organizer/kiosk.py) checks a person in on a shared tablet, which must never be
signed in as them. Instead it shows a QR of a single-use link that works for five minutes.
Only the SHA-256 of the link's secret is stored (`KioskHandoff`); the secret itself exists
only in the one response that draws the QR. Using the link is a conditional UPDATE (unused,
unexpired), so of many sends of one link at once exactly one signs in.
"""
import hashlib
from datetime import timedelta

from sqlalchemy import select, update

from .. import changelog
from ..database import transaction, utcnow
from ..errors import NotFound
from ..extensions import db
from ..tokens import new_secret
from .models import KioskHandoff, Person

LIFETIME = timedelta(minutes=5)
MAX_SECRET = 100  # new_secret() makes 32 characters; anything much longer is not ours
BAD_LINK = ("This sign-in code doesn't work any more: each one works once, for five minutes. "
            "Ask at the door for a new one.")


def _hash(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


def issue(person_id, event_id, *, now=None):
    """A new hand-off secret for the person (checked in at the event by the caller); returns
    the secret, which the caller shows once and forgets."""
    now = now or utcnow()
    secret = new_secret()
    with transaction():
        db.session.add(KioskHandoff(token_hash=_hash(secret), person_id=person_id, event_id=event_id,
                                    created_at=now, expires_at=now + LIFETIME))
        changelog.record("kiosk_handoff.issued", changelog.person(person_id), event=event_id)
    return secret


def _live(secret, now):
    return (KioskHandoff.token_hash == _hash(secret), KioskHandoff.used_at.is_(None), KioskHandoff.expires_at > now)


def person_by_secret(secret, *, now=None):
    """Whose hand-off this is, without using it (the page that asks to continue: link
    previews and prefetchers must not sign anyone in). Raises NotFound bad_handoff."""
    now = now or utcnow()
    person = None
    if secret and len(secret) <= MAX_SECRET:
        person = db.session.scalar(select(Person).join(KioskHandoff, KioskHandoff.person_id == Person.id)
                                   .where(*_live(secret, now)))
    if person is None:
        raise NotFound(BAD_LINK, "bad_handoff")
    return person


def redeem(secret, *, now=None):
    """Use the hand-off up and return its person, for the caller to sign this device in.
    Raises NotFound bad_handoff for an unknown, used or expired one."""
    now = now or utcnow()
    if not secret or len(secret) > MAX_SECRET:
        raise NotFound(BAD_LINK, "bad_handoff")
    with transaction():
        used = db.session.execute(
            update(KioskHandoff).where(*_live(secret, now)).values(used_at=now)
            .returning(KioskHandoff.person_id, KioskHandoff.event_id)).first()
        if used is None:
            raise NotFound(BAD_LINK, "bad_handoff")
        changelog.record("kiosk_handoff.used", changelog.person(used.person_id), event=used.event_id)
    return db.session.get(Person, used.person_id)


def is_used(person_id, event_id, since):
    """Whether a hand-off of the person at the event, issued at or after `since`, was used:
    the kiosk moves on to the next person once their phone took over."""
    return db.session.scalar(select(KioskHandoff.id).where(
        KioskHandoff.person_id == person_id, KioskHandoff.event_id == event_id,
        KioskHandoff.created_at >= since, KioskHandoff.used_at.is_not(None)).limit(1)) is not None
