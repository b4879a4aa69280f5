"""Printed badges as PDF, at the exact size of the stock they are printed on (stock.STOCKS).

Each badge carries its person's name (one line, or two when that sets it clearly bigger; shrunk,
then narrowed, until it fits), pronouns, first prompt and answer, the badge QR (at least 25 mm
across with its quiet zone, drawn as vectors so it stays sharp on any printer), the grouped
short code, and the series' name, logo and accent colour. Text is shaped with HarfBuzz (fpdf2's text shaping), so Arabic joins and
right-to-left runs are ordered as they are read; characters the main font lacks come from the
first installed font that has them (Noto for other scripts, Symbola for emoji, in black and
white as a printer prints them). A character no installed font has is left out, never printed
as an empty box.

Fonts, and which one draws each character, are fonts.py's.

Who gets a badge: everyone checked in at an event, every guest imported into its series, or one
person (a reprint at the door); people hidden from the event or removed from the series get none.
"""
import io
import unicodedata
from dataclasses import dataclass

from fpdf import FPDF
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..errors import DomainError, NotFound
from ..events import access, branding
from ..events.models import CheckIn, EventRemoval, SeriesRemoval
from ..extensions import db
from ..guests import services as guest_list
from ..guests.models import Guest
from ..people.models import Person
from ..tokens import grouped, normalize
from . import fonts as typefaces
from . import qr
from .stock import STOCKS

FontsMissing = typefaces.FontsMissing

WHO = {"checked_in": "Everyone checked in", "guests": "Everyone on the guest list"}
MIN_QR = 25.0  # mm across, quiet zone included: phones read it from arm's length
# A name that would be smaller than this (pt) on one line is set on two.
TWO_LINES_BELOW = 16
DEFAULT_ACCENT = "#0d6b63"  # the app's own brand colour (static/css/app.css --brand)
INK = (28, 36, 48)
MUTED = (85, 96, 112)



@dataclass(frozen=True)
class Badge:
    name: str
    pronouns: str
    prompt: str
    answer: str
    url: str  # what the QR holds: the upper-case /B/ link
    code: str  # the badge token, printed grouped under the QR


@dataclass(frozen=True)
class Brand:
    series_name: str
    logo_png: bytes | None = None
    logo_size: tuple[int, int] = (1, 1)  # width, height in pixels
    accent: str = ""


# --- whom to print ---------------------------------------------------------------------------

def _printable_people(query, series_id, event_id=None):
    """People of `query`, minus those removed from the series or hidden from the event; answers
    loaded in the same round trip whatever the count."""
    query = query.where(~Person.id.in_(select(SeriesRemoval.person_id).where(SeriesRemoval.series_id == series_id)))
    if event_id is not None:
        query = query.where(~Person.id.in_(select(EventRemoval.person_id).where(EventRemoval.event_id == event_id)))
    return db.session.scalars(query.options(selectinload(Person.answers)).order_by(Person.name, Person.id)).all()


def checked_in(event):
    return _printable_people(select(Person).join(CheckIn, CheckIn.person_id == Person.id)
                             .where(CheckIn.event_id == event.id), event.series_id, event.id)


def guests(series_id):
    # guests.shown_guests: not a listed address's holder who never came to this series.
    return _printable_people(select(Person).where(guest_list.shown_guests(series_id)), series_id)


def badge_for(person, base=None):
    first = person.first_answer
    return Badge(name=person.name, pronouns=person.pronouns or "", prompt=first.prompt if first else "",
                 answer=first.answer if first else "", url=qr.badge_url(person.badge_token, base=base),
                 code=person.badge_token)


def brand_of(event):
    logo = event.logo if event.logo_id else None
    return Brand(series_name=event.series.name, logo_png=logo.data if logo else None,
                 logo_size=(logo.width, logo.height) if logo else (1, 1), accent=event.accent_color)


