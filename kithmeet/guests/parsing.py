"""Reading an uploaded guest list: the bytes as text, the delimiter, the header, and which
column holds what.

Pure functions, no database: services.py stores the upload and runs the import. The files come
from Eventbrite, Meetup, Luma, Tito and pretix, or from a spreadsheet saved as CSV/TSV, so the
reader takes what those tools write: UTF-8 with or without a byte-order mark (or UTF-16 with
one, Excel's "Unicode text"), else Windows-1252 (Excel's CSV on Windows); commas, semicolons
(Excel where the decimal mark is a comma) or tabs; quoted fields with line breaks inside;
headers with stray spaces and any case. Every refusal is a DomainError with its code.
"""
import codecs
import csv
import io
from dataclasses import dataclass

from ..errors import DomainError

MAX_BYTES = 5 * 1024 * 1024
DELIMITERS = (",", ";", "\t")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
# What an import can fill in, in the order the mapping page lists them.
FIELDS = ("name", "first_name", "last_name", "email", "job_title", "company")
FIELD_LABELS = {"name": "Full name", "first_name": "First name", "last_name": "Last name", "email": "E-mail",
                "job_title": "Job title", "company": "Company"}
# Header names each platform writes, compared after `header_key`, best first: pretix and Tito
# write the buyer's e-mail beside each attendee's ("Email"/"Order Email"), and the attendee's
# is the one that names the person on the badge.
ALIASES = {
    "name": ("attendee name", "ticket full name", "name", "full name", "user_name", "attendee", "participant",
             "guest name"),
    "first_name": ("attendee name: given name", "ticket first name", "first name", "first_name", "firstname",
                   "given name", "forename", "vorname", "prénom", "prenom"),
    "last_name": ("attendee name: family name", "ticket last name", "last name", "last_name", "lastname",
                  "surname", "family name", "nachname"),
    "email": ("attendee email", "attendee e-mail", "ticket email", "email", "e-mail", "email address",
              "e-mail address", "user_email", "mail", "emailaddress"),
    "job_title": ("job title", "ticket job title", "jobtitle", "job_title", "position", "role"),
    "company": ("company", "ticket company name", "attendee company", "company name", "organization",
                "organisation", "company / organization", "employer", "firma"),
}
# A header that says which tool wrote the file (shown on the mapping page, nothing depends on it).
PLATFORMS = (
    ("Tito", ("ticket email", "ticket reference")),
    ("pretix", ("order code", "attendee name")),
    ("Eventbrite", ("order #", "attendee #")),
    ("Luma", ("api_id", "approval_status")),
    ("Meetup", ("user id", "rsvp")),
)
PREVIEW_ROWS = 5
# Exports have a few dozen columns; each is offered in six selects on every mapping page.
MAX_COLUMNS = 200
SHOWN_CELL = 200  # characters of a cell the mapping page shows (a header in a select, a preview value)


@dataclass(frozen=True)
class Table:
    """A decoded file: its header cells and the data rows, each (row number, cells). A row's
    number is the record's, counted from the header as 1: the row a spreadsheet shows it on."""
    encoding: str
    delimiter: str
    header: list
    rows: list

    @property
    def delimiter_name(self):
        return DELIMITER_NAMES[self.delimiter]


def _refuse(code, message):
    return DomainError(message, code)


def decode(data):
    """(text, encoding name) of an upload, or DomainError not_a_text_file, empty_file, file_too_large."""
    if len(data) > MAX_BYTES:
        raise _refuse("file_too_large", "That file is over 5 MB. Export only the attendee columns, or split it.")
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise _refuse("not_a_text_file", "That looks like an Excel workbook. Save it as CSV (comma-separated) "
                                         "and upload that.")
    if data.startswith(codecs.BOM_UTF8):
        text, encoding = _strict(data[len(codecs.BOM_UTF8):], "utf-8"), "UTF-8 (with byte-order mark)"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text, encoding = _strict(data, "utf-16"), "UTF-16"
    elif b"\x00" in data:
        raise _refuse("not_a_text_file", "That isn't a text file. Upload the guest list as CSV or TSV.")
    else:
        try:
            text, encoding = data.decode("utf-8"), "UTF-8"
        except UnicodeDecodeError:
            # Not UTF-8: Excel on Windows writes CSV in the ANSI code page, Windows-1252 in the West.
            text, encoding = _strict(data, "cp1252"), "Windows-1252"
    if "\x00" in text or _binary_looking(text):
        raise _refuse("not_a_text_file", "That isn't a text file. Upload the guest list as CSV or TSV.")
    if not text.strip():
        raise _refuse("empty_file", "That file is empty.")
    return text, encoding


def _strict(data, encoding):
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise _refuse("not_a_text_file", "That file's characters could not be read. Save it as CSV in UTF-8 "
                                         "and upload that.") from None


