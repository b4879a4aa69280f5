"""The door kiosk in Chromium: a tablet at the door checks an imported guest in, its hand-off QR
opened by a second browser (the guest's phone) signs them in there, and the kiosk starts over
with nothing of them left to reach: not by the back button, not after sitting idle."""
import io

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from .support import ORGANIZER_PASSWORD, PHONE, sign_in_organizer

TABLET = {"viewport": {"width": 800, "height": 1280}, "has_touch": True}


def open_kiosk(page, base, public_id):
    """What an organizer does on the tablet: sign in, open the event, turn it into the kiosk."""
    sign_in_organizer(page, base)
    page.goto(f"{base}/organizer/events/{public_id}")
    page.get_by_role("button", name="Turn this browser into the door kiosk").click()
    page.wait_for_url(base + "/kiosk")


def check_in_at_kiosk(page, base, letters, name):
    page.get_by_role("link", name="I registered").click()
    page.get_by_label("Your name").fill(letters)  # results come as you type
    page.get_by_role("button", name=name).click()
    page.wait_for_url(base + "/kiosk/welcome")


def qr_link(page):
    """The hand-off QR as a phone camera reads it."""
    image = Image.open(io.BytesIO(page.locator("img.kiosk-qr").screenshot())).convert("L")
    [code] = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    return code.text


@pytest.mark.browser
def test_a_guest_checks_in_at_the_kiosk_and_takes_over_on_their_phone(live_server, seed, new_context):
    base = live_server.url
    public_id, _ = seed.event()
    seed.guest(public_id, "Ada Okafor", "ada@example.org")
    tablet = new_context(**TABLET).new_page()
    open_kiosk(tablet, base, public_id)

    check_in_at_kiosk(tablet, base, "oka", "Ada Okafor")
    expect(tablet.get_by_role("heading", level=1)).to_contain_text("Ada Okafor")
    link = qr_link(tablet)
    assert link.startswith(base + "/signin/kiosk/")

    phone = new_context(**PHONE).new_page()
    phone.goto(link)
    phone.get_by_role("button", name="Continue as Ada Okafor").click()
    phone.wait_for_url(base + "/badge")
    expect(phone.locator("h1")).to_contain_text("Ada Okafor")

    # The phone took over: the kiosk moves on to the next person by itself.
    tablet.wait_for_url(base + "/kiosk", timeout=10_000)
    expect(tablet.get_by_role("link", name="I registered")).to_be_visible()
    # The back button, twice: the search page, empty, then the start; never Ada.
    for _ in range(2):
        tablet.go_back()
        assert "Ada" not in tablet.content()
        assert "/kiosk" in tablet.url

    assert new_context.errors == []

    # A second opening of the QR finds it used (a 404 page).
    other = new_context(**PHONE).new_page()
    other.goto(link)
    expect(other.locator('[data-code="bad_handoff"]')).to_be_visible()


@pytest.mark.browser
def test_an_idle_kiosk_returns_to_its_start_and_forgets_the_person(live_server, seed, new_context):
    base = live_server.url
    live_server.app.config["KIOSK_IDLE_SECONDS"] = 2
    public_id, _ = seed.event()
    seed.guest(public_id, "Ada Okafor", "ada@example.org")
    tablet = new_context(**TABLET).new_page()
    open_kiosk(tablet, base, public_id)

    check_in_at_kiosk(tablet, base, "ada", "Ada Okafor")
    tablet.wait_for_url(base + "/kiosk", timeout=6_000)  # nobody touched it
    tablet.go_back()
    assert "Ada" not in tablet.content()
    tablet.goto(base + "/kiosk/welcome")  # history, or the address typed again
    tablet.wait_for_url(base + "/kiosk")
    assert "Ada" not in tablet.content()

    # Half-typed and left: the form empties too, without autofill offering the name again.
    tablet.get_by_role("link", name="I'm new here").click()
    tablet.get_by_label("Your name").fill("Bo Half")
    tablet.wait_for_url(base + "/kiosk", timeout=6_000)
    tablet.get_by_role("link", name="I'm new here").click()
    expect(tablet.get_by_label("Your name")).to_have_value("")
    expect(tablet.get_by_label("Your name")).to_have_attribute("autocomplete", "off")
    assert new_context.errors == []


@pytest.mark.browser
def test_a_new_person_joins_at_the_kiosk_and_the_kiosk_is_locked_until_the_password(
        live_server, seed, new_context):
    base = live_server.url
    public_id, _ = seed.event()
    tablet = new_context(**TABLET).new_page()
    open_kiosk(tablet, base, public_id)

    tablet.get_by_role("link", name="I'm new here").click()
    tablet.get_by_label("Your name").fill("Nia Newcomer")
    tablet.get_by_role("button", name="Check me in").click()
    tablet.wait_for_url(base + "/kiosk/welcome")
    expect(tablet.get_by_role("heading", level=1)).to_contain_text("Nia Newcomer")
    tablet.get_by_role("link", name="Done: next person").click()
    tablet.wait_for_url(base + "/kiosk")

    for path in ("/organizer/", f"/organizer/events/{public_id}", "/badge"):
        tablet.goto(base + path)
        tablet.wait_for_url(base + "/kiosk")

    tablet.get_by_role("link", name="Staff").click()
    tablet.get_by_label("Organizer password").fill("not the password")
    tablet.get_by_role("button", name="Close the kiosk").click()
    expect(tablet.locator('[data-code="bad_password"]')).to_be_visible()
    tablet.get_by_label("Organizer password").fill(ORGANIZER_PASSWORD)
    tablet.get_by_role("button", name="Close the kiosk").click()
    tablet.wait_for_url(f"{base}/organizer/")
    assert new_context.errors == []
