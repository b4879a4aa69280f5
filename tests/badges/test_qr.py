"""Badge QR codes, decoded by a real decoder (zxing-cpp) from the images we serve."""
import io
import random

import cairosvg
import pytest
import zxingcpp
from PIL import Image

from kithmeet.badges import qr
from kithmeet.tokens import ALPHABET, BADGE_TOKEN_LENGTH, new_code


def decode(image):
    results = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(results) == 1, "expected exactly one QR code"
    return results[0]


def png_image(data):
    return Image.open(io.BytesIO(data)).convert("L")


def svg_image(data, scale=1):
    # Render onto white: a QR decoder needs the light modules to be light.
    png = cairosvg.svg2png(bytestring=data, scale=scale, background_color="white")
    return png_image(png)


@pytest.fixture
def app_config():
    return {"PUBLIC_URL": "https://meet.example.org"}


def test_badge_png_and_svg_decode_to_exactly_the_scan_url(client, make_person):
    person = make_person()
    expected = f"HTTPS://MEET.EXAMPLE.ORG/B/{person.badge_token}"
    png = client.get(f"/badge/{person.badge_token}.png")
    svg = client.get(f"/badge/{person.badge_token}.svg")
    assert png.mimetype == "image/png" and svg.mimetype == "image/svg+xml"
    for image in (png_image(png.data), svg_image(svg.data)):
        result = decode(image)
        assert result.text == expected
        assert result.extra["Version"] == "2" and result.extra["ECLevel"] in ("M", "Q", "H")
    # Nothing but the URL: no name in the code.
    assert person.name.upper() not in expected


def test_badge_png_decodes_at_two_pixels_per_module(client, make_person):
    person = make_person()
    image = png_image(client.get(f"/badge/{person.badge_token}.png?scale=2").data)
    assert image.size == (2 * (25 + 2 * qr.QUIET_ZONE),) * 2  # version 2 is 25 modules a side
    assert decode(image).text.endswith(person.badge_token)


def test_scan_url_is_the_request_host_without_public_url(app, make_person):
    person = make_person()
    app.config["PUBLIC_URL"] = ""
    data = app.test_client().get(f"/badge/{person.badge_token}.png", base_url="http://127.0.0.1:5000").data
    assert decode(png_image(data)).text == f"HTTP://127.0.0.1:5000/B/{person.badge_token}"


def hosts(length, count=20):
    rng = random.Random(length)
    letters = "abcdefghijklmnopqrstuvwxyz0123456789-"
    out = []
    for _ in range(count):
        body = "".join(rng.choice(letters) for _ in range(length - 4))
        out.append(f"{body}.org")
    return out


@pytest.mark.parametrize("host", ["meet.example.org", "127.0.0.1:5000", "a.io", *hosts(16)])
def test_hosts_up_to_16_characters_give_version_2_at_level_m_or_better(host):
    assert len(host) <= 16
    token = new_code()
    code = qr.make(qr.badge_url(token, base=f"https://{host}"))
    assert code.version == 2 and code.error in ("M", "Q", "H")
    image = Image.open(io.BytesIO(_png(code))).convert("L")
    assert decode(image).text == f"HTTPS://{host.upper()}/B/{token}"


@pytest.mark.parametrize("host", hosts(35) + ["community-events.long-example-host.org"[:35]])
def test_hosts_up_to_35_characters_stay_within_version_3(host):
    code = qr.make(qr.badge_url(new_code(), base=f"https://{host}"))
    assert code.version <= 3 and code.error in ("M", "Q", "H")


def _png(code):
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=2, border=qr.QUIET_ZONE)
    return buffer.getvalue()


def test_token_alphabet_is_qr_alphanumeric_without_look_alikes():
    assert set(ALPHABET) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    assert not set(ALPHABET) & set("01OIL")
    assert len(new_code()) == BADGE_TOKEN_LENGTH


def test_png_scale_is_bounded(client, make_person):
    person = make_person()
    assert client.get(f"/badge/{person.badge_token}.png?scale=1000").status_code == 400


def test_join_poster_qr_decodes_to_the_join_link(client, make_event):
    event = make_event()
    data = client.get(f"/J/{event.join_code}.svg").data
    assert decode(svg_image(data)).text == f"HTTPS://MEET.EXAMPLE.ORG/J/{event.join_code}"
