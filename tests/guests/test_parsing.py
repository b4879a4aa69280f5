"""Reading guest lists as each platform exports them, and refusing bad files whole."""
import codecs
from pathlib import Path

import pytest

from kithmeet.errors import DomainError
from kithmeet.guests import parsing

DATA = Path(__file__).parent.parent / "data"


def table(name):
    return parsing.read((DATA / name).read_bytes())


def values(name):
    found = table(name)
    mapping = parsing.detect_mapping(found.header)
    return found, mapping, [row for _, row in parsing.preview(found, mapping, limit=100)]


def test_eventbrite_with_bom_stray_spaces_and_a_quoted_newline():
    found, mapping, rows = values("eventbrite_attendees.csv")
    assert found.encoding.startswith("UTF-8 (with") and found.delimiter == ","
    assert parsing.platform(found.header) == "Eventbrite"
    assert (mapping["first_name"], mapping["last_name"], mapping["email"]) == (2, 3, 4)
    assert rows[0] == {"name": "Ada Okafor", "email": "ada.okafor@example.org", "headline": "Engineer, Corner Labs"}
    assert rows[1]["name"] == "Björn Ægisson"
    assert len(found.rows) == 4  # the answer with a line break inside is one row


def test_meetup_tsv_finds_the_email_question():
    found, mapping, rows = values("meetup_attendees.tsv")
    assert found.delimiter == "\t" and parsing.platform(found.header) == "Meetup"
    assert mapping["name"] == 0 and mapping["email"] == 9
    assert mapping["job_title"] is None  # Meetup's "Title" is a role in the group, not a job
    assert [row["email"] for row in rows] == ["dana@example.org", "emile@example.org", ""]


def test_luma_prefers_first_and_last_names():
    found, mapping, rows = values("luma_guests.csv")
    assert parsing.platform(found.header) == "Luma"
    assert mapping["name"] is None and mapping["first_name"] == 2
    assert rows[0]["name"] == "Grace Hopper"


def test_tito_takes_the_ticket_holders_email_not_the_buyers():
    found, mapping, rows = values("tito_tickets.csv")
    assert parsing.platform(found.header) == "Tito"
    assert found.header[mapping["email"]] == "Ticket Email"
    assert rows[0] == {"name": "Jun Tanaka", "email": "jun@example.org", "headline": "Kaze KK"}


def test_pretix_semicolons_and_the_attendee_email():
    found, mapping, rows = values("pretix_orders.csv")
    assert found.delimiter == ";" and parsing.platform(found.header) == "pretix"
    assert found.header[mapping["email"]] == "Attendee email"
    assert rows[0] == {"name": "Lena Fischer", "email": "lena@example.org", "headline": "Datenwerk GmbH"}


def test_windows_1252_with_semicolons():
    found, mapping, rows = values("generic_cp1252.csv")
    assert found.encoding == "Windows-1252" and found.delimiter == ";"
    assert rows[0] == {"name": "Zoë Müller", "email": "zoe@example.org", "headline": "Café Noir"}


def test_utf16_from_excel_unicode_text():
    data = codecs.BOM_UTF16_LE + "Name\tEmail\nAda\tada@example.org\n".encode("utf-16-le")
    found = parsing.read(data)
    assert found.delimiter == "\t" and found.rows[0][1] == ["Ada", "ada@example.org"]


@pytest.mark.parametrize("name, code", [
    ("empty.csv", "empty_file"),
    ("header_only.csv", "empty_file"),
    ("workbook.xlsx", "not_a_text_file"),
    ("image.png", "not_a_text_file"),
    ("unclosed_quote.csv", "broken_file"),
])
def test_bad_files_are_refused_whole(name, code):
    with pytest.raises(DomainError) as refused:
        table(name)
    assert refused.value.code == code


def test_over_five_megabytes_is_refused():
    with pytest.raises(DomainError) as refused:
        parsing.read(b"Name,Email\n" + b"Ada,ada@example.org\n" * (parsing.MAX_BYTES // 20 + 1))
    assert refused.value.code == "file_too_large"


def test_a_list_without_a_name_column_cannot_be_mapped():
    found = table("no_name_column.csv")
    with pytest.raises(DomainError) as refused:
        parsing.check_mapping(parsing.detect_mapping(found.header), len(found.header))
    assert refused.value.code == "no_name_column"


@pytest.mark.parametrize("mapping, code", [
    ({"name": 0}, "no_email_column"),
    ({"name": 0, "email": 0}, "bad_mapping"),
    ({"name": 0, "email": 9}, "bad_mapping"),
])
def test_check_mapping(mapping, code):
    with pytest.raises(DomainError) as refused:
        parsing.check_mapping(mapping, 2)
    assert refused.value.code == code


def test_headers_compare_without_case_spaces_or_bom():
    assert parsing.header_key("\ufeff  E-Mail   Address ") == "e-mail address"
    assert parsing.detect_mapping(["\ufeffNAME ", " e-mail"]) == {
        "name": 0, "first_name": None, "last_name": None, "email": 1, "job_title": None, "company": None}
