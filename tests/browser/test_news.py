""""Björn connected with you" in a real browser: the person whose badge was scanned sees it on
their open badge or home page within five seconds, with a link to the connection; a name is
shown as text, never as markup; the page stops asking while hidden or offline and asks at once
when shown or back online."""
import re
import time

import pytest
from playwright.sync_api import expect

from .support import PHONE, scan_path_of_badge, sign_in_as

NOTICE = '[data-state="news-notice"]'
NEWS = re.compile(r"/api/v1/news$")


@pytest.mark.browser
def test_the_badge_page_shows_who_connected_within_five_seconds(live_server, seed, new_context):
    base = live_server.url
    _, code = seed.event()
    _, ada_signin = seed.person(code, "Ada Okafor")
    _, bjorn_signin = seed.person(code, "Björn Løvås")
    ada, bjorn = new_context(**PHONE).new_page(), new_context(**PHONE).new_page()
    sign_in_as(ada, base, ada_signin)  # lands on her badge page, and leaves it open
    sign_in_as(bjorn, base, bjorn_signin)

    bjorn.goto(base + scan_path_of_badge(ada))
    bjorn.get_by_role("button", name="Connect", exact=True).click()
    expect(bjorn.locator(".connected-banner")).to_be_visible()
    connected = time.monotonic()
    notice = ada.locator(NOTICE)
    expect(notice).to_have_text("Björn Løvås connected with you — add what you talked about", timeout=5000)
    assert time.monotonic() - connected < 5
    expect(ada.locator('.news[aria-live="polite"]')).to_contain_text("Björn Løvås connected with you")  # live region

    notice.get_by_role("link").click()
    expect(ada).to_have_url(re.compile(r"/followup/[A-Za-z0-9]+$"))
    expect(ada.get_by_role("heading", level=1)).to_contain_text("Björn Løvås")
    assert new_context.errors == [], "\n".join(new_context.errors)


@pytest.mark.browser
def test_a_name_is_shown_as_text_not_markup(live_server, seed, new_context):
    base = live_server.url
    _, code = seed.event()
    ada_token, ada_signin = seed.person(code, "Ada Okafor")
    mallory_token, _ = seed.person(code, '<img src="/x" data-news-html><b>Mallory</b>')
    bo_token, _ = seed.person(code, "Bo Earlier")
    seed.connect(bo_token, ada_token)  # before the page loads: its banner tells, so it is not news
    ada = new_context(**PHONE).new_page()
    sign_in_as(ada, base, ada_signin)
    with ada.expect_response(NEWS):  # the page has asked once: what comes now is news
        ada.goto(base + "/")  # the home page tells too
    expect(ada.locator('[data-state="unseen-connections"]')).to_contain_text("1 new connection")
    ada.wait_for_timeout(500)  # its answer applied
    expect(ada.locator(NOTICE)).to_have_count(0)
    seed.connect(mallory_token, ada_token)
    notice = ada.locator(NOTICE)
    expect(notice).to_contain_text('<img src="/x" data-news-html><b>Mallory</b> connected with you', timeout=5000)
    assert notice.locator("img, b").count() == 0
    assert ada.locator("[data-news-html]").count() == 0
    assert new_context.errors == [], "\n".join(new_context.errors)


@pytest.mark.browser
def test_the_page_asks_only_while_in_view_with_its_token_and_etag(live_server, seed, new_context):
    base = live_server.url
    live_server.app.config["NEWS_POLL_SECONDS"] = 1  # quicker, so hidden and shown are seen soon
    _, code = seed.event()
    _, ada_signin = seed.person(code, "Ada Okafor")
    ada = new_context(**PHONE).new_page()
    sign_in_as(ada, base, ada_signin)
    asked = []
    ada.on("request", lambda request: NEWS.search(request.url) and asked.append(request))
    statuses = []
    ada.on("response", lambda response: NEWS.search(response.url) and statuses.append(response.status))
    ada.reload()
    ada.wait_for_timeout(2500)
    assert len(asked) >= 2 and 304 in statuses and set(statuses) <= {200, 304}, statuses
    later = asked[-1].all_headers()  # as sent, cookies included
    assert "x-kithmeet-news" in later and "if-none-match" in later and "cookie" not in later

    def set_hidden(hidden):
        ada.evaluate("""hidden => {
            Object.defineProperty(document, "hidden", {configurable: true, get: () => hidden});
            document.dispatchEvent(new Event("visibilitychange"));
        }""", hidden)
    set_hidden(True)
    ada.wait_for_timeout(300)  # a check already under way may finish
    before = len(asked)
    ada.wait_for_timeout(3000)
    assert len(asked) == before, "asked while hidden"
    shown = time.monotonic()
    set_hidden(False)
    ada.wait_for_timeout(400)
    assert len(asked) == before + 1, "did not ask at once when shown again"
    assert time.monotonic() - shown < 1

    # No network: no asking (nor a console full of failed requests); back online, at once.
    ada.context.set_offline(True)
    ada.wait_for_timeout(300)
    before = len(asked)
    ada.wait_for_timeout(2500)
    assert len(asked) == before, "asked while offline"
    ada.context.set_offline(False)
    ada.wait_for_timeout(400)
    assert len(asked) == before + 1, "did not ask at once when back online"
    assert new_context.errors == [], "\n".join(new_context.errors)
