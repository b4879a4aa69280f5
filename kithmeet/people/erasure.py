"""Deleting people: every trace of their personal data goes, in one transaction.

One service for both ways an account ends: its owner deletes it ("Delete my account"), or
the retention purge finds it expired (people/retention.py). What goes:

- the person row, and with it, by the schema's ON DELETE rules: contact fields, prompt
  answers, check-ins, scans made and received, replaced badge codes, their own side of
  every connection (status, private note), their drafts, series removals, and every report
  they filed or that names them (reports/models.py says why);
- the talked-about line of every encounter they were part of, emptied by connections/notes.py,
  and the other person's drafts on those connections (followup/drafts.py), which may quote it;
- a connection left with no side at all;
- mail still queued to their e-mail identity (a sign-in link, a digest, a nudge), or to an
  address they were sent a sign-in link at that is nobody else's identity now.

Mail already sent to them keeps no body and only a masked address (mail/worker.py), until
`flask purge` deletes it. Mail queued to someone else before the deletion and quoting them
(another person's digest) is still sent, and emptied once it is.

What stays: the other person's side of each connection, their private note and status, and
the encounters with only their event and date; `connection.person_a_id` or `person_b_id`
becomes NULL (ON DELETE SET NULL), which the follow-up page shows as an account deleted.
"""
from flask import current_app
from sqlalchemy import delete, exists, or_, select, union

from .. import changelog, signals
from ..connections import notes
from ..connections.models import Connection, ConnectionSide
from ..database import transaction
from ..errors import DomainError
from ..extensions import db
from ..followup import drafts
from ..mail import services as mail
from .models import EmailSignin, Person

CONFIRM_WORD = "DELETE"


def delete_account(person, confirmation):
    """The person deletes their own account, after typing CONFIRM_WORD (any case).

    Raises DomainError confirm_delete before anything is written. The caller signs the
    current device out; every other device's sign-in names a person who no longer exists.
    """
    if (confirmation or "").strip().upper() != CONFIRM_WORD:
        raise DomainError(f"Type {CONFIRM_WORD} to confirm that your account should be deleted.", "confirm_delete")
    with transaction():
        erase([person.id], actor=changelog.person(person))


def erase(person_ids, *, actor):
    """Delete these people and everything about them, in the caller's transaction.

    The same few statements for one person or a batch of hundreds (the purge). Sends
    `person_deleted` for each before the rows go, so a receiver can still find what it
    keeps about them.
    """
    ids = sorted(set(person_ids))
    if not ids:
        return
    app = current_app._get_current_object()
    for person_id in ids:
        signals.person_deleted.send(app, person_id=person_id)
    notes.erase_shared_lines(ids)
    drafts.erase_on_connections_of(ids)
    # Connections whose every side belongs to these people: nobody is left to see them.
    others_side = exists().where(ConnectionSide.connection_id == Connection.id, ConnectionSide.person_id.not_in(ids))
    db.session.execute(delete(Connection).where(
        or_(Connection.person_a_id.in_(ids), Connection.person_b_id.in_(ids)), ~others_side)
        .execution_options(synchronize_session=False))
    mail.drop_queued_to(_addresses_of(ids))
    # Deleted in SQL, not through the ORM: the schema's ON DELETE rules remove the rest in this
    # one statement, however many rows each person has.
    db.session.execute(delete(Person).where(Person.id.in_(ids)).execution_options(synchronize_session=False))
    for person_id in ids:
        changelog.record("person.deleted", actor, person=person_id)


def _addresses_of(ids):
    """Their identities, and the addresses their sign-in links went to (an identity changed
    while a link waited in the queue) unless someone else holds that address now; a SELECT,
    so the mail DELETE reads it in its one statement however much is queued."""
    others = select(Person.email).where(Person.id.not_in(ids), Person.email.is_not(None))
    return union(select(Person.email).where(Person.id.in_(ids), Person.email.is_not(None)),
                 select(EmailSignin.email).where(EmailSignin.person_id.in_(ids), EmailSignin.email.not_in(others)))
