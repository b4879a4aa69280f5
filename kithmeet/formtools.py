"""Field helpers shared by every domain's forms."""
import re
import unicodedata
from urllib.parse import urlsplit

from wtforms.validators import DataRequired, ValidationError


class Coded(str):
    """An error message that also carries its stable code, so pages can show the words and
    tests (and scripts) can rely on the code. WTForms keeps the object it is raised with."""

    code = "invalid"


def coded(code, message):
    text = Coded(message)
    text.code = code
    return text


def strip(value):
    """Trim, and store line breaks as \n whatever the browser sent (forms post \r\n)."""
    return value.replace("\r\n", "\n").strip() if isinstance(value, str) else value


def no_controls(multiline=False):
    """Reject invisible control characters (but keep emoji, accents and right-to-left text)."""
    allowed = {"\n", "\r", "\t"} if multiline else set()

    def check(_form, field):
        for ch in field.data or "":
            if ch not in allowed and unicodedata.category(ch) == "Cc":
                raise ValidationError(coded("control_characters",
                                            "Remove the invisible control characters from this field."))
    return check


def at_most(n):
    def check(_form, field):
        if field.data and len(field.data) > n:
            raise ValidationError(coded("too_long", f"Keep this to {n} characters or fewer."))
    return check


def required(message):
    """DataRequired with a code: the field is empty (or only spaces)."""
    return DataRequired(coded("required", message))


def web_url(value, *, host=None):
    """Normalise 'example.com' to 'https://example.com'; refuse anything not http(s)."""
    value = (value or "").strip()
    if not value:
        return ""
    if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", value):
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", value) and not re.match(r"^[^:/]+:\d", value):
            raise ValidationError(coded("bad_url", "Use a web address starting with https://."))
        value = "https://" + value
    parts = urlsplit(value)
    hostname = (parts.hostname or "").lower()
    if parts.scheme.lower() not in ("http", "https") or "." not in hostname or " " in value:
        raise ValidationError(coded("bad_url", "That doesn't look like a web address. Try https://example.com."))
    if host and hostname != host and not hostname.endswith("." + host):
        raise ValidationError(coded("bad_url", f"Use a {host} address, or just your profile name."))
    return value
