"""What mail a person wants: the digest after an event closes (on until they say no), the
weekly nudge (off until they say yes), and the key of their one-click unsubscribe links.

The key (`Person.mail_token`) is made when the first message that carries it is queued.
It does nothing but unsubscribe, so a forwarded mail costs its reader at most a
newsletter; it is never a sign-in.
"""
from sqlalchemy import or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from .. import changelog
from ..database import transaction
from ..errors import DomainError
from ..extensions import db
from ..tokens import new_secret
from .models import Person

LISTS = ("digest", "nudge")
_COLUMN = {"digest": "digest_mail", "nudge": "nudge_mail"}
MAX_TOKEN = 32  # Person.mail_token's length; anything longer is nobody's


def has_confirmed_address(person):
    """A digest or nudge may go to this person: their identity was proven by an e-mailed link."""
    return bool(person.email) and person.email_confirmed_at is not None


def tokens_for(people):
    """{person id: mail token} for these Person objects, making the missing ones, in the
    caller's transaction: one UPDATE (executemany) for all that lack one, whatever their
    number. A collision of two random 192-bit keys is a unique-index IntegrityError, and
    the caller's transaction rolls back as for any lost race."""
    missing = [person for person in people if not person.mail_token]
    if missing:
        fresh = {person.id: new_secret() for person in missing}
        db.session.execute(update(Person), [{"id": pid, "mail_token": token} for pid, token in fresh.items()])
        for person in missing:  # the bulk UPDATE bypasses the loaded objects: keep them in step
            set_committed_value(person, "mail_token", fresh[person.id])
    return {person.id: person.mail_token for person in people}


def set_nudge(person, on):
    """Opt in to (True) or out of (False) the weekly nudge; all or nothing.

    Raises DomainError "unconfirmed_email" when opting in without a confirmed address:
    nothing is ever mailed to an address nobody has proven.
    """
    on = bool(on)
    if on and not has_confirmed_address(person):
        raise DomainError("Confirm your email address first: open a sign-in link we email you.",
                          "unconfirmed_email")
    with transaction():
        person.nudge_mail = on
        changelog.record("person.nudge_on" if on else "person.nudge_off", changelog.person(person))
    return person


def set_digest(person, on):
    """Turn the after-the-event digest on or off; all or nothing. Raises no DomainError."""
    with transaction():
        person.digest_mail = bool(on)
        changelog.record("person.digest_on" if on else "person.digest_off", changelog.person(person))
    return person


def unsubscribe(token, list_name):
    """The one-click unsubscribe: turn off `list_name` ("digest" or "nudge"; anything else,
    both) for whoever holds `token`. Idempotent, and silent about tokens: an unknown one
    changes nothing and returns None, as the page that calls it must tell no one whether a
    key exists. Returns the lists turned off otherwise. Raises no DomainError."""
    if not token or len(token) > MAX_TOKEN:
        return None
    lists = (list_name,) if list_name in LISTS else LISTS
    with transaction():
        person_id = db.session.scalar(select(Person.id).where(Person.mail_token == token))
        if person_id is None:
            return None
        # A conditional UPDATE: a second click, or a mail client's POST racing the person's
        # own, writes nothing and logs nothing.
        changed = db.session.execute(
            update(Person).where(Person.id == person_id,
                                 or_(*(getattr(Person, _COLUMN[name]).is_(True) for name in lists)))
            .values({_COLUMN[name]: False for name in lists}).execution_options(synchronize_session="fetch"))
        if changed.rowcount:
            changelog.record("person.unsubscribed", changelog.person(person_id), lists="_".join(lists))
    return lists
