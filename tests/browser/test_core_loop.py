"""The whole loop, as newcomers do it in a real browser: an organizer sets kithmeet up and
opens an event, two attendees join on their phones, one scans the other's badge and
connects, and both find each other in their follow-up lists."""
import re

import pytest
from playwright.sync_api import expect

from .support import PHONE, image_loaded, scan_path_of_badge

TALKED_ABOUT = "Testing Flask apps with a real browser"
PRIVATE_NOTE = "Send Ada the Playwright fixture; ask about her Rust study group"
ADA = {"name": "Ada Okafor", "headline": "Backend developer, Python and Postgres",
       "answer": "Scaling Flask apps", "email": "ada@example.org", "phone": "+44 20 7946 0958"}
# Right-to-left script and an emoji in one name: both must survive forms, pages and lists.
AMINA = {"name": "أمينة 🌱", "headline": "مهندسة بيانات — data engineer", "answer": "Arabic NLP",
         "email": "amina@example.org"}


def contact_switch(page, label):
    """The "Share with people I connect with" switch that belongs to one contact field."""
    return page.locator(".contact-field", has=page.get_by_label(label, exact=True)).get_by_role("switch")


def join(page, join_link, person, *, share_phone=True):
    page.goto(join_link)
    page.get_by_label("Your name").fill(person["name"])
    page.get_by_label("Headline").fill(person["headline"])
    page.get_by_label("Ask me about").fill(person["answer"])
    page.get_by_label("Email", exact=True).fill(person["email"])
    expect(contact_switch(page, "Email")).to_be_checked()
    if "phone" in person:
        page.get_by_label("Phone", exact=True).fill(person["phone"])
    if not share_phone:
        contact_switch(page, "Phone").uncheck()
    page.get_by_role("button", name="Get my badge").tap()
    expect(page).to_have_url(re.compile(r"/badge$"))


