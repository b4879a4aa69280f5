"""Consent over a connection in a real browser, on 320 px screens: the scanned person is told,
confirms before their contacts show, and removes the connection; an entry whose person
deleted their account; the code of conduct on the join page. Each screen passes axe."""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import delete, select, update

from kithmeet.connections.models import Connection, ConnectionSide
from kithmeet.events.models import Series
from kithmeet.extensions import db
from kithmeet.people import services as people

from .support import NARROW, scan_path_of_badge
from .test_accessibility import assert_no_sideways_scroll, audit


@pytest.fixture
def phone(new_context):
    """A new 320 px phone (axe needs the CSP bypassed to inject itself)."""
    return lambda: new_context(**NARROW, bypass_csp=True).new_page()


def join(page, base, code, name, email, *, ask_first=False):
    page.goto(f"{base}/J/{code}")
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Email", exact=True).fill(email)
    if ask_first:
        page.get_by_role("switch", name="Ask me first").check()
    page.get_by_role("button", name="Get my badge").click()
    expect(page).to_have_url(re.compile(r"/badge$"))


def checked(page):
    audit(page)
    assert_no_sideways_scroll(page)


@pytest.mark.browser
def test_the_scanned_person_is_told_confirms_then_removes(live_server, seed, phone, new_context):
    base = live_server.url
    _, code = seed.event()
    ada, bo = phone(), phone()
    join(ada, base, code, "Ada Okafor", "ada@example.org", ask_first=True)
    join(bo, base, code, "Björn Løvås", "bjorn@example.org")

    # Bo scans Ada's badge and connects: Ada asked to confirm first, so her email does not show.
    bo.goto(base + scan_path_of_badge(ada))
    bo.get_by_role("button", name="Connect", exact=True).click()
    expect(bo.locator(".connected-banner")).to_be_visible()
    expect(bo.get_by_text("ada@example.org")).to_have_count(0)

    # Ada is told on her next page, and reviews.
    ada.goto(base + "/followup")
    banner = ada.locator(".consent-banner a")
    expect(banner).to_contain_text("1 new connection")
    banner.click()
    expect(ada).to_have_url(base + "/connections/review")
    expect(ada.get_by_text("bjorn@example.org")).to_be_visible()  # Bo shares at once
    checked(ada)
    ada.get_by_role("button", name="Confirm and share my contacts").click()
    expect(ada.get_by_role("status")).to_contain_text("Confirmed")
    expect(ada.locator(".consent-banner")).to_have_count(0)
    bo.reload()
    expect(bo.get_by_text("ada@example.org")).to_be_visible()

    # Later Ada removes the connection from her list: Bo's entry says so, without her contacts.
    ada.goto(base + "/followup")
    ada.get_by_role("link", name="Björn Løvås").click()
    ada.locator("summary", has_text="Remove, block or report").click()
    ada.get_by_role("button", name="Remove Björn Løvås").click()
    expect(ada).to_have_url(base + "/followup")
    expect(ada.locator("li.followup-entry")).to_have_count(0)
    bo.goto(base + "/followup")
    entry = bo.locator("li.followup-entry")
    expect(entry).to_have_attribute("data-state", "no-longer-connected")
    expect(entry).to_contain_text("No longer connected")
    entry.get_by_role("link").click()
    expect(bo.locator(".connection-page")).to_contain_text("No longer connected")
    expect(bo.get_by_text("ada@example.org")).to_have_count(0)
    checked(bo)
    assert new_context.errors == [], "\n".join(new_context.errors)


@pytest.mark.browser
def test_an_entry_whose_person_deleted_their_account(live_server, seed, phone, new_context):
    base = live_server.url
    _, code = seed.event()
    ada_token, ada_signin = seed.person(code, "Ada Okafor", answers=["Scaling Flask apps"])
    bo_token, _ = seed.person(code, "Björn Løvås", answers=["3D printing"])
    seed.connect(bo_token, ada_token, talked_about="Repair cafés", private_note="Ask about the tool library")
    with live_server.app.app_context():  # what deleting Ada's account leaves for Bo (built elsewhere)
        ada = people.person_by_badge(ada_token)
        connection = db.session.scalar(select(Connection))
        column = "person_a_id" if connection.person_a_id == ada.id else "person_b_id"
        db.session.execute(update(Connection).values({column: None}))
        db.session.execute(delete(ConnectionSide).where(ConnectionSide.person_id == ada.id))
        db.session.commit()
    page = phone()
    page.goto(base + seed.signin_path(bo_token))
    page.get_by_role("button", name="Continue").click()
    page.goto(base + "/followup")
    expect(page.locator("li.followup-entry")).to_have_attribute("data-state", "account-deleted")
    page.get_by_role("link", name="Someone you met (account deleted)").click()
    entry = page.locator(".connection-page")
    expect(entry).to_have_attribute("data-state", "account-deleted")
    expect(entry.get_by_role("heading", level=1)).to_have_text(
        re.compile(r"^Someone you met at Thursday Gathering #12 on \d\d \w{3} \d{4} \(account deleted\)$"))
    expect(page.get_by_label("Private note (only you see this)")).to_have_value("Ask about the tool library")
    expect(entry.get_by_role("button", name=re.compile("Remove|Block"))).to_have_count(0)
    checked(page)
    assert new_context.errors == [], "\n".join(new_context.errors)


@pytest.mark.browser
def test_the_join_page_shows_the_code_of_conduct_by_the_button(live_server, seed, phone, new_context):
    _, code = seed.event()
    with live_server.app.app_context():  # the organizer's series settings page sets it (built elsewhere)
        db.session.execute(update(Series).values(code_of_conduct_url="https://conduct.example.org/"))
        db.session.commit()
    page = phone()
    page.goto(f"{live_server.url}/J/{code}")
    note = page.locator(".conduct-note")
    expect(note).to_contain_text("By joining you agree to follow the code of conduct")
    expect(note.get_by_role("link", name="code of conduct")).to_have_attribute("href", "https://conduct.example.org/")
    checked(page)
    assert new_context.errors == [], "\n".join(new_context.errors)