def _binary_looking(text):
    # A PDF or an image that happens to decode as Windows-1252 is full of control characters.
    sample = text[:4096]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n")
    return controls > max(2, len(sample) // 100)


def sniff_delimiter(text):
    """The delimiter of the header line: whichever of comma, semicolon and tab appears most
    outside quotes (comma on a tie, and for a one-column file)."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in "\r\n":
            if any(counts.values()):
                break
        elif not quoted and ch in counts:
            counts[ch] += 1
    return max(DELIMITERS, key=lambda d: counts[d])  # max keeps the first of equals: comma


def read(data):
    """The file as a Table. Raises what `decode` raises, empty_file for a file with no rows
    under its header, too_many_columns for a header over MAX_COLUMNS, and broken_file when a
    quote is never closed (the rest of the file would be one field): said with the line,
    nothing read."""
    text, encoding = decode(data)
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header, rows, number = None, [], 0
    try:
        for cells in reader:
            number += 1
            if not any(cell.strip() for cell in cells):
                continue  # blank lines (and lines of empty cells) between or after rows
            if header is None:
                if len(cells) > MAX_COLUMNS:
                    raise _refuse("too_many_columns", f"That file has {len(cells):,} columns, more than the "
                                                      f"{MAX_COLUMNS} a guest list can have. Export only the attendee "
                                                      "columns.")
                header, number = [cell.strip() for cell in cells], 1
            else:
                rows.append((number, cells))
    except csv.Error:
        raise _refuse("broken_file", f"Line {reader.line_num} of the file is broken (a quote that never closes?). "
                                     "Fix it and upload again.") from None
    if header is None:
        raise _refuse("empty_file", "That file is empty.")
    if not rows:
        raise _refuse("empty_file", "That file has a header but no guests under it.")
    return Table(encoding=encoding, delimiter=delimiter, header=header, rows=rows)


def header_key(text):
    """A header as compared: no byte-order mark, spaces trimmed and collapsed, case folded."""
    return " ".join((text or "").replace("\ufeff", "").split()).casefold()


def detect_mapping(header):
    """{field: column index or None}, from the header's names. A column serves one field; an
    e-mail column named otherwise ("What's your email?", a Meetup RSVP question) is found by
    the word. A full name wins over first and last names only when those are missing."""
    keys = [header_key(cell) for cell in header]
    used, mapping = set(), {}
    for field in ("email", "first_name", "last_name", "name", "job_title", "company"):
        found = next((keys.index(alias) for alias in ALIASES[field] if alias in keys and keys.index(alias) not in used),
                     None)
        if found is None and field == "email":
            found = next((i for i, key in enumerate(keys) if ("email" in key or "e-mail" in key) and i not in used),
                         None)
        mapping[field] = found
        if found is not None:
            used.add(found)
    if mapping["first_name"] is not None and mapping["name"] is not None:
        mapping["name"] = None  # first and last names are the person's; "Name" may be an order's
    return {field: mapping[field] for field in FIELDS}


def platform(header):
    """Which tool's export this looks like ("CSV" when none)."""
    keys = set(header_key(cell) for cell in header)
    return next((name for name, marks in PLATFORMS if any(mark in keys for mark in marks)), "CSV")


def check_mapping(mapping, columns):
    """The mapping with every index inside the file, or DomainError no_email_column /
    no_name_column / bad_mapping. Nothing can be imported without an e-mail and a name."""
    checked = {}
    for field in FIELDS:
        index = mapping.get(field)
        if index is not None and not (isinstance(index, int) and 0 <= index < columns):
            raise _refuse("bad_mapping", "Choose columns from the file.")
        checked[field] = index
    chosen = [index for index in checked.values() if index is not None]
    if len(chosen) != len(set(chosen)):
        raise _refuse("bad_mapping", "Use each column for one field only.")
    if checked["email"] is None:
        raise _refuse("no_email_column", "Choose the column that holds the e-mail addresses: guests are matched "
                                         "by e-mail.")
    if checked["name"] is None and checked["first_name"] is None and checked["last_name"] is None:
        raise _refuse("no_name_column", "Choose the column that holds the names (a full name, or first and last).")
    return checked


def cell(cells, index):
    return cells[index].strip() if index is not None and index < len(cells) else ""


def row_values(cells, mapping):
    """One row's fields under the mapping: name (the full name, else first and last joined),
    email, and headline (job title and company)."""
    name = " ".join(cell(cells, mapping["name"]).split())
    if not name:
        name = " ".join(" ".join((cell(cells, mapping["first_name"]), cell(cells, mapping["last_name"]))).split())
    title, company = cell(cells, mapping["job_title"]), cell(cells, mapping["company"])
    headline = f"{title}, {company}" if title and company else title or company
    return {"name": name, "email": cell(cells, mapping["email"]), "headline": " ".join(headline.split())}


def shown(text):
    """A cell as the mapping page shows it: at most SHOWN_CELL characters."""
    return text if len(text) <= SHOWN_CELL else text[:SHOWN_CELL - 1] + "\u2026"


def preview(table, mapping, limit=PREVIEW_ROWS):
    """The first rows as the import would read them: (line, values), each value `shown`."""
    return [(line, {key: shown(value) for key, value in row_values(cells, mapping).items()})
            for line, cells in table.rows[:limit]]
