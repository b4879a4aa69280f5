"""A person's e-mail identity: one address, one person.

Separate from the "email" contact field (what connections see, with its share switch).
Guest-list import, e-mail sign-in and account recovery key on this one, so an address
belongs to at most one person, compared case-insensitively: `Person.email` always holds
`normalize_email`'s form, and a unique index on it settles races.
"""
from sqlalchemy import insert, select, update

from .. import changelog
from ..database import transaction
from ..emails import MAX_EMAIL, checked_email, normalize_email
from ..errors import DomainError
from ..extensions import db
from .models import Person


def _taken():
    return DomainError("That email address already belongs to another profile.", "email_taken")


def person_by_email(email):
    """The person whose identity this address is, whatever its case; None if nobody's."""
    address = normalize_email(email)
    if not address or len(address) > MAX_EMAIL:
        return None
    return db.session.scalar(select(Person).where(Person.email == address))


def claim_email(person, email):
    """Make `email` the person's identity, in the caller's transaction (no commit). A changed
    address is no longer confirmed (`email_confirmed_at` cleared); the same one stays so.

    Raises "bad_email" for something that isn't an address and "email_taken" when another
    person holds it. The check can lose a race to a concurrent claim; the unique index then
    refuses the write with an IntegrityError, which the caller's
    `transaction(conflict=DomainError(..., "email_taken"))` turns into the same error.
    """
    address = checked_email(email)
    if address is None:
        raise DomainError("Enter an email address.", "bad_email")
    holder = select(Person.id).where(Person.email == address)
    if person.id is not None:
        holder = holder.where(Person.id != person.id)
    if db.session.scalar(holder) is not None:
        raise _taken()
    if person.email != address:
        person.email_confirmed_at = None  # a new address is unproven until a link to it is opened
    person.email = address
    db.session.flush()  # a lost race surfaces here, at the claim, not at some later commit
    return person


def set_email(person, email):
    """Set (or, given nothing, clear) a person's e-mail identity; all or nothing. Raises
    "bad_email" and "email_taken" as `claim_email` does."""
    address = checked_email(email)  # validate before touching anything
    with transaction(conflict=_taken()):
        if address is None:
            person.email = person.email_confirmed_at = None
        else:
            claim_email(person, address)
        changelog.record("person.email_set" if address else "person.email_cleared", changelog.person(person))
    return person



def add_unclaimed(people):
    """Insert imported guests in bulk, in the caller's transaction: dicts of name, headline and
    an address already `checked_email`ed and held by nobody (the caller looked). No claimed_at:
    each claims their badge later. {address: person id}. One multi-row INSERT per batch, not
    one flush per person; a lost race on an address fails the unique index like claim_email."""
    if not people:
        return {}
    rows = [{"name": p["name"], "headline": p["headline"], "email": p["email"], "claimed_at": None} for p in people]
    # The table, not the entity: ORM bulk inserts drop None values, so claimed_at's default would fill it.
    table = Person.__table__
    # Unordered RETURNING (rows are matched by address): asking for parameter order makes
    # SQLite fall back to one INSERT per row.
    inserted = db.session.execute(insert(table).returning(table.c.id, table.c.email), rows)
    return {email: person_id for person_id, email in inserted}


def claim_badge(person_id, now):
    """An imported guest takes their badge in hand: claimed_at set, in the caller's transaction.
    Whether this call claimed it (False: claimed already, or no such person). A conditional
    UPDATE, so of two claims at once exactly one is told it claimed."""
    return db.session.execute(
        update(Person).where(Person.id == person_id, Person.claimed_at.is_(None)).values(claimed_at=now)
        .returning(Person.id).execution_options(synchronize_session="fetch")).first() is not None
