"""Printed badge sheets: read back from the PDF itself (pdfplumber) and from its pages rasterised
at 300 dpi by poppler's pdftoppm and decoded by zxing-cpp, code by code."""
import io
import logging
import subprocess

import pdfplumber
import pytest
import zxingcpp
from PIL import Image

from kithmeet.badges import fonts, sheets, stock
from kithmeet.errors import DomainError, NotFound
from kithmeet.events.models import EventRemoval, SeriesMember, SeriesRemoval
from kithmeet.extensions import db
from kithmeet.guests.models import Guest
from kithmeet.people.models import Person

from ..postgres import BOTH_DATABASES

MM = 72 / 25.4  # PDF points in a millimetre
DPI = 300
INCH = 25.4

# Each stock's layout as its maker publishes it, written out here apart from stock.py:
# (page w, h), (badge w, h), top-left corner of every badge, in mm.
PUBLISHED = {
    "avery-5392": ((8.5 * INCH, 11 * INCH), (4 * INCH, 3 * INCH),
                   [(0.25 * INCH + c * 4 * INCH, 1 * INCH + r * 3 * INCH) for r in range(3) for c in range(2)]),
    "avery-l4785": ((210, 297), (80, 50), [(17.5 + c * 95, 13.5 + r * 55) for r in range(5) for c in range(2)]),
    "label-62x100": ((62, 100), (62, 100), [(0, 0)]),
}


@pytest.fixture
def app_config():
    return {"PUBLIC_URL": "https://meet.example.org"}


def badge(name="Ada Okafor", n=0, **overrides):
    token = f"K7QM4XTR{n:03d}"
    fields = dict(name=name, pronouns="she/her", prompt="Ask me about", answer="Flask",
                  url=f"HTTPS://MEET.EXAMPLE.ORG/B/{token}", code=token)
    return sheets.Badge(**{**fields, **overrides})


def rasterise(pdf, tmp_path):
    """Every page as a grey image at 300 dpi, as poppler draws it for a printer."""
    source = tmp_path / "sheet.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(DPI), "-gray", "-png", str(source), str(tmp_path / "page")], check=True)
    return [Image.open(path).convert("L") for path in sorted(tmp_path.glob("page-*.png"))]


def decoded(image):
    """[(text, centre in mm, width in mm of the code without its quiet zone)] of every QR on the page."""
    found = []
    for result in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode):
        p = result.position
        xs = [p.top_left.x, p.top_right.x, p.bottom_left.x, p.bottom_right.x]
        ys = [p.top_left.y, p.top_right.y, p.bottom_left.y, p.bottom_right.y]
        to_mm = INCH / DPI
        found.append((result.text, (sum(xs) / 4 * to_mm, sum(ys) / 4 * to_mm), (max(xs) - min(xs)) * to_mm))
    return found


def slot_of(point, key):
    (_page, (w, h), corners) = PUBLISHED[key]
    x, y = point
    for index, (left, top) in enumerate(corners):
        if left <= x <= left + w and top <= y <= top + h:
            return index
    return None


def badge_boxes(page, key):
    """The badge areas the PDF draws (a white rectangle the size of one badge), in mm."""
    (_page, (w, h), _corners) = PUBLISHED[key]
    return sorted(((r["x0"] / MM, r["top"] / MM) for r in page.rects
                   if abs(r["width"] / MM - w) < 0.05 and abs(r["height"] / MM - h) < 0.05),
                  key=lambda corner: (round(corner[1]), corner[0]))


@pytest.mark.parametrize("key", list(PUBLISHED))
def test_every_badge_sits_within_half_a_millimetre_of_the_stock_layout(app, key):
    chosen = stock.STOCKS[key]
    count = chosen.per_sheet + 1  # a full sheet and one more on a second page
    pdf = sheets.render(chosen, [badge(n=n) for n in range(count)], sheets.Brand("Thursday Gathering"))
    (page_w, page_h), (w, h), corners = PUBLISHED[key]
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        assert len(document.pages) == 2
        for number, page in enumerate(document.pages):
            assert abs(page.width / MM - page_w) < 0.1 and abs(page.height / MM - page_h) < 0.1
            expected = corners if number == 0 else corners[:1]
            boxes = badge_boxes(page, key)
            assert len(boxes) == len(expected)
            for (x, y), (ex, ey) in zip(boxes, expected):
                assert abs(x - ex) <= 0.5 and abs(y - ey) <= 0.5, (key, number, (x, y), (ex, ey))
            # Everything drawn for a badge stays inside it: nothing spills onto the next label.
            for char in page.chars:
                centre = ((char["x0"] + char["x1"]) / 2 / MM, (char["top"] + char["bottom"]) / 2 / MM)
                home = slot_of(centre, key)
                assert home is not None, (char["text"], centre)
                left, top = corners[home]
                assert left - 0.1 <= char["x0"] / MM and char["x1"] / MM <= left + w + 0.1, char["text"]


