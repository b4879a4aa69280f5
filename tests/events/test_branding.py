"""Branding: the accent colour (WCAG AA for the text the pages put on it) and the logo (sniffed,
bomb-safe, re-encoded without metadata), its routes, and the pages that show them."""
import io
import re
import struct
import zlib

import pytest
from PIL import Image, ImageCms, ImageFile, PngImagePlugin
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from kithmeet.audit.models import AuditEntry
from kithmeet.errors import DomainError, NotFound
from kithmeet.events import branding
from kithmeet.events.models import Event, EventLogo, SeriesMember
from kithmeet.extensions import db
from kithmeet.organizer.models import Organizer

from ..pages import field_error

ORGANIZER_PASSWORD = "a long enough password"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png(size=(40, 20), mode="RGBA", color=(200, 30, 30, 128), text=None, icc=None):
    out = io.BytesIO()
    info = PngImagePlugin.PngInfo()
    if text:
        info.add_text("Comment", text)
    Image.new(mode, size, color).save(out, format="PNG", pnginfo=info, **({"icc_profile": icc} if icc else {}))
    return out.getvalue()


def jpeg_with_exif(size=(64, 48)):
    exif = Image.Exif()
    exif[0x010F] = "SecretCamera Inc"  # Make
    exif[0x8825] = {2: (51.0, 30.0, 0.0)}  # GPSInfo: GPSLatitude
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, format="JPEG", exif=exif, quality=90)
    return out.getvalue()


def chunks(data):
    """The chunk types of a PNG file, in order."""
    found, at = [], 8
    while at < len(data):
        length = int.from_bytes(data[at:at + 4], "big")
        found.append(data[at + 4:at + 8].decode("ascii"))
        at += 12 + length
    return found


def upload(client, url, fields):
    """Send the form as multipart, encoded in memory (the test client would spool a large body to a
    temporary file it never closes)."""
    boundary, body = encode_multipart({"csrf_token": client.csrf_token(url), **fields})
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def sign_in_organizer(client, organizer):
    assert client.submit("/organizer/login", data={"email": organizer.email,
                                                   "password": ORGANIZER_PASSWORD}).status_code == 302
    return client


# The accent colour -----------------------------------------------------------------------

def test_relative_luminance_and_contrast_follow_wcag():
    assert branding.relative_luminance("#ffffff") == pytest.approx(1.0)
    assert branding.relative_luminance("#000000") == pytest.approx(0.0)
    assert branding.contrast_ratio("#ffffff", "#000000") == pytest.approx(21.0)
    # WCAG's own worked boundary: #767676 is the lightest grey that passes on white.
    assert branding.contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert branding.contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize("color, text", [
    ("#0d6b63", branding.WHITE),  # kithmeet's own teal: white text
    ("#767676", branding.WHITE),  # just passes with white
    ("#ffcc00", branding.INK),  # a light yellow: near-black text
    ("#ffffff", branding.INK),
    ("#000000", branding.WHITE),
])
def test_readable_accents_are_kept_with_the_text_colour_the_pages_use(color, text):
    assert branding.checked_color(color.upper()) == color
    assert branding.text_on(color) == text
    assert branding.contrast_ratio(color, text) >= 4.5


@pytest.mark.parametrize("color", ["#808080", "#777777", "#e0463c", "#3d8fd1"])
def test_accents_no_text_reads_on_are_refused(color):
    # Mid-tones: neither white nor near-black reaches 4.5:1 on them.
    assert max(branding.contrast_ratio(color, branding.WHITE), branding.contrast_ratio(color, branding.INK)) < 4.5
    with pytest.raises(DomainError) as refused:
        branding.checked_color(color)
    assert refused.value.code == "low_contrast"


@pytest.mark.parametrize("value", ["red", "#abc", "#12345g", "#0d6b633", "rgb(0,0,0)", "#0d6b6\u200b"])
def test_badly_written_colours_are_refused(value):
    with pytest.raises(DomainError) as refused:
        branding.checked_color(value)
    assert refused.value.code == "bad_color"


def test_no_colour_is_the_default_and_a_missing_hash_is_forgiven():
    assert branding.checked_color("  ") == ""
    assert branding.checked_color("0D6B63") == "#0d6b63"


# The logo --------------------------------------------------------------------------------

def test_a_png_is_re_encoded_without_its_text_and_colour_profile_and_keeps_transparency():
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    original = png(text="shot at 51.5N 0.1W by Ada", icc=icc)
    assert {"tEXt", "iCCP"} <= set(chunks(original))
    data, width, height = branding.clean_logo(original)
    assert data.startswith(PNG_MAGIC)
    assert set(chunks(data)) <= {"IHDR", "IDAT", "IEND"}
    assert b"51.5N" not in data
    with Image.open(io.BytesIO(data)) as image:
        assert image.mode == "RGBA" and image.getpixel((0, 0))[3] == 128
        assert (image.width, image.height) == (width, height) == (40, 20)


