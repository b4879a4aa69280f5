"""Field helpers shared by every domain's forms."""
import re
import unicodedata
from urllib.parse import urlsplit

from flask import request
from flask_wtf import FlaskForm
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


# Characters that change how text around them is shown without being seen themselves: a
# right-to-left override turns "Ada" into a different-looking name, a zero-width space or a
# soft hyphen hides inside one, a Hangul filler looks like nothing at all. Format characters
# (Cf) are refused but for the zero-width joiner and non-joiner, which emoji sequences and
# Persian script need; line and paragraph separators and unassigned code points too.
REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
ALLOWED_FORMAT = {"\u200c", "\u200d"}
BLANK_LOOKING = set("\u034f\u115f\u1160\u180e\u2800\u3164\uffa0")
MAX_STACKED_MARKS = 4  # accents on one letter; more is a tower drawn over the lines around it


def hidden_characters(text, multiline=False):
    """The first invisible, disguising or stacking character in `text`, or None."""
    allowed = {"\n", "\r", "\t"} if multiline else set()
    stacked = 0
    for ch in text or "":
        if ch in allowed:
            stacked = 0
            continue
        category = unicodedata.category(ch)
        if (category in REFUSED_CATEGORIES and ch not in ALLOWED_FORMAT) or ch in BLANK_LOOKING:
            return ch
        stacked = stacked + 1 if category in ("Mn", "Me") else 0
        if stacked > MAX_STACKED_MARKS:
            return ch
    return None


def no_controls(multiline=False):
    """Reject invisible control characters and those that disguise text (but keep emoji,
    accents and right-to-left script)."""
    def check(_form, field):
        if isinstance(field.data, str) and hidden_characters(field.data, multiline):
            raise ValidationError(coded("control_characters",
                                        "Remove the invisible or direction-changing characters from this field."))
    return check


def at_most(n):
    def check(_form, field):
        if field.data and len(field.data) > n:
            raise ValidationError(coded("too_long", f"Keep this to {n} characters or fewer."))
    return check


def required(message):
    """DataRequired with a code: the field is empty (or only spaces)."""
    return DataRequired(coded("required", message))


HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def web_url(value, *, host=None):
    """Normalise 'example.com' to 'https://example.com'; refuse anything not a plain http(s)
    address a browser would open where it says (no backslashes, credentials or odd hosts)."""
    value = (value or "").strip()
    if not value:
        return ""
    if "\\" in value or hidden_characters(value) or any(ch.isspace() for ch in value):
        raise ValidationError(coded("bad_url", "That doesn't look like a web address. Try https://example.com."))
    if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", value):
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", value) and not re.match(r"^[^:/]+:\d", value):
            raise ValidationError(coded("bad_url", "Use a web address starting with https://."))
        value = "https://" + value
    try:
        parts = urlsplit(value)  # raises ValueError for a lone "[" (an unfinished IPv6 host)
        hostname = (parts.hostname or "").lower()
        ascii_host = hostname.encode("idna").decode("ascii")
        port = parts.port  # raises ValueError for a port out of range
    except (UnicodeError, ValueError):
        raise ValidationError(coded("bad_url", "That doesn't look like a web address. "
                                               "Try https://example.com.")) from None
    if (parts.scheme.lower() not in ("http", "https") or not HOSTNAME.match(ascii_host) or port == 0
            or parts.username is not None or parts.password is not None):
        raise ValidationError(coded("bad_url", "That doesn't look like a web address. Try https://example.com."))
    if host and hostname != host and not hostname.endswith("." + host):
        raise ValidationError(coded("bad_url", f"Use a {host} address, or just your profile name."))
    return value


class Form(FlaskForm):
    """Every form's base: a field whose bytes were not UTF-8 gets a message beside it (werkzeug
    would otherwise keep them as literal percent-escapes) and the rest is still checked."""

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        undecodable = request.undecodable_fields() if hasattr(request, "undecodable_fields") else set()
        for field in self:
            if field.name in undecodable:
                field.errors = [*field.errors, coded("invalid_utf8", "Some characters here could not be read. "
                                                                   "Type them again.")]
                valid = False
        return valid


def allow_upload(blueprint, endpoint, limit):
    """Let `endpoint` take a body of up to `limit` bytes, past the app's MAX_CONTENT_LENGTH for
    forms. Set in a url_value_preprocessor because those run before every before_request hook,
    CSRFProtect's included, which reads the body: a limit set in the view would come too late."""
    @blueprint.url_value_preprocessor
    def _allow(matched, _values):
        if matched == endpoint:
            request.max_content_length = limit