@pytest.mark.parametrize("key", list(PUBLISHED))
def test_every_code_on_every_page_decodes_at_300_dpi_to_its_persons_badge_link(app, tmp_path, key):
    chosen = stock.STOCKS[key]
    badges = [badge(f"Person {n}", n=n) for n in range(chosen.per_sheet + 2)]
    pdf = sheets.render(chosen, badges, sheets.Brand("Thursday Gathering", accent="#1d4ed8"))
    pages = rasterise(pdf, tmp_path)
    assert len(pages) == 2 if chosen.per_sheet > 1 else len(pages) == len(badges)
    seen = []
    for number, image in enumerate(pages):
        for text, centre, width in decoded(image):
            slot = slot_of(centre, key)
            assert slot is not None, centre
            # The code in each slot is the person laid out there, not just somebody's.
            assert text == badges[number * chosen.per_sheet + slot].url
            # At least 25 mm with the quiet zone: the code is 25 modules of 33 (version 2, 4 each side).
            assert width * 33 / 25 >= 25 - 0.5
            seen.append(text)
    assert sorted(seen) == sorted(b.url for b in badges)


def test_a_long_name_shrinks_to_fit_beside_the_code(app):
    chosen = stock.AVERY_L4785
    short = sheets.render(chosen, [badge("Bo Li")], sheets.Brand("Thursday"))
    long_name = "Maximiliana Alexandrina Hohenzollern-Sigmaringen"
    long = sheets.render(chosen, [badge(long_name)], sheets.Brand("Thursday"))
    with pdfplumber.open(io.BytesIO(short)) as document:
        short_size = max(c["size"] for c in document.pages[0].chars if c["text"] == "B")
    with pdfplumber.open(io.BytesIO(long)) as document:
        page = document.pages[0]
        # The name's line: under the series band, above the pronouns.
        name = [c for c in page.chars if 13.5 + 12 < c["top"] / MM < 13.5 + 26]
        qr_left = min(r["x0"] for r in page.rects if abs(r["width"] - r["height"]) < 0.01 and r["width"] / MM >= 25)
    long_size = max(c["size"] for c in name)
    assert long_size < short_size * 0.7
    # The whole name is on the badge, left of its code.
    lines = "".join(c["text"] for c in sorted(name, key=lambda c: (round(c["top"]), c["x0"])))
    assert lines.replace(" ", "") == long_name.replace(" ", "")  # on two lines, in order
    assert max(c["x1"] for c in name) <= qr_left


def pdf_text(pdf, tmp_path):
    source = tmp_path / "text.pdf"
    source.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(source), "-"], check=True, capture_output=True, text=True).stdout
    return "".join(ch for ch in text if ch not in "\u202a\u202b\u202c\u202d\u202e\u200e\u200f")


RTL_AND_EMOJI = ["مرحبا بالعالم", "שלום עולם", "Anna 🎉 Smith", "Zoë (محمد) 123", "👩\u200d💻 Dev"]