def test_a_jpeg_becomes_a_png_without_exif():
    original = jpeg_with_exif()
    assert b"SecretCamera" in original
    data, width, height = branding.clean_logo(original)
    assert data.startswith(PNG_MAGIC) and b"SecretCamera" not in data and b"Exif" not in data
    assert set(chunks(data)) <= {"IHDR", "IDAT", "IEND"}
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG" and image.mode == "RGB" and not image.getexif()
        assert "exif" not in image.info and "icc_profile" not in image.info
    assert (width, height) == (64, 48)


def test_a_large_logo_is_scaled_down_to_its_long_side():
    data, width, height = branding.clean_logo(png(size=(1800, 900), mode="RGB", color=(0, 0, 0)))
    assert (width, height) == (branding.LOGO_LONG_SIDE, branding.LOGO_LONG_SIDE // 2)


@pytest.mark.parametrize("data, code", [
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "bad_image_type"),
    (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>', "bad_image_type"),
    (b"\n  <svg/>", "bad_image_type"),
    (b"GIF89a" + b"\x00" * 40, "bad_image_type"),
    (b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 20, "bad_image_type"),
    (b"just some text, not a picture", "not_an_image"),
    (b"", "not_an_image"),
    (PNG_MAGIC + b"\x00\x00\x00\x0dIHDR broken", "not_an_image"),  # a PNG's start, then rubbish
])
def test_anything_but_a_png_or_jpeg_is_refused(data, code):
    with pytest.raises(DomainError) as refused:
        branding.clean_logo(data)
    assert refused.value.code == code


def test_a_gif_made_by_pillow_is_refused_by_its_bytes():
    out = io.BytesIO()
    Image.new("P", (8, 8)).save(out, format="GIF")
    with pytest.raises(DomainError) as refused:
        branding.clean_logo(out.getvalue())
    assert refused.value.code == "bad_image_type"


def test_a_file_over_two_megabytes_is_refused_before_it_is_read():
    with pytest.raises(DomainError) as refused:
        branding.clean_logo(PNG_MAGIC + b"\x00" * (branding.MAX_LOGO_BYTES + 1 - len(PNG_MAGIC)))
    assert refused.value.code == "logo_too_large"


def test_a_decompression_bomb_is_refused_before_its_pixels_are_decoded(monkeypatch):
    # 36 million one-bit pixels in a few kilobytes: the header alone refuses it.
    out = io.BytesIO()
    Image.new("1", (6000, 6000)).save(out, format="PNG")
    bomb = out.getvalue()
    assert len(bomb) < 100_000
    decoded = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: decoded.append(self))
    with pytest.raises(DomainError) as refused:
        branding.clean_logo(bomb)
    assert refused.value.code == "logo_too_large" and not decoded


def test_a_bomb_by_header_alone_is_refused():
    # A PNG whose header claims 100,000 × 100,000 pixels (Pillow's own limit would warn).
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    bomb = PNG_MAGIC + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + chunk(b"IEND", b"")
    with pytest.raises(DomainError) as refused:
        branding.clean_logo(bomb)
    assert refused.value.code == "logo_too_large"


# The service -------------------------------------------------------------------------------

def test_branding_is_saved_with_an_audit_entry_and_the_logo_is_stored_cleaned(make_event):
    event = make_event()
    branding.update_branding(_organizer_of(event), event.public_id, accent_color="#0D6B63", logo=jpeg_with_exif())
    db.session.expire_all()
    event = db.session.get(Event, event.id)
    assert event.accent_color == "#0d6b63"
    assert event.logo.data.startswith(PNG_MAGIC) and b"SecretCamera" not in event.logo.data
    assert (event.logo.width, event.logo.height) == (64, 48) and event.logo.series_id == event.series_id
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.event_id == event.id)
                             .order_by(AuditEntry.id.desc()).limit(1)) == "event.branding_changed"


def _organizer_of(event):
    return db.session.get(Organizer, event.series.organizer_id)


