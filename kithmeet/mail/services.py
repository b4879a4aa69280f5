"""Putting mail in the queue, and taking it out. `queue` writes in the caller's transaction,
like `audit.services.record`: a change and the mail it causes are saved together or not at
all, and a rolled-back change never mails anyone. The worker (`mail/worker.py`) sends later,
and empties a message's body, headers and address once it is sent or has failed for good.
`drop_queued_to` (an account's deletion) and `purge_finished` (`flask purge`) delete rows."""
import json
import re
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, insert, select

from .. import changelog, wakeups
from ..emails import checked_email
from ..database import transaction, utcnow
from ..errors import DomainError
from ..extensions import db
from .models import OutgoingMail

MAX_SUBJECT = 200
# Headers the message builder sets itself; an extra header may not replace them.
RESERVED_HEADERS = {"from", "to", "cc", "bcc", "subject", "date", "message-id", "mime-version",
                    "content-type", "content-transfer-encoding", "sender", "reply-to"}
_HEADER_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,62}$")
_LINE_BREAK = re.compile(r"[\r\n\x00]")


def queue(to, subject, text, html=None, headers=None):
    """Add a message to `to` to the caller's transaction and return it. Never commits.

    Raises DomainError "bad_email" when `to` is empty or not an address. Subject and headers
    come from code, not from people: a line break in them, a reserved or malformed header
    name, or an over-long subject is a ValueError (a bug), never a header injection.
    """
    mail = OutgoingMail(**_checked(to, subject, text, html, headers))
    db.session.add(mail)
    db.session.flush()  # the id, for the log line
    changelog.record("mail.queued", "system", mail=mail.id)
    wakeups.ring(wakeups.MAIL)  # once committed: the worker sends it now, not at its next poll
    return mail


def queue_many(messages):
    """`queue` for many messages at once, each a (to, subject, text, html, headers) tuple, in
    the caller's transaction: all are checked first (raising as `queue` does, before
    anything is added), then written by one INSERT, so a digest to a whole event costs the
    statements of one mail. Returns the new rows' ids."""
    rows = [_checked(*message) for message in messages]
    if not rows:
        return []
    # A bulk INSERT: the ORM's unit of work would send one statement per row on SQLite.
    ids = db.session.scalars(insert(OutgoingMail).returning(OutgoingMail.id), rows).all()
    for mail_id in ids:
        changelog.record("mail.queued", "system", mail=mail_id)
    wakeups.ring(wakeups.MAIL)
    return ids


def drop_queued_to(addresses):
    """Delete every message not yet sent to `addresses` (a list, or a SELECT of one column),
    in the caller's transaction, in one statement; returns how many. A message a worker is
    sending at this moment still goes out; its mark then finds no row (worker.py)."""
    return db.session.execute(
        delete(OutgoingMail).where(OutgoingMail.status == "queued", OutgoingMail.to_address.in_(addresses))
        .execution_options(synchronize_session=False)).rowcount


def _finished_before(now):
    # A sent message finished at `sent_at`; a failed one when its last attempt was due (the
    # give-up leaves `next_attempt_at` there).
    cutoff = now - timedelta(days=current_app.config["MAIL_KEEP_DAYS"])
    return (OutgoingMail.status.in_(("sent", "failed")),
            func.coalesce(OutgoingMail.sent_at, OutgoingMail.next_attempt_at) < cutoff)


def finished_count(now=None):
    """How many sent or failed messages `purge_finished(now)` would delete (`purge --dry-run`)."""
    return db.session.scalar(select(func.count(OutgoingMail.id)).where(*_finished_before(now or utcnow())))


def purge_finished(now=None):
    """Delete the sent and failed messages that finished more than MAIL_KEEP_DAYS before `now`,
    in one statement; returns how many. Queued messages stay, however old: they are still
    to be sent."""
    with transaction():
        count = db.session.execute(delete(OutgoingMail).where(*_finished_before(now or utcnow()))
                                   .execution_options(synchronize_session=False)).rowcount
        changelog.record("mail.purged", "system", messages=count)
    return count


def _checked(to, subject, text, html=None, headers=None):
    address = checked_email(to)
    if address is None:
        raise DomainError("That email address doesn't look right.", "bad_email")
    if not subject or _LINE_BREAK.search(subject) or len(subject) > MAX_SUBJECT:
        raise ValueError("a mail subject is one line of at most 200 characters")
    headers = dict(headers or {})
    for name, value in headers.items():
        if not _HEADER_NAME.match(name) or name.lower() in RESERVED_HEADERS:
            raise ValueError(f"refusing mail header {name!r}")
        if not isinstance(value, str) or _LINE_BREAK.search(value):
            raise ValueError(f"mail header {name!r} must be one line of text")
    return {"to_address": address, "subject": subject, "text_body": text, "html_body": html,
            "headers": json.dumps(headers, sort_keys=True)}
