"""vCard 3.0 text (RFC 2426), the version every phone's address book imports.

Values are escaped (backslash, comma, semicolon, line breaks) and lines folded at 75 bytes
without splitting a UTF-8 character, so names in any script and emoji arrive intact.
"""
from dataclasses import dataclass, field

PROPERTY = {"email": "EMAIL;TYPE=INTERNET", "phone": "TEL", "linkedin": "URL", "website": "URL"}
LINE_BYTES = 75


def escape(text):
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;").replace("\n", "\\n")


def fold(line):
    """The line as physical lines of at most LINE_BYTES bytes, each after the first led by a space."""
    parts, current, size = [], "", 0
    for ch in line:
        width = len(ch.encode())
        if size + width > LINE_BYTES:
            parts.append(current)
            current, size = " ", 1
        current += ch
        size += width
    parts.append(current)
    return "\r\n".join(parts)


@dataclass
class Card:
    name: str
    title: str = ""
    contacts: list = field(default_factory=list)  # (kind, value) pairs, kinds from PROPERTY
    note: str = ""

    def text(self):
        # kithmeet asks for one name, so N is not split at a space: which word is the family
        # name depends on the culture (family first, two surnames, one name only); the whole
        # name goes in N's given-name part, and address books show FN.
        lines = ["BEGIN:VCARD", "VERSION:3.0", f"FN:{escape(self.name)}", f"N:;{escape(self.name)};;;"]
        if self.title:
            lines.append(f"TITLE:{escape(self.title)}")
        lines += [f"{PROPERTY[kind]}:{escape(value)}" for kind, value in self.contacts if kind in PROPERTY]
        if self.note:
            lines.append(f"NOTE:{escape(self.note)}")
        lines.append("END:VCARD")
        return "".join(fold(line) + "\r\n" for line in lines)


def document(cards):
    return "".join(card.text() for card in cards)