def test_a_refused_logo_saves_nothing_not_even_the_colour(make_event, db_state):
    event = make_event()
    before = db_state()
    with pytest.raises(DomainError) as refused:
        branding.update_branding(_organizer_of(event), event.public_id, accent_color="#0d6b63",
                                 logo=b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    assert refused.value.code == "bad_image_type"
    assert db_state() == before


def test_only_the_series_organizers_may_brand_its_events(make_event, make_organizer):
    event = make_event()
    stranger = make_organizer()
    with pytest.raises(NotFound):
        branding.update_branding(stranger, event.public_id, accent_color="#0d6b63")
    door = make_organizer()
    db.session.add(SeriesMember(series_id=event.series_id, organizer_id=door.id, role="door"))
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        branding.update_branding(door, event.public_id, accent_color="#0d6b63")
    assert refused.value.code == "role_too_low"


def test_a_shared_logo_stays_while_another_event_shows_it(make_event):
    event = make_event()
    organizer = _organizer_of(event)
    branding.update_branding(organizer, event.public_id, logo=png())
    other = make_event(organizer, name="Next Thursday")
    other.logo_id = event.logo_id  # as the next event in a series copies it
    db.session.commit()
    branding.update_branding(organizer, event.public_id, remove_logo=True)
    assert db.session.scalar(select(func.count(EventLogo.id))) == 1
    branding.update_branding(organizer, other.public_id, remove_logo=True)
    assert db.session.scalar(select(func.count(EventLogo.id))) == 0


# Routes and pages --------------------------------------------------------------------------

def test_the_logo_is_served_as_an_immutable_png(client, make_event):
    event = make_event()
    branding.update_branding(_organizer_of(event), event.public_id, logo=png())
    response = client.get(f"/logo/{event.logo.public_id}.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.data == event.logo.data
    assert "immutable" in response.headers["Cache-Control"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/logo/NOSUCHLOGO2.png").status_code == 404


def test_the_accent_stylesheet_names_the_colour_and_its_text_colour(client):
    response = client.get("/brand/ffcc00.css")
    assert response.status_code == 200 and response.mimetype == "text/css"
    body = response.get_data(as_text=True)
    assert "--accent: #ffcc00" in body and f"--on-accent: {branding.INK}" in body
    assert "public" in response.headers["Cache-Control"]
    for bad in ("FFCC00", "ffcc0", "ffcc00;x", "zzzzzz"):
        assert client.get(f"/brand/{bad}.css").status_code == 404


def test_the_join_page_badge_and_poster_show_the_branding(make_event, make_client, make_organizer):
    organizer = make_organizer(password=ORGANIZER_PASSWORD)
    event = make_event(organizer)
    branding.update_branding(organizer, event.public_id, accent_color="#0d6b63", logo=png())
    logo_url = f"/logo/{event.logo.public_id}.png"
    attendee = make_client()
    join_page = attendee.get(f"/J/{event.join_code}").get_data(as_text=True)
    assert "/brand/0d6b63.css" in join_page and logo_url in join_page
    assert re.search(r'<body class="[^"]*\bbranded\b', join_page)
    assert attendee.submit(f"/J/{event.join_code}", data={"name": "Ada", "prompt_0": "Flask"}).status_code == 302
    badge_page = attendee.get("/badge").get_data(as_text=True)
    assert "/brand/0d6b63.css" in badge_page and logo_url in badge_page
    poster = sign_in_organizer(make_client(), organizer).get(f"/organizer/events/{event.public_id}/poster")
    html = poster.get_data(as_text=True)
    assert logo_url in html and "/brand/0d6b63.css" in html
    assert "Thursday Gathering" in html and "The Corner Café" in html
    assert "Thursday 26 November 2026, 19:00" in html  # the date and time, in the series' zone


def test_pages_of_an_unbranded_event_link_no_brand_stylesheet(make_event, client):
    event = make_event()
    html = client.get(f"/J/{event.join_code}").get_data(as_text=True)
    assert "/brand/" not in html and "/logo/" not in html


def test_the_branding_page_saves_a_jpeg_named_png_and_keeps_the_colour_on_a_refusal(make_event, make_client,
                                                                                   make_organizer):
    organizer = make_organizer(password=ORGANIZER_PASSWORD)
    event = make_event(organizer)
    client = sign_in_organizer(make_client(), organizer)
    url = f"/organizer/events/{event.public_id}/branding"
    refused = client.submit(url, data={"accent_color": "#808080"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 200 and field_error(html, "accent_color") == "low_contrast"
    assert 'value="#808080"' in html
    svg_file = FileStorage(io.BytesIO(b"<svg xmlns='http://www.w3.org/2000/svg'/>"), "logo.png")
    svg = upload(client, url, {"accent_color": "#0d6b63", "logo": svg_file})
    assert field_error(svg.get_data(as_text=True), "logo") == "bad_image_type"
    # A JPEG whose name says PNG: taken as the JPEG its bytes say it is.
    saved = upload(client, url, {"accent_color": "#0d6b63",
                                 "logo": FileStorage(io.BytesIO(jpeg_with_exif()), "logo.png")})
    assert saved.status_code == 302
    db.session.expire_all()
    event = db.session.get(Event, event.id)
    assert event.accent_color == "#0d6b63" and event.logo.data.startswith(PNG_MAGIC)
    assert b"SecretCamera" not in event.logo.data
    too_big = upload(client, url, {"logo": FileStorage(io.BytesIO(b"\xff\xd8\xff" + b"\x00" * branding.MAX_LOGO_BYTES),
                                                       "big.jpg")})
    assert too_big.status_code == 200 and field_error(too_big.get_data(as_text=True), "logo") == "logo_too_large"
    removed = client.submit(url, data={"accent_color": "", "remove_logo": "y"})
    assert removed.status_code == 302
    db.session.expire_all()
    assert db.session.get(Event, event.id).logo is None
