"""An organizer's whole night in Chromium, through the pages alone: a new series with its time
zone and settings, the guest list imported, badge sheets printed for it, the event opened, the
door kiosk checking a guest in, the guest's phone taking over through the hand-off QR, and the
live dashboard counting it in another browser without a reload.

Each step is tested on its own elsewhere; this one proves they join up (the guest the import
made is the one the sheet prints, the kiosk finds and the dashboard counts)."""
import io
from pathlib import Path

import pdfplumber
import pytest
from playwright.sync_api import expect

from kithmeet.organizer import live_views

from .support import PHONE, sign_in_organizer
from .test_kiosk import TABLET, check_in_at_kiosk, qr_link

GUEST_LIST = Path(__file__).resolve().parents[1] / "data" / "luma_guests.csv"  # two guests and one bad address


def read_pdf(data):
    """The number of pages and the words on them; pdfplumber raises on a PDF that does not decode."""
    assert data[:5] == b"%PDF-", data[:40]
    with pdfplumber.open(io.BytesIO(data)) as document:
        return len(document.pages), " ".join(page.extract_text() or "" for page in document.pages)


@pytest.mark.browser
def test_an_organizer_runs_the_night_from_an_empty_series_to_the_live_count(
        live_server, seed, new_context, monkeypatch):
    base = live_server.url
    # The dashboard asks every second instead of every five: the wait below is for the count, not the clock.
    monkeypatch.setattr(live_views, "REFRESH_SECONDS", 1)
    seed.organizer()
    laptop = new_context(**TABLET).new_page()  # the organizer's, until it becomes the door kiosk
    sign_in_organizer(laptop, base)

    # A new series, named with its first event, in the venue's time zone.
    laptop.get_by_role("link", name="New event").click()
    laptop.get_by_label("Series", exact=True).fill("Kreuzberg Thursdays")
    laptop.get_by_label("Time zone", exact=True).fill("Europe/Berlin")
    laptop.get_by_label("Event name", exact=True).fill("Kreuzberg Thursdays #1")
    laptop.get_by_label("Date and time", exact=True).fill("2026-12-03T19:00")
    laptop.get_by_label("Venue", exact=True).fill("Café Kotti, upstairs")
    laptop.get_by_role("button", name="Save as draft").click()
    expect(laptop.get_by_role("heading", level=1)).to_have_text("Kreuzberg Thursdays #1")
    event_url = laptop.url
    public_id = event_url.rsplit("/", 1)[-1]
    expect(laptop.locator(".page-head .meta").last).to_contain_text("19:00")  # on the clock as typed, in Berlin

    # The series' settings: the zone chosen above, and a label printer at the door.
    laptop.get_by_role("link", name="Your events").click()
    laptop.get_by_role("link", name="Settings for Kreuzberg Thursdays").click()
    expect(laptop.get_by_label("Time zone", exact=True)).to_have_value("Europe/Berlin")
    laptop.get_by_label("Keep attendee data for (months)").fill("6")
    laptop.get_by_label("A label printer is set up at the door").check()
    laptop.get_by_role("button", name="Save settings").click()
    expect(laptop.locator(".flash-success")).to_be_visible()
    expect(laptop.get_by_label("Keep attendee data for (months)")).to_have_value("6")
    expect(laptop.get_by_label("A label printer is set up at the door")).to_be_checked()

    # The guest list: upload, check the columns the export was recognised by, import, read the report.
    laptop.goto(event_url)
    laptop.get_by_role("link", name="Import a guest list").click()
    laptop.get_by_label("Guest list (CSV or TSV)").set_input_files(str(GUEST_LIST))
    laptop.get_by_role("button", name="Upload and check the columns").click()
    expect(laptop.get_by_role("heading", level=1)).to_have_text("Check the columns")
    preview = laptop.locator("table.guest-preview")
    expect(preview).to_contain_text("Grace Hopper")
    expect(preview).to_contain_text("hedy@example.org")
    laptop.get_by_role("button", name="Import 3 rows").click()
    expect(laptop.get_by_role("heading", level=1)).to_have_text("Guest list imported")
    expect(laptop.locator('[data-count="added"]')).to_have_text("2")
    expect(laptop.locator('[data-count="skipped"]')).to_have_text("1")
    expect(laptop.locator('tr[data-outcome="skipped"]')).to_have_attribute("data-row", "4")  # Ida's bad address

    # Badge sheets for the guest list, asked for with the print page's own form.
    laptop.goto(event_url)
    laptop.get_by_role("link", name="Print badges").click()
    sheet_form = laptop.locator('form[data-state="sheet-form"]')
    sheet_form.get_by_label("Badge stock").select_option("avery-l4785")
    sheet_form.get_by_label("Whose badges").select_option("guests")
    sheet_url = sheet_form.evaluate("form => form.action + '?' + new URLSearchParams(new FormData(form))")
    response = laptop.request.get(sheet_url)  # the page's cookies: the organizer's session
    assert response.ok and response.headers["content-type"] == "application/pdf"
    pages, words = read_pdf(response.body())
    assert pages == 1  # ten badges a sheet, two guests
    assert "Grace" in words and "Hedy" in words and "Ida" not in words

    # Doors open.
    laptop.goto(event_url)
    laptop.get_by_role("button", name="Open event").click()
    expect(laptop.locator("[data-state=open-kiosk]")).to_be_visible()

    # The organizer's phone watches the live dashboard from here on, never reloaded.
    watcher = new_context(**PHONE).new_page()
    sign_in_organizer(watcher, base)
    watcher.goto(f"{event_url}/live")
    checked_in = watcher.locator('[data-live="checked_in"]')
    expect(checked_in).to_have_text("0")
    watcher.evaluate("window.stillTheSamePage = true")

    # The laptop becomes the door kiosk; Grace finds her name and checks in.
    laptop.get_by_role("button", name="Turn this browser into the door kiosk").click()
    laptop.wait_for_url(base + "/kiosk")
    check_in_at_kiosk(laptop, base, "hop", "Grace Hopper")
    expect(laptop.get_by_role("heading", level=1)).to_contain_text("Grace Hopper")
    expect(laptop.locator('[data-state="kiosk-print"]')).to_be_visible()  # the label printer set above

    # Her phone reads the hand-off QR off the kiosk's screen and signs her in there.
    link = qr_link(laptop)
    assert link.startswith(base + "/signin/kiosk/")
    phone = new_context(**PHONE).new_page()
    phone.goto(link)
    phone.get_by_role("button", name="Continue as Grace Hopper").click()
    phone.wait_for_url(base + "/badge")
    expect(phone.locator("h1")).to_contain_text("Grace Hopper")
    expect(phone.locator("img.badge-qr")).to_be_visible()
    laptop.wait_for_url(base + "/kiosk")  # the kiosk saw the phone take over and starts over

    # The dashboard counted her by itself.
    expect(checked_in).to_have_text("1", timeout=10_000)
    assert watcher.evaluate("window.stillTheSamePage") is True
    assert "Grace" not in watcher.content()
    assert public_id in watcher.url
    assert new_context.errors == [], "\n".join(new_context.errors)
