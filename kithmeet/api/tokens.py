"""Personal API tokens: a person makes one for an integration, sees its secret once, and can
revoke it. Only the SHA-256 of the secret is stored, so a copy of the database signs no one in.

A token acts as its person only while the person's session generation is the one it was made
with: signing out everywhere (people.services.sign_out_everywhere), or an address confirmed
from another device, ends every token with every sign-in.
"""
import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import func, select, update

from .. import changelog
from ..database import transaction, utcnow
from ..errors import DomainError, NotFound
from ..extensions import db
from ..formtools import hidden_characters
from ..people.models import Person
from .models import ApiToken

SCHEME = "km_"  # every secret starts so: a leaked one is easy to recognise in a paste or a scan
PREFIX_LENGTH = 10  # "km_" and seven characters: enough to tell a person's tokens apart
MAX_NAME = 80
MAX_TOKENS = 20  # per person; a person who needs more has lost track of them
MAX_SECRET = 100  # anything longer is not one of ours, and is not hashed
TOUCH_EVERY = timedelta(hours=1)  # last_used_at is a hint, not a log: one write an hour at most


def _hash(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


def clean_name(name):
    """The token's name, trimmed; raises DomainError name_required, too_long, control_characters."""
    name = " ".join((name or "").split())
    if not name:
        raise DomainError("Name the token after what will use it, such as “My CRM”.", "name_required")
    if len(name) > MAX_NAME:
        raise DomainError(f"Keep the name to {MAX_NAME} characters or fewer.", "too_long")
    if hidden_characters(name):
        raise DomainError("Remove the invisible or direction-changing characters.", "control_characters")
    return name


def tokens_of(person):
    """The person's tokens, newest first."""
    return db.session.scalars(select(ApiToken).where(ApiToken.person_id == person.id)
                              .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())).all()


def create(person, name):
    """A new token for `person`: returns (token, secret). The secret exists only in this return
    value. Raises DomainError name_required, too_long, control_characters, too_many_tokens."""
    name = clean_name(name)
    count = db.session.scalar(select(func.count(ApiToken.id)).where(ApiToken.person_id == person.id))
    if count >= MAX_TOKENS:
        raise DomainError(f"You have {MAX_TOKENS} tokens already. Revoke one you no longer use first.",
                          "too_many_tokens")
    secret = SCHEME + secrets.token_urlsafe(32)
    with transaction():
        token = ApiToken(person_id=person.id, name=name, token_hash=_hash(secret), prefix=secret[:PREFIX_LENGTH],
                         generation=person.session_generation)
        db.session.add(token)
        db.session.flush()
        changelog.record("api_token.created", changelog.person(person), token=token.id)
    return token, secret


def revoke(person, public_id):
    """Delete one of the person's tokens; anyone else's, or one already revoked, is NotFound
    unknown_token (revoking twice answers the same as a token that never was)."""
    token = db.session.scalar(select(ApiToken).where(ApiToken.public_id == (public_id or "")[:16],
                                                     ApiToken.person_id == person.id))
    if token is None:
        raise NotFound("That token isn't one of yours, or it was revoked already.", "unknown_token")
    with transaction():
        changelog.record("api_token.revoked", changelog.person(person), token=token.id)
        db.session.delete(token)


def authenticate(secret):
    """(token, person) for a secret sent as a bearer token, or None: unknown, revoked, or made
    before its person last signed out everywhere. One query.

    The lookup is by the secret's SHA-256, so how long a wrong guess takes says nothing about
    any stored secret; the compare after it is constant-time anyway.
    """
    if not secret or len(secret) > MAX_SECRET or not secret.startswith(SCHEME) or not secret.isascii():
        return None
    digest = _hash(secret)
    row = db.session.execute(
        select(ApiToken, Person).join(Person, Person.id == ApiToken.person_id)
        .where(ApiToken.token_hash == digest, ApiToken.generation == Person.session_generation)).first()
    if row is None or not hmac.compare_digest(row[0].token_hash, digest):
        return None
    return row[0], row[1]


def touch(token, now=None):
    """Note that the token was used, at most once an hour (a conditional UPDATE, so many
    requests at once write once)."""
    now = now or utcnow()
    if token.last_used_at is not None and now - token.last_used_at < TOUCH_EVERY:
        return
    with transaction():
        db.session.execute(
            update(ApiToken).where(ApiToken.id == token.id,
                                   (ApiToken.last_used_at.is_(None)) | (ApiToken.last_used_at <= now - TOUCH_EVERY))
            .values(last_used_at=now).execution_options(synchronize_session=False))
