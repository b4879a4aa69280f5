"""Getting back in by e-mail ("I've been here before"): a single-use sign-in link, sent to a
person's e-mail identity, that works for 30 minutes.

Asking never tells whether an address belongs to anyone: known or not, valid-looking
addresses get the same answer (`request_link` returns None either way), an unknown one
writes and sends nothing, and too many requests for one address are dropped as silently
as an unknown address is. The `EmailSignin` row keeps only the SHA-256 of a link's secret; the
link itself is in the queued mail's body until the worker sends it, which empties the body
(mail/worker.py).

A link is for the address it was sent to, and only while that address is the person's
identity. Typing an address proves nothing, so proof of the mailbox wins over a typed
claim: the link's page lets the mailbox's owner free an unconfirmed address from a profile
that isn't theirs (`release`), and a link that confirms an address for the first time ends
every other device's sign-in of that profile (`redeem`), so whoever typed it is out.
"""
import hashlib
import hmac
from datetime import timedelta
from html import escape

from flask import current_app
from sqlalchemy import select, update

from .. import changelog, ratelimits
from ..database import transaction, utcnow
from ..emails import checked_email
from ..errors import DomainError, NotFound
from ..extensions import db
from ..mail import services as mail
from ..tokens import new_secret
from ..urls import external_url
from .identity import person_by_email
from .models import EmailSignin, Person

LINK_LIFETIME = timedelta(minutes=30)
MAX_SECRET = 100  # new_secret() makes 32 characters; anything much longer is not ours
SUBJECT = "Your kithmeet sign-in link"
BAD_LINK = ("This sign-in link doesn't work any more: each link works once, for 30 minutes. "
            "Ask for a new one on the \u201cI've been here before\u201d page.")