@pytest.mark.browser
def test_organizer_opens_event_and_two_attendees_connect(live_server, new_context):
    base = live_server.url

    # The organizer's first visit leads to the guarded first-run setup.
    organizer = new_context().new_page()
    organizer.goto(base + "/")
    expect(organizer).to_have_url(base + "/organizer/setup")
    organizer.get_by_label("Setup code").fill(live_server.setup_code())
    organizer.get_by_label("Your email").fill("organizer@example.org")
    organizer.get_by_label("Choose a password").fill("correct horse battery staple")
    organizer.get_by_role("button", name="Create organizer account").click()
    expect(organizer).to_have_url(base + "/organizer/events/new")
    expect(organizer.get_by_role("status")).to_contain_text("Create your first event")

    organizer.get_by_label("Series").fill("Thursday Gathering")
    organizer.get_by_label("Event name").fill("November meetup")
    organizer.get_by_label("Date and time").fill("2026-11-26T19:00")
    organizer.get_by_label("Venue", exact=True).fill("The Corner Café, upstairs")
    organizer.get_by_label("Description").fill("Lightning talks, then people to meet.")
    for number, prompt in enumerate(("Ask me about", "I can help with", "I'm looking for"), start=1):
        expect(organizer.get_by_label(f"Prompt {number}")).to_have_value(prompt)
    organizer.get_by_role("button", name="Save as draft").click()
    expect(organizer.get_by_role("heading", level=1)).to_have_text("November meetup")
    expect(organizer.locator(".status")).to_have_text("Draft")
    expect(organizer.get_by_text("Thursday 26 November 2026, 19:00")).to_be_visible()

    organizer.get_by_role("button", name="Open event").click()
    expect(organizer.locator(".status")).to_have_text("Open")
    join_link = organizer.locator("#join-link").input_value()
    assert re.fullmatch(re.escape(base) + r"/J/[0-9A-Z]{10}", join_link), join_link

    organizer.get_by_role("link", name="Printable join poster").click()
    expect(organizer.get_by_role("heading", level=1)).to_have_text("November meetup")
    expect(organizer.locator(".poster-link")).to_have_text(join_link)
    assert image_loaded(organizer.locator("img.poster-qr")), "the join QR on the poster did not load"

    # Attendee A joins on a phone and keeps the phone number to herself.
    ada = new_context(**PHONE).new_page()
    join(ada, join_link, ADA, share_phone=False)
    expect(ada.get_by_role("status")).to_contain_text("You're checked in.")
    expect(ada.get_by_role("heading", level=1)).to_have_text(ADA["name"])
    expect(ada.locator(".badge-prompt")).to_contain_text(ADA["answer"])
    assert image_loaded(ada.locator("img.badge-qr")), "the badge QR did not load"
    ada_scan = scan_path_of_badge(ada)

    # Attendee B joins on another phone, with a right-to-left name.
    amina = new_context(**PHONE).new_page()
    join(amina, join_link, AMINA)
    name = amina.get_by_role("heading", level=1)
    expect(name).to_have_text(AMINA["name"])
    assert name.evaluate("h => getComputedStyle(h).direction") == "rtl"

    # B scans A's badge: A's public card, no contact details yet.
    amina.goto(base + ada_scan)
    expect(amina.locator(".person-name")).to_have_text(ADA["name"])
    expect(amina.locator(".person-card")).to_contain_text(ADA["headline"])
    expect(amina.locator(".person-card")).to_contain_text(ADA["answer"])
    expect(amina.get_by_text(ADA["email"])).to_have_count(0)
    amina.get_by_label("What did you talk about?").fill(TALKED_ABOUT)
    amina.get_by_label("Private note").fill(PRIVATE_NOTE)
    amina.get_by_role("button", name="Connect", exact=True).tap()

    expect(amina.get_by_role("status")).to_contain_text("You're connected.")
    expect(amina.locator(".connected-banner")).to_have_text("✓ You're connected")
    expect(amina.get_by_role("link", name=ADA["email"])).to_be_visible()
    assert ADA["phone"] not in amina.content(), "A's phone number was not shared but B can see it"
    expect(amina.locator(".encounters")).to_contain_text(TALKED_ABOUT)

    # Both follow-up lists hold the other person and what they talked about.
    amina.goto(base + "/followup")
    row = amina.locator("li.followup-entry")
    expect(row).to_have_count(1)
    expect(row.locator(".row-name")).to_have_text(ADA["name"])
    expect(row.locator(".row-shared")).to_have_text(TALKED_ABOUT)
    row.get_by_role("link").tap()
    entry = amina.locator(".connection-page")
    expect(entry.locator(".person-name")).to_have_text(ADA["name"])
    expect(entry.get_by_label("Talked about")).to_have_value(TALKED_ABOUT)
    expect(entry.get_by_label("Private note")).to_have_value(PRIVATE_NOTE)
    expect(entry.get_by_role("link", name=ADA["email"])).to_be_visible()
    assert ADA["phone"] not in amina.content()

    ada.goto(base + "/followup")
    row = ada.locator("li.followup-entry")
    expect(row).to_have_count(1)
    row.get_by_role("link").click()
    entry = ada.locator(".connection-page")
    expect(entry.locator(".person-name")).to_have_text(AMINA["name"])
    expect(entry.get_by_label("Talked about")).to_have_value(TALKED_ABOUT)
    expect(entry.get_by_label("Private note")).to_have_value("")
    expect(entry.get_by_role("link", name=AMINA["email"])).to_be_visible()
    assert PRIVATE_NOTE not in ada.content(), "B's private note leaked into A's follow-up list"

    # Scanning again and submitting again adds to the one connection, never a second entry.
    amina.goto(base + ada_scan)
    expect(amina.locator(".connected-banner")).to_be_visible()
    expect(amina.get_by_role("heading", name="Add to your connection")).to_be_visible()
    amina.get_by_label("What did you talk about?").fill(TALKED_ABOUT)
    amina.get_by_role("button", name="Add to our notes", exact=True).tap()
    expect(amina.get_by_role("status")).to_contain_text("Added to your connection.")
    for page in (amina, ada):
        page.goto(base + "/followup")
        expect(page.locator("li.followup-entry")).to_have_count(1)
        page.locator("a.followup-row").click()
        expect(page.get_by_label("Talked about")).to_have_value(TALKED_ABOUT)

    # A scanning A's own badge is told so, not connected to herself.
    ada.goto(base + ada_scan)
    expect(ada.locator('[data-code="self_scan"]')).to_be_visible()
    expect(ada.get_by_role("button", name="Connect", exact=True)).to_have_count(0)

    assert new_context.errors == [], "\n".join(new_context.errors)
