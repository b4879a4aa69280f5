"""E-mail addresses as kithmeet compares and checks them: one normal form for every account
kind (an attendee's identity, an organizer's sign-in), so the same address is the same
address everywhere."""
import unicodedata

from email_validator import EmailNotValidError, validate_email

from .errors import DomainError

MAX_EMAIL = 254  # RFC 5321's limit on a forward-path, and the columns' length


def normalize_email(text):
    """The stored, compared form: trimmed, NFC, lower-cased ("" for nothing).

    The whole address is lower-cased, local part included: mail systems treat it
    case-insensitively in practice, and Ada@x.org and ada@x.org must be one person.
    """
    return unicodedata.normalize("NFC", (text or "").strip()).lower()


def checked_email(text):
    """`text` as a normalised address, None when empty, or DomainError "bad_email"."""
    address = normalize_email(text)
    if not address:
        return None
    if len(address) > MAX_EMAIL:
        raise DomainError(f"Use an email address of at most {MAX_EMAIL} characters.", "bad_email")
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        raise DomainError("That email address doesn't look right.", "bad_email") from None
    return address
