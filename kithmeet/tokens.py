"""Random, unguessable codes for URLs and QR codes.

Badge tokens use digits and capitals without the look-alikes (0/O, 1/I/L), so they are
QR alphanumeric-mode characters and can be read aloud or typed from a printed badge.
"""
import re
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
BADGE_TOKEN_LENGTH = 11  # 31**11 ≈ 2**54
EVENT_CODE_LENGTH = 10
_NOT_TOKEN = re.compile(r"[\s\-_.]")
TOKEN_PATTERN = re.compile(rf"^[{ALPHABET}]{{{EVENT_CODE_LENGTH},{BADGE_TOKEN_LENGTH}}}$")


def new_code(length=BADGE_TOKEN_LENGTH):
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def normalize(text):
    """A code as a person may type it: any case, with spaces or dashes between groups."""
    return _NOT_TOKEN.sub("", (text or "").upper())


def looks_valid(code):
    return bool(TOKEN_PATTERN.match(code or ""))


def grouped(code):
    """'K7QM4XTR9PA' -> 'K7QM 4XTR 9PA', for printing under a QR."""
    return " ".join(code[i:i + 4] for i in range(0, len(code), 4))


def new_secret():
    """A long secret for sign-in links (never shown in a QR)."""
    return secrets.token_urlsafe(24)
