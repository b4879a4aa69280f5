"""What the API accepts: a JSON object with known fields of the right types, read here before
any service sees it. Each refusal is a DomainError with a code, never a 500: a body that is not
JSON (or not UTF-8, or nested past the parser's depth) is `bad_json`, anything but an object is
`bad_body`, an unknown field `unknown_field`, a missing one `missing_field`, a wrong type
`bad_type`. The services then check the values themselves (lengths, hidden characters, codes).
"""
import json
import re
from datetime import date, datetime, timezone

from flask import request

from ..errors import DomainError, NotFound
from ..urls import badge_token_from

CLIENT_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")  # a UUID, with or without its dashes
MAX_BADGE = 300  # a badge link with a long host, as the typed-code form allows
MAX_TIME = 40


def json_object(fields):
    """The request's body as a dict holding only `fields` ({name: (types, required)})."""
    if not request.is_json:
        raise DomainError("Send the body as JSON, with Content-Type: application/json.",
                          "unsupported_media_type", status=415)
    raw = request.get_data(cache=True)  # past the API's body limit this raises the 413 (too_large)
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested deeper than the parser goes
        raise DomainError("The request body is not valid JSON.", "bad_json") from None
    if not isinstance(data, dict):
        raise DomainError("The request body must be a JSON object.", "bad_body")
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise DomainError(f"Unknown field: {unknown[0][:40]}.", "unknown_field")
    for name, (types, needed) in fields.items():
        if name not in data:
            if needed:
                raise DomainError(f"The field {name} is required.", "missing_field")
            continue
        value = data[name]
        # bool is an int to Python, never to a client
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise DomainError(f"The field {name} has the wrong type.", "bad_type")
    return data


def client_id(value):
    if not isinstance(value, str) or not CLIENT_ID.match(value):
        raise DomainError("A client id is 8 to 64 letters, digits and dashes, such as a UUID.", "bad_client_id")
    return value


def badge(value):
    """A badge's token as a person or a camera may give it: the token, the code typed with
    spaces or dashes, or the badge's link on this site in any case (urls.badge_token_from).
    Anything else is `unknown_badge` (404), as a code that is no one's; the services decide
    whether a token is someone's."""
    if len(value) > MAX_BADGE:
        raise DomainError(f"A badge is at most {MAX_BADGE} characters.", "too_long")
    token = badge_token_from(value)
    if token is None:
        raise NotFound("That isn't a badge of this site. Send the code under the QR, or the badge's link.",
                       "unknown_badge")
    return token


def instant(value):
    """An ISO 8601 time with its offset (or Z) as naive UTC; None stays None."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value) if len(value) <= MAX_TIME else None
        if moment is not None and moment.tzinfo is not None:
            return moment.astimezone(timezone.utc).replace(tzinfo=None)
    except (ValueError, OverflowError):  # not a time, or one that leaves the calendar in UTC
        pass
    raise DomainError("Give the time in ISO 8601 with its offset, such as 2026-11-26T19:30:00Z.", "bad_time")


def day(value):
    """A date as YYYY-MM-DD; None stays None."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise DomainError("Give the day as YYYY-MM-DD.", "bad_snooze_date")