def _hash(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


NO_CLIENT = "none"  # what a caller outside a request (a script, a test) is counted as


def _limit_key(*parts):
    # The rate-limit table is not the place for addresses in clear, nor for a plain hash of
    # one, which anyone holding the table could test guessed addresses against: an HMAC
    # keyed with the app's secret.
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    return "email:" + hmac.new(secret, "\n".join(parts).encode(), hashlib.sha256).hexdigest()


def request_link(email, *, client=None, now=None):
    """E-mail a sign-in link to `email` if it is someone's identity; None whatever happens.

    `client` is the requester as the per-address rate limits key it (`ratelimits.requester()`;
    None outside a request). Raises DomainError "bad_email" for an empty or malformed address
    (said to anyone: it tells nothing about who is registered). Past
    RATELIMIT_EMAIL_SIGNIN_ADDRESS requests for one address from one client, or
    RATELIMIT_EMAIL_SIGNIN_ADDRESS_TOTAL for one address from everyone, known or not,
    nothing more is sent, silently. The link row and its mail are written in one
    transaction: a link nobody was told of is never stored, and vice versa.
    """
    address = checked_email(email)
    if address is None:
        raise DomainError("Enter the email address you gave when you joined.", "bad_email")
    now = now or utcnow()
    # Counted for every address, known or not, so the limit itself tells nothing either. Per
    # (address, client) first, so one client past its own allowance does not spend the
    # address's total: keeping the owner's mails away then takes many clients, not one.
    if not (ratelimits.allow("email_signin_address", "RATELIMIT_EMAIL_SIGNIN_ADDRESS",
                             _limit_key(address, client or NO_CLIENT))
            and ratelimits.allow("email_signin_address_total", "RATELIMIT_EMAIL_SIGNIN_ADDRESS_TOTAL",
                                 _limit_key(address))):
        return None
    secret = new_secret()  # made either way: the two paths differ only by the writes below
    person = person_by_email(address)
    if person is None:
        return None
    link = external_url("people.email_link", token=secret)
    with transaction():
        db.session.add(EmailSignin(token_hash=_hash(secret), person_id=person.id, email=address,
                                   created_at=now, expires_at=now + LINK_LIFETIME))
        mail.queue(address, SUBJECT, _text(link), _html(link))
        changelog.record("email_signin.requested", changelog.person(person))
    return None


def _text(link):
    return (f"Here is your link to get back into kithmeet:\n\n{link}\n\n"
            "It works once, for 30 minutes. Open it on the phone or computer you want to use, "
            "then tap Continue.\n\n"
            "If you didn't ask for this, ignore this e-mail: nothing happens unless the link is opened "
            "and confirmed.\n")


def _html(link):
    href = escape(link, quote=True)
    return (f"<p>Here is your link to get back into kithmeet:</p>\n"
            f'<p><a href="{href}">Sign in to kithmeet</a></p>\n'
            f"<p>Or copy this address into your browser: {href}</p>\n"
            "<p>It works once, for 30 minutes. Open it on the phone or computer you want to use, "
            "then tap Continue.</p>\n"
            "<p>If you didn't ask for this, ignore this e-mail: nothing happens unless the link is opened "
            "and confirmed.</p>\n")


def _live(token_hash, now):
    # The link's address must still be the person's identity: a link sent before a change of
    # address no longer signs in (correlated, so the conditional UPDATEs below check it too).
    identity = select(Person.email).where(Person.id == EmailSignin.person_id).correlate_except(Person)
    return (EmailSignin.token_hash == token_hash, EmailSignin.used_at.is_(None), EmailSignin.expires_at > now,
            EmailSignin.email == identity.scalar_subquery())


def person_by_link(token, *, now=None):
    """Whose link this is, without using it up (the page that asks to continue).

    Raises NotFound "bad_email_link" for an unknown, used or expired link, or one whose
    address is no longer the person's identity.
    """
    now = now or utcnow()
    person = None
    if token and len(token) <= MAX_SECRET:
        person = db.session.scalar(select(Person).join(EmailSignin, EmailSignin.person_id == Person.id)
                                   .where(*_live(_hash(token), now)))
    if person is None:
        raise NotFound(BAD_LINK, "bad_email_link")
    return person


def _use(token, now):
    """Use a live link up, in the caller's transaction; (person_id, email), or NotFound. The
    use is a conditional UPDATE (unused, unexpired, still the identity), so of many sends of
    one link at once exactly one wins."""
    if not token or len(token) > MAX_SECRET:
        raise NotFound(BAD_LINK, "bad_email_link")
    used = db.session.execute(
        update(EmailSignin).where(*_live(_hash(token), now)).values(used_at=now)
        .returning(EmailSignin.person_id, EmailSignin.email)).first()
    if used is None:
        raise NotFound(BAD_LINK, "bad_email_link")
    return used


def _update_person(used, *conditions, **values):
    """A conditional UPDATE of the link's person while its identity is still the link's
    address; whether it matched. In SQL, so a concurrent change of address or confirmation
    is seen (PostgreSQL re-checks the conditions on the row it waited for)."""
    # "fetch": a Person already loaded in this session (the signed-in one) gets the new values.
    return db.session.execute(
        update(Person).where(Person.id == used.person_id, Person.email == used.email, *conditions)
        .values(**values).returning(Person.id).execution_options(synchronize_session="fetch")).first() is not None


def redeem(token, *, current=None, now=None):
    """Use a link up and return its person, confirming the address it went to.

    `current` is the person this device is signed in as (None if nobody). When the link
    confirms an address that was unconfirmed until now and the device was not already that
    person, every other sign-in of the person ends (generation bumped, personal sign-in link
    and join form voided): whoever typed this address as theirs is signed out, and the
    caller signs this device in with the new generation. Other unused links stay valid until
    they expire. Raises NotFound "bad_email_link" for an unknown, used or expired link, or
    one whose address is no longer the person's identity.
    """
    now = now or utcnow()
    with transaction():
        used = _use(token, now)
        signs_out_others = current is None or current.id != used.person_id
        others = ({"session_generation": Person.session_generation + 1, "signin_secret_hash": None,
                   "join_nonce": None} if signs_out_others else {})
        first = _update_person(used, Person.email_confirmed_at.is_(None), email_confirmed_at=now, **others)
        if not first and not _update_person(used, email_confirmed_at=now):
            raise NotFound(BAD_LINK, "bad_email_link")  # the address changed since the link was checked
        person = db.session.get(Person, used.person_id)
        if person.claimed_at is None:  # an imported guest: opening the link claims their badge
            person.claimed_at = now
        changelog.record("email_signin.used", changelog.person(person), confirmed_first=first,
                         signed_out_others=first and signs_out_others)
    return person


def release(token, *, now=None):
    """Free an unconfirmed address from the profile a link names ("this isn't my profile"),
    using the link up; signs no one in. Whoever opened a link to the address holds its
    mailbox, which a profile that only typed it cannot say; a confirmed address stays.

    Raises NotFound "bad_email_link" for an unknown, used or expired link, or one whose
    address is no longer the person's identity, and DomainError "email_confirmed" when the
    address is confirmed on that profile (nothing is changed: the link still works).
    """
    now = now or utcnow()
    with transaction():
        used = _use(token, now)
        if not _update_person(used, Person.email_confirmed_at.is_(None), email=None):
            holder = db.session.get(Person, used.person_id, populate_existing=True)
            if holder.email == used.email and holder.email_confirmed_at is not None:
                raise DomainError("That address is confirmed on this profile, so it can't be freed here.",
                                  "email_confirmed")
            raise NotFound(BAD_LINK, "bad_email_link")  # the address changed since the link was checked
        changelog.record("email_signin.released", None, person=used.person_id)
    return None


def void_links_of(person, *, now=None):
    """End every unused link of `person` now, in the caller's transaction (signing out everywhere)."""
    now = now or utcnow()
    db.session.execute(update(EmailSignin).where(EmailSignin.person_id == person.id, EmailSignin.used_at.is_(None),
                                                 EmailSignin.expires_at > now)
                       .values(expires_at=now).execution_options(synchronize_session=False))
