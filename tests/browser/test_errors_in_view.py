"""A refused save comes back with its first error on screen: a phone that lands at the top of
a long page, the error far below, shows nothing wrong at all."""
import pytest
from playwright.sync_api import expect

from .support import PHONE, sign_in_as

IN_VIEW = """el => { const box = el.getBoundingClientRect();
  return box.top >= 0 && box.bottom <= innerHeight; }"""


@pytest.mark.browser
def test_a_refused_follow_up_save_shows_its_first_error_on_a_phone(live_server, seed, new_context):
    base = live_server.url
    _, code = seed.event()
    ada, signin = seed.person(code, "Ada Okafor", answers=["Scaling Flask apps"])
    chen, _ = seed.person(code, "Chen Wei", headline="Product designer", answers=["Usability testing"],
                          contacts={"email": "wei@example.org", "phone": "+44 20 7946 0958"})
    seed.connect(ada, chen, talked_about="Usability testing on a budget\n" * 6)
    page = new_context(**PHONE).new_page()
    sign_in_as(page, base, signin)
    page.goto(base + "/followup")
    page.get_by_role("link", name="Chen Wei").click()
    page.get_by_label("Status").select_option("snoozed")  # and no date
    page.get_by_role("button", name="Save").click()
    first_error = page.locator('[role="alert"] a[data-code]').first
    expect(first_error).to_be_attached()
    assert first_error.evaluate(IN_VIEW), "the first error is off screen after the refused save"
    first_error.click()  # the summary's link leads to the field
    expect(page.get_by_label("Snooze until")).to_be_focused()
    errors = [e for e in new_context.errors if "status of 400" not in e]  # the refusal itself
    assert errors == [], "\n".join(errors)
