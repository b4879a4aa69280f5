"""Putting mail in the queue. `queue` writes in the caller's transaction, like
`audit.services.record`: a change and the mail it causes are saved together or not at all,
and a rolled-back change never mails anyone. The worker (`mail/worker.py`) sends later."""
import json
import re

from .. import changelog
from ..emails import checked_email
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
    mail = OutgoingMail(to_address=address, subject=subject, text_body=text, html_body=html,
                        headers=json.dumps(headers, sort_keys=True))
    db.session.add(mail)
    db.session.flush()  # the id, for the log line
    changelog.record("mail.queued", "system", mail=mail.id)
    return mail
