"""The follow-up list reads as a list on a phone: at least six people fit one 390x844 screen,
long lines are cut rather than wrapped, and a row opens that person's page from a keyboard too."""
import pytest
from playwright.sync_api import expect

from .support import PHONE, sign_in_as

ROWS_IN_VIEW = """() => [...document.querySelectorAll("li.followup-entry")].filter(row => {
  const box = row.getBoundingClientRect();
  return box.top >= 0 && box.bottom <= innerHeight && box.left >= 0 && box.right <= innerWidth;
}).length"""


@pytest.mark.browser
def test_six_rows_fit_a_phone_screen_and_a_row_opens_by_keyboard(live_server, seed, new_context):
    base = live_server.url
    _, code = seed.event()
    host, signin = seed.person(code, "Ada Okafor", answers=["Scaling Flask apps"])
    for i in range(8):
        other, _ = seed.person(code, f"Person Number {i} With A Rather Long Name",
                               headline="Community organiser, bike mechanic and occasional baker " * 2,
                               answers=["Repair cafés"])
        seed.connect(other, host, talked_about=f"Talk {i}: " + "a long story about spokes and chains " * 8)
    page = new_context(**PHONE).new_page()
    sign_in_as(page, base, signin)
    page.goto(base + "/followup")
    expect(page.locator("li.followup-entry")).to_have_count(8)
    in_view = page.evaluate(ROWS_IN_VIEW)
    assert in_view >= 6, f"only {in_view} rows fit a 390x844 screen"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    first = page.locator("a.followup-row").first
    first.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Person Number 7")
    expect(page.locator(".encounter")).to_have_count(1)
    assert new_context.errors == [], "\n".join(new_context.errors)