def test_right_to_left_and_emoji_names_print_every_glyph(app, tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    pdf = sheets.render(stock.AVERY_L4785, [badge(name, n=n) for n, name in enumerate(RTL_AND_EMOJI)],
                        sheets.Brand("Thursday"))
    # fpdf2 logs any character it had to draw as .notdef (an empty box).
    assert not [r for r in caplog.records if "missing the following glyphs" in r.getMessage()]
    assert not [r for r in caplog.records if r.name == fonts.log.name]
    text = pdf_text(pdf, tmp_path)
    # Read back in reading order: Arabic and Hebrew were laid out right to left.
    for name in ["مرحبا بالعالم", "שלום עולם", "Anna 🎉 Smith", "Dev"]:
        assert name in text
    assert "Zoë" in text and "محمد" in text  # (pdftotext re-mirrors the brackets around it its own way)


def test_a_character_no_installed_font_has_is_left_out_not_drawn_as_a_box(app, tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    pdf = sheets.render(stock.AVERY_L4785, [badge("Kim \U0001FAE8 Lee")], sheets.Brand("Thursday"))
    assert not [r for r in caplog.records if "missing the following glyphs" in r.getMessage()]
    assert [r for r in caplog.records if r.name == fonts.log.name]
    assert "Kim Lee" in " ".join(pdf_text(pdf, tmp_path).split())


@pytest.mark.parametrize("key", list(PUBLISHED))
def test_a_name_no_installed_font_can_draw_at_all_still_prints_its_badge(app, tmp_path, key):
    # Fullwidth letters and cuneiform measure nothing once left out: the sheet used to divide by it.
    names = ["ｗｗｗ", "𒀀𒀁 𒀂𒀀", "Ada ｗｗｗｗ ｗｗｗｗ"]
    badges = [badge(name, n=n) for n, name in enumerate(names)]
    pdf = sheets.render(stock.STOCKS[key], badges, sheets.Brand("ｗｗｗ"))
    text = "".join(ch for ch in pdf_text(pdf, tmp_path) if ch.isascii() and ch.isalnum())
    assert all(f"K7QM4XTR{n:03d}" in text for n in range(len(names))) and "Ada" in text  # each badge, its code


# --- whom to print, and who may ------------------------------------------------------------

def person_named(name):
    return db.session.query(Person).filter_by(name=name).one()


def add_member(event, organizer, role):
    db.session.add(SeriesMember(series_id=event.series_id, organizer_id=organizer.id, role=role))
    db.session.commit()


def codes_in(pdf, tmp_path):
    return {text for image in rasterise(pdf, tmp_path) for text, _c, _w in decoded(image)}


@BOTH_DATABASES
def test_checked_in_sheets_are_everyone_checked_in_but_the_hidden_and_removed(
        app, tmp_path, make_organizer, make_event, make_person):
    organizer = make_organizer()
    event = make_event(organizer)
    ada, bo, cy, di = (make_person(name, event=event) for name in ("Ada", "Bo", "Cy", "Di"))
    make_person("Elsewhere")  # another organizer's event
    db.session.add(EventRemoval(event_id=event.id, person_id=cy.id))
    db.session.add(SeriesRemoval(series_id=event.series_id, person_id=di.id))
    db.session.commit()
    pdf = sheets.event_sheets(organizer, event.public_id, "avery-l4785", "checked_in")
    assert codes_in(pdf, tmp_path) == {f"HTTPS://MEET.EXAMPLE.ORG/B/{p.badge_token}" for p in (ada, bo)}


@BOTH_DATABASES
def test_guest_sheets_are_the_series_guest_list(app, tmp_path, make_organizer, make_event, make_person):
    organizer = make_organizer()
    event = make_event(organizer)
    attendee = make_person("Checked In", event=event)
    guest = Person(name="Imported Guest", email="guest@example.org", claimed_at=None)
    db.session.add(guest)
    db.session.flush()
    db.session.add(Guest(series_id=event.series_id, person_id=guest.id, email="guest@example.org"))
    db.session.commit()
    pdf = sheets.event_sheets(organizer, event.public_id, "avery-5392", "guests")
    assert codes_in(pdf, tmp_path) == {f"HTTPS://MEET.EXAMPLE.ORG/B/{guest.badge_token}"}
    assert attendee.badge_token not in pdf_text(pdf, tmp_path).replace(" ", "")


def test_sheets_refuse_what_they_cannot_print(app, make_organizer, make_event):
    organizer = make_organizer()
    event = make_event(organizer)
    for stock_key, who, code in [("avery-9999", "checked_in", "unknown_stock"), ("avery-l4785", "all", "unknown_audience"),
                                 ("avery-l4785", "checked_in", "no_badges"), ("avery-l4785", "guests", "no_badges")]:
        with pytest.raises(DomainError) as error:
            sheets.event_sheets(organizer, event.public_id, stock_key, who)
        assert error.value.code == code


def test_only_organizers_of_the_series_print_sheets_and_the_door_may_reprint_one(
        app, tmp_path, make_organizer, make_event, make_person):
    owner = make_organizer()
    event = make_event(owner)
    ada = make_person("Ada", event=event)
    door, stranger, helper = make_organizer(), make_organizer(), make_organizer()
    add_member(event, door, "door")
    add_member(event, helper, "organizer")
    with pytest.raises(DomainError) as error:
        sheets.event_sheets(door, event.public_id, "avery-l4785", "checked_in")
    assert error.value.code == "role_too_low"
    with pytest.raises(NotFound) as error:
        sheets.event_sheets(stranger, event.public_id, "avery-l4785", "checked_in")
    assert error.value.code == "unknown_event"
    assert sheets.event_sheets(helper, event.public_id, "avery-l4785", "checked_in").startswith(b"%PDF")
    # A reprint at the door, by the code under the QR as a person may type it.
    typed = " ".join(ada.badge_token[i:i + 4] for i in range(0, 11, 4)).lower()
    pdf = sheets.reprint(door, event.public_id, typed, "label-62x100")
    assert codes_in(pdf, tmp_path) == {f"HTTPS://MEET.EXAMPLE.ORG/B/{ada.badge_token}"}
    with pytest.raises(NotFound) as error:
        sheets.reprint(stranger, event.public_id, ada.badge_token, "label-62x100")
    assert error.value.code == "unknown_event"


@BOTH_DATABASES
def test_a_reprint_is_only_for_someone_of_this_event_or_its_guest_list(app, make_organizer, make_event, make_person):
    organizer = make_organizer()
    event = make_event(organizer)
    elsewhere = make_person("Elsewhere")  # checked in at another series' event
    hidden = make_person("Hidden", event=event)
    db.session.add(EventRemoval(event_id=event.id, person_id=hidden.id))
    db.session.commit()
    for code in (elsewhere.badge_token, hidden.badge_token, "AAAAAAAAAAA", ""):
        with pytest.raises(NotFound) as error:
            sheets.reprint(organizer, event.public_id, code, "label-62x100")
        assert error.value.code == "not_an_attendee"
    # On the guest list but not checked in (yet): their badge may be printed at the door.
    guest = Person(name="Imported Guest", email="guest@example.org", claimed_at=None)
    db.session.add(guest)
    db.session.flush()
    db.session.add(Guest(series_id=event.series_id, person_id=guest.id, email="guest@example.org"))
    db.session.commit()
    assert sheets.reprint(organizer, event.public_id, guest.badge_token, "label-62x100").startswith(b"%PDF")


def test_a_sheet_costs_the_same_statements_for_three_people_or_twelve(
        app, make_organizer, make_event, make_person, count_queries):
    organizer = make_organizer()
    small, large = make_event(organizer, name="Small"), make_event(organizer, name="Large")
    for n in range(3):
        make_person(f"Small {n}", event=small)
    for n in range(12):
        make_person(f"Large {n}", event=large, answers=[(large.prompt_labels[0], f"answer {n}")])
    counts = []
    for event in (small, large):
        db.session.expire_all()
        with count_queries() as statements:
            sheets.event_sheets(organizer, event.public_id, "avery-l4785", "checked_in")
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_the_sheet_carries_the_series_name_and_logo(app, tmp_path, make_organizer, make_event, make_person):
    from kithmeet.events.models import EventLogo
    organizer = make_organizer()
    event = make_event(organizer)
    make_person("Ada", event=event)
    buffer = io.BytesIO()
    Image.new("RGB", (64, 32), (200, 30, 30)).save(buffer, "PNG")
    logo = EventLogo(series_id=event.series_id, data=buffer.getvalue(), width=64, height=32)
    db.session.add(logo)
    db.session.flush()
    event.logo_id, event.accent_color = logo.id, "#1d4ed8"
    db.session.commit()
    pdf = sheets.event_sheets(organizer, event.public_id, "avery-l4785", "checked_in")
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        assert len(document.pages[0].images) == 1
    assert "Thursday Gathering" in pdf_text(pdf, tmp_path)


def test_without_its_fonts_the_server_says_so_instead_of_printing(app, tmp_path, monkeypatch):
    monkeypatch.setattr(fonts, "FONT_DIRS", (str(tmp_path),))
    with pytest.raises(DomainError) as error:
        sheets.render(stock.AVERY_L4785, [badge()], sheets.Brand("Thursday"))
    assert error.value.code == "fonts_missing" and error.value.status == 503