def _stock(key):
    if key not in STOCKS:
        raise DomainError("Choose one of the listed badge stocks.", "unknown_stock")
    return STOCKS[key]


def event_sheets(organizer, public_id, stock_key, who):
    """The PDF of every badge of an event's attendees (`who` "checked_in") or its series' guest
    list ("guests"). Raises NotFound unknown_event, DomainError role_too_low, unknown_stock,
    unknown_audience, no_badges, fonts_missing."""
    event = access.event_for(organizer, public_id, need="organizer")
    stock = _stock(stock_key)
    if who not in WHO:
        raise DomainError("Choose whose badges to print.", "unknown_audience")
    people = checked_in(event) if who == "checked_in" else guests(event.series_id)
    if not people:
        raise DomainError("There is nobody to print a badge for yet.", "no_badges")
    return render(stock, [badge_for(person) for person in people], brand_of(event))


def reprint(organizer, public_id, badge_code, stock_key):
    """One person's badge again, at the door: someone checked in at the event or on its series'
    guest list. Door volunteers may. Raises NotFound unknown_event, not_an_attendee; DomainError
    role_too_low, unknown_stock, fonts_missing."""
    event = access.event_for(organizer, public_id, need="door")
    stock = _stock(stock_key)
    token = normalize(badge_code)
    person = db.session.scalar(select(Person).where(Person.badge_token == token)) if token else None
    if person is None or person.id not in {p.id for p in _reprintable(event, person.id)}:
        # Anyone else's code says nothing about whether that person exists.
        raise NotFound("Nobody with that badge code is checked in here or on the guest list.", "not_an_attendee")
    return render(stock, [badge_for(person)], brand_of(event))


def _reprintable(event, person_id):
    attendee = select(CheckIn.person_id).where(CheckIn.event_id == event.id, CheckIn.person_id == person_id)
    guest = select(Guest.person_id).where(Guest.series_id == event.series_id, Guest.person_id == person_id)
    return _printable_people(select(Person).where(Person.id.in_(attendee.union(guest))), event.series_id, event.id)


def own_badge(person, stock_key):
    """The attendee's own badge, one on a page of `stock_key`, branded for the last event they
    checked in at. Raises DomainError unknown_stock, fonts_missing."""
    stock = _stock(stock_key)
    last = db.session.scalar(select(CheckIn).where(CheckIn.person_id == person.id)
                             .order_by(CheckIn.created_at.desc(), CheckIn.id.desc()).limit(1))
    brand = brand_of(last.event) if last is not None else Brand(series_name="kithmeet")
    return render(stock, [badge_for(person)], brand)


# --- drawing -------------------------------------------------------------------------------

def _rgb(colour):
    colour = (colour or DEFAULT_ACCENT).lstrip("#")
    return tuple(int(colour[i:i + 2], 16) for i in (0, 2, 4))


def _needs_shaping(text):
    """Whether HarfBuzz must lay the text out: right-to-left, joined or combining scripts do; text
    of Latin, Greek and Cyrillic letters alone does not (shaping is most of a sheet's time)."""
    return any(ord(char) >= 0x0590 or unicodedata.category(char) == "Mn" for char in text)


