"""The live dashboard and the projector count a check-in and a connection made elsewhere
without a reload, under the real CSP, and stay free of names."""
import pytest
from playwright.sync_api import expect

from .support import sign_in_organizer

REFRESHED = 15_000  # ms: the pages ask every five seconds


@pytest.mark.browser
@pytest.mark.parametrize("view", ["live", "live/projector"])
def test_the_numbers_change_without_a_reload(view, live_server, seed, new_context):
    live_server.app.config["LIVE_WEB_BATCH"] = 1  # redraw the web on every arrival (10 on a real night)
    public_id, code = seed.event()
    ada, _ = seed.person(code, "Ada Okafor")
    page = new_context().new_page()
    sign_in_organizer(page, live_server.url)
    page.goto(f"{live_server.url}/organizer/events/{public_id}/{view}")
    checked_in, made = page.locator('[data-live="checked_in"]'), page.locator('[data-live="connections"]')
    expect(checked_in).to_have_text("1")
    expect(made).to_have_text("0")
    page.evaluate("window.stillTheSamePage = true")

    bo, _ = seed.person(code, "Bo Lind")  # checked in on Bo's own phone, not in this browser
    expect(checked_in).to_have_text("2", timeout=REFRESHED)
    seed.connect(bo, ada)
    expect(made).to_have_text("1", timeout=REFRESHED)
    expect(page.locator(".live-web line")).to_have_count(1)
    expect(page.locator(".live-web circle")).to_have_count(2)
    if view == "live/projector":
        expect(page.locator(".projector-big")).to_contain_text("1 connection made tonight")
    else:
        expect(page.locator("[data-live-bars] rect")).not_to_have_count(0)
    assert page.evaluate("window.stillTheSamePage") is True  # redrawn in place, never reloaded
    html = page.content()
    assert "Ada Okafor" not in html and "Bo Lind" not in html
    assert new_context.errors == [], "\n".join(new_context.errors)