class _Sheet(FPDF):
    def __init__(self, stock, fonts, fallback_paths):
        super().__init__(unit="mm", format=(stock.page_width, stock.page_height))
        self.set_auto_page_break(False)
        self.set_margins(0, 0, 0)
        self.c_margin = 0
        main, _covered, mono, _fallbacks = fonts
        self.add_font("Main", "", main[""])
        self.add_font("Main", "B", main["B"])
        self.add_font("Mono", "B", mono)
        names = []
        for index, path in enumerate(fallback_paths):
            name = f"Fallback{index}"
            self.add_font(name, "", path)
            names.append(name)
        if names:
            self.set_fallback_fonts(names, exact_match=False)
        self.set_creator("kithmeet")

    def fitted(self, text, x, y, width, height, *, style, max_pt, min_pt, align="L", colour=INK):
        """One line of text in a box: shrunk from max_pt towards min_pt until it fits, then
        narrowed (horizontal scaling) if it still does not. Returns the size used."""
        if not text:
            return None
        size = max_pt
        self.set_text_shaping(_needs_shaping(text))
        self.set_font("Main", style, size)
        self.set_stretching(100)
        natural = self.get_string_width(text)
        if natural > width:
            size = max(min_pt, max_pt * width / natural * 0.98)
            self.set_font("Main", style, size)
            natural = self.get_string_width(text)
        if natural > width:
            self.set_stretching(100 * width / natural * 0.98)
        self.set_text_color(*colour)
        self.set_xy(x, y)
        self.cell(w=width, h=height, text=text, align=align)
        self.set_stretching(100)
        return size

    def name(self, text, x, y, width, height, *, max_pt, min_pt, align):
        """The name: one line if it fits at a size still read from across a room, else two
        lines split at the space that balances them best, then shrunk as one line is."""
        self.set_text_shaping(_needs_shaping(text))
        self.set_font("Main", "B", max_pt)
        natural = self.get_string_width(text)
        words = text.split(" ")
        # Letters no font here has measure nothing: printed as one line, whatever shows of them.
        if not natural:
            return self.fitted(text, x, y, width, height, style="B", max_pt=max_pt, min_pt=min_pt, align=align)
        one_line = max_pt * width / natural
        if one_line >= TWO_LINES_BELOW or len(words) < 2:
            return self.fitted(text, x, y, width, height, style="B", max_pt=max_pt, min_pt=min_pt, align=align)
        lines = min(((" ".join(words[:cut]), " ".join(words[cut:])) for cut in range(1, len(words))),
                    key=lambda pair: max(self.get_string_width(part) for part in pair))
        widest = max(self.get_string_width(part) for part in lines) or natural
        size = max(min_pt, min(max_pt / 2, max_pt * width / widest * 0.98))
        if size < one_line * 1.25:  # two lines only when they are clearly bigger
            return self.fitted(text, x, y, width, height, style="B", max_pt=max_pt, min_pt=min_pt, align=align)
        for number, part in enumerate(lines):
            self.fitted(part, x, y + number * height / 2, width, height / 2, style="B", max_pt=size,
                        min_pt=min_pt, align=align)
        return size

    def code_line(self, code, x, y, width):
        self.set_text_shaping(False)
        self.set_font("Mono", "B", 10)
        self.set_stretching(100)
        self.set_text_color(*INK)
        self.set_xy(x, y)
        self.cell(w=width, h=4.5, text=code, align="C")

    def qr_code(self, url, x, y, size):
        """The code's dark modules as filled rectangles, a run per row, with its quiet zone white."""
        # The code as the badge image drew it (qr.code): its mask, most of its cost, chosen once
        # per process for both, so a reprint or a badge already shown on a phone costs no new one.
        matrix = qr.code(url).matrix
        count = len(matrix)
        module = size / (count + 2 * qr.QUIET_ZONE)
        self.set_fill_color(255, 255, 255)
        self.rect(x, y, size, size, style="F")
        left = x + qr.QUIET_ZONE * module
        top = y + qr.QUIET_ZONE * module
        # One path of rectangles, filled once: a rect() call per run is most of a sheet's time.
        k, page_h = self.k, self.h
        ops = []
        for r, row in enumerate(matrix):
            c = 0
            while c < count:
                if row[c] & 1:
                    start = c
                    while c < count and row[c] & 1:
                        c += 1
                    ops.append(f"{(left + start * module) * k:.3f} {(page_h - top - r * module) * k:.3f} "
                               f"{(c - start) * module * k:.3f} {-module * k:.3f} re")
                else:
                    c += 1
        self._out("q 0 g " + " ".join(ops) + " f Q")


def _qr_size(stock):
    short = min(stock.badge_width, stock.badge_height)
    return max(MIN_QR, round(short * (0.56 if stock.badge_width > stock.badge_height else 0.55), 1))


def _draw(pdf, stock, badge, brand, texts, x0, y0, logo):
    name, pronouns, prompt, answer, series_name = texts
    w, h = stock.badge_width, stock.badge_height
    m = max(3.0, round(min(w, h) * 0.06, 1))  # the margin no printer reaches the edge within
    accent = _rgb(brand.accent)
    # The badge's own area, white: it marks where the badge is for anyone reading the PDF back.
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(x0, y0, w, h, style="F")
    band = round(h * (0.17 if w > h else 0.12), 1)
    pdf.set_fill_color(*accent)
    pdf.rect(x0 + m, y0 + m, w - 2 * m, band, style="F")
    text_x = x0 + m + 2
    if logo is not None:
        data, lw, lh = logo
        logo_h = band - 2
        logo_w = min(logo_h * lw / lh, (w - 2 * m) * 0.35)
        logo_h = logo_w * lh / lw
        pdf.image(data, x=text_x, y=y0 + m + (band - logo_h) / 2, w=logo_w, h=logo_h)
        text_x += logo_w + 2
    pdf.fitted(series_name, text_x, y0 + m, x0 + w - m - 2 - text_x, band, style="B",
               max_pt=band * 1.5, min_pt=5, colour=_rgb(branding.text_on(brand.accent or DEFAULT_ACCENT)))
    q = _qr_size(stock)
    code = grouped(badge.code)
    if w > h:  # wide: words on the left, the code on the right
        qx, qy = x0 + w - m - q, y0 + m + band + 1
        tx, tw = x0 + m, w - 3 * m - q
        ty = y0 + m + band + 2
        room = y0 + h - m - ty
    else:  # tall: words above, the code below, centred
        qx, qy = x0 + (w - q) / 2, y0 + h - m - q - 5
        tx, tw = x0 + m, w - 2 * m
        ty = y0 + m + band + 2
        room = qy - ty
    pdf.qr_code(badge.url, qx, qy, q)
    pdf.code_line(code, qx, qy + q, q)
    align = "L" if w > h else "C"
    name_h = min(room * 0.4, 14)
    pdf.name(name, tx, ty, tw, name_h, max_pt=name_h * 2.4, min_pt=8, align=align)
    ty += name_h
    if pronouns:
        pdf.fitted(pronouns, tx, ty, tw, 5, style="", max_pt=10, min_pt=6, align=align, colour=MUTED)
        ty += 6
    if answer:
        pdf.fitted(prompt, tx, ty, tw, 4.5, style="", max_pt=9, min_pt=6, align=align, colour=MUTED)
        ty += 4.5
        pdf.fitted(answer, tx, ty, tw, 6, style="B", max_pt=13, min_pt=7, align=align)


def render(stock, badges, brand):
    """The PDF (bytes) of `badges` laid out on `stock`, a new page whenever a sheet is full."""
    fonts = typefaces.fonts(typefaces.font_dirs())
    texts = []
    for badge in badges:
        texts += [badge.name, badge.pronouns, badge.prompt, badge.answer]
    needed, cleaned = typefaces.plan_fonts([*texts, brand.series_name], fonts)
    pdf = _Sheet(stock, fonts, needed)
    logo = None
    if brand.logo_png:
        logo = (io.BytesIO(brand.logo_png), *brand.logo_size)
    positions = stock.positions()
    series_name = cleaned[-1]
    for index, badge in enumerate(badges):
        slot = index % stock.per_sheet
        if slot == 0:
            pdf.add_page()
        x0, y0 = positions[slot]
        own = cleaned[4 * index:4 * index + 4]
        _draw(pdf, stock, badge, brand, (*own, series_name), x0, y0, logo)
    return bytes(pdf.output())
