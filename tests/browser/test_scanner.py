"""The in-page scanner with a camera: Chromium's fake camera plays a picture of one of our own
badges (tests/browser/camera.py), and the page must read it, connect at once and show the card.

The fake camera is a launch flag, so each test starts its own Chromium (about a second) beside
the session's shared one; the person on the other side uses the shared one. Headless Chromium on
Linux has no native BarcodeDetector: these tests run the vendored polyfill (zxing-wasm), and
say so by asserting which reader the page used.
"""
import json
import re
from urllib.parse import urlsplit

import pytest
from PIL import Image
from playwright.sync_api import expect

from .camera import FPS, FRAMES, badge_picture, foreign_picture, write_y4m
from .support import CHROMIUM, CHROMIUM_ARGS, PHONE, sign_in_as

ADA = {"name": "Ada Okafor", "headline": "Backend developer, Python and Postgres", "answer": "Scaling Flask apps"}
TALKED_ABOUT = "Testing Flask apps with a real browser"


@pytest.fixture
def camera_phone(browser, tmp_path):
    """camera_phone(*pictures, allow=True, frames=...) -> a page of a phone whose camera shows
    the pictures in turn (each for `frames` frames at camera.FPS a second), on a loop.

    With allow=False the camera permission prompt is refused. The page's console errors, script
    errors and every URL it asks for are kept on it (`page.errors`, `page.requests`).
    """
    opened = []

    def open_phone(*pictures, allow=True, frames=FRAMES):
        video = write_y4m(tmp_path / f"camera-{len(opened)}.y4m", *pictures, frames=frames)
        args = [*CHROMIUM_ARGS, "--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={video}",
                "--use-fake-ui-for-media-stream" if allow else "--deny-permission-prompts"]
        chromium = browser.browser_type.launch(executable_path=CHROMIUM, args=args)
        opened.append(chromium)
        context = chromium.new_context(**PHONE)
        context.set_default_timeout(10_000)
        # Count the phone's buzzes: a read must be felt, not only seen.
        context.add_init_script("window.__buzzes = 0; navigator.vibrate = function () { window.__buzzes++; return true; };")
        page = context.new_page()
        page.errors, page.requests = [], []
        page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.on("request", lambda request: page.requests.append(request))
        return page

    yield open_phone
    for chromium in opened:
        chromium.close()


def scans_sent(page):
    """The bodies the page posted to /api/v1/scans, in order."""
    return [request.post_data_json for request in page.requests
            if request.method == "POST" and request.url.endswith("/api/v1/scans")]


def outcome(page):
    return page.locator("#scan-outcome")


def assert_the_polyfill_read_it(page):
    """Which reader ran: the native one where the browser has it, else the vendored polyfill."""
    native = page.evaluate("'BarcodeDetector' in window")
    expect(page.locator("#scanner")).to_have_attribute("data-reader", "native" if native else "polyfill")
    assert not native, "this Chromium has a native BarcodeDetector: the polyfill path went untested"


def followup_names(page, base):
    page.goto(base + "/followup")
    return page.locator("li.followup-entry .row-name").all_inner_texts()


def seed_pair(seed):
    _, code = seed.event()
    ada, ada_signin = seed.person(code, ADA["name"], headline=ADA["headline"], answers=[ADA["answer"]])
    bjorn, bjorn_signin = seed.person(code, "Björn Løvås", answers=["3D printing"])
    return ada, ada_signin, bjorn, bjorn_signin


@pytest.mark.browser
def test_a_badge_in_view_connects_at_once_and_the_other_person_has_the_connection(live_server, seed, camera_phone,
                                                                                  new_context):
    base = live_server.url
    ada, ada_signin, _, bjorn_signin = seed_pair(seed)
    phone = camera_phone(badge_picture(base, ada))
    sign_in_as(phone, base, bjorn_signin)
    phone.get_by_role("link", name="Scan badges").click()
    expect(phone).to_have_url(base + "/scan")

    # No tap: the badge in view is read and connected.
    expect(outcome(phone)).to_have_attribute("data-state", "connected")
    expect(outcome(phone)).to_have_text("✓ Connected")
    card = phone.locator("#scan-card")
    expect(card.locator("#result-name")).to_have_text(ADA["name"])
    expect(card).to_contain_text(ADA["headline"])
    expect(card.locator("dd")).to_have_text([ADA["answer"]])
    expect(phone.locator("#scanner-status")).to_contain_text("Ready for the next badge")
    assert phone.evaluate("window.__buzzes") == 1
    assert_the_polyfill_read_it(phone)
    # The reader's .wasm came from our static files; nothing was asked of any other host.
    urls = [request.url for request in phone.requests]
    assert any(re.search(r"/static/vendor/barcode-detector/zxing_reader\.[0-9a-f]{12}\.wasm$", url) for url in urls)
    assert {urlsplit(url).hostname for url in urls if url.startswith("http")} == {"127.0.0.1"}

    # The one-line box adds the words to this scan's connection.
    phone.get_by_label("What did you talk about?").fill(TALKED_ABOUT)
    phone.get_by_role("button", name="Add", exact=True).click()
    expect(outcome(phone)).to_have_attribute("data-state", "talked-about-added")
    assert phone.errors == [], phone.errors

    # The badge stays in view: it was read once, not again and again.
    phone.wait_for_timeout(1500)
    sent = scans_sent(phone)
    assert [scan.get("talked_about", "") for scan in sent] == ["", TALKED_ABOUT]
    assert sent[0]["client_id"] == sent[1]["client_id"] and sent[0]["badge"] == ada

    ada_phone = new_context(**PHONE).new_page()
    sign_in_as(ada_phone, base, ada_signin)
    assert followup_names(ada_phone, base) == ["Björn Løvås"]
    expect(ada_phone.locator("li.followup-entry .row-shared")).to_have_text(TALKED_ABOUT)
    assert followup_names(phone, base) == [ADA["name"]]


@pytest.mark.browser
def test_undo_takes_the_scan_back(live_server, seed, camera_phone, new_context):
    base = live_server.url
    ada, ada_signin, _, bjorn_signin = seed_pair(seed)
    phone = camera_phone(badge_picture(base, ada))
    sign_in_as(phone, base, bjorn_signin)
    phone.goto(base + "/scan")
    expect(outcome(phone)).to_have_attribute("data-state", "connected")

    phone.get_by_role("button", name="Undo").click()
    expect(outcome(phone)).to_have_attribute("data-state", "undone")
    expect(phone.get_by_role("button", name="Undo")).to_be_hidden()
    expect(phone.get_by_label("What did you talk about?")).to_be_hidden()
    # Still in view, the badge is not read again: Undo stays undone.
    phone.wait_for_timeout(1500)
    assert len(scans_sent(phone)) == 1
    assert phone.errors == [], phone.errors

    assert followup_names(phone, base) == []
    ada_phone = new_context(**PHONE).new_page()
    sign_in_as(ada_phone, base, ada_signin)
    assert followup_names(ada_phone, base) == []


@pytest.mark.browser
def test_two_badges_in_a_row_connect_each_once(live_server, seed, camera_phone):
    base = live_server.url
    _, code = seed.event()
    ada, _ = seed.person(code, "Ada Okafor")
    cy, _ = seed.person(code, "Cy Nakamura")
    _, bjorn_signin = seed.person(code, "Björn Løvås")
    # A second of Ada's badge, then a second of Cy's, again and again: the next badge in a row.
    phone = camera_phone(badge_picture(base, ada), badge_picture(base, cy), frames=FPS)
    sign_in_as(phone, base, bjorn_signin)
    phone.goto(base + "/scan")
    expect(phone.locator("#result-name")).to_have_text("Cy Nakamura", timeout=5000)
    phone.wait_for_timeout(2500)  # both badges come round again: neither is sent twice
    sent = scans_sent(phone)
    assert sorted(scan["badge"] for scan in sent) == sorted([ada, cy])
    assert len({scan["client_id"] for scan in sent}) == 2
    assert sorted(followup_names(phone, base)) == ["Ada Okafor", "Cy Nakamura"]
    assert phone.errors == [], phone.errors


@pytest.mark.browser
def test_a_qr_that_is_not_one_of_our_badges_says_so(live_server, seed, camera_phone):
    base = live_server.url
    _, code = seed.event()
    ada, _ = seed.person(code, "Ada Okafor")
    _, bjorn_signin = seed.person(code, "Björn Løvås")
    # A badge path on someone else's host is not ours either.
    phone = camera_phone(foreign_picture(f"HTTP://EVIL.EXAMPLE/B/{ada}"))
    sign_in_as(phone, base, bjorn_signin)
    phone.goto(base + "/scan")
    expect(outcome(phone)).to_have_attribute("data-code", "not_a_badge")
    expect(phone.get_by_role("alert").filter(has_text="isn't a kithmeet badge")).to_be_visible()
    assert scans_sent(phone) == []
    assert phone.errors == [], phone.errors


@pytest.mark.browser
def test_camera_refused_says_so_and_the_typed_code_connects(live_server, seed, camera_phone, new_context):
    base = live_server.url
    ada, ada_signin, _, bjorn_signin = seed_pair(seed)
    phone = camera_phone(badge_picture(base, ada), allow=False)
    sign_in_as(phone, base, bjorn_signin)
    phone.goto(base + "/scan")
    problem = phone.locator("#camera-problem")
    expect(problem).to_have_attribute("data-code", "camera_refused")
    expect(problem).to_be_visible()
    code_field = phone.get_by_label("Badge code", exact=True)
    expect(code_field).to_be_focused()

    code_field.fill("bad")
    phone.get_by_role("button", name="Connect").click()
    expect(phone.locator("#code-error")).to_have_attribute("data-code", "bad_code")
    expect(code_field).to_have_attribute("aria-invalid", "true")
    # A pasted link counts only if it is one of our badges: another site's /B/ path is no code.
    code_field.fill(f"https://evil.example/B/{ada}")
    phone.get_by_role("button", name="Connect").click()
    expect(phone.locator("#code-error")).to_have_attribute("data-code", "bad_code")

    # As printed under the QR, in lower case: grouped by spaces.
    code_field.fill(" ".join(re.findall(".{1,4}", ada.lower())))
    phone.get_by_role("button", name="Connect").click()
    expect(outcome(phone)).to_have_attribute("data-state", "connected")
    expect(phone.locator("#result-name")).to_have_text(ADA["name"])
    expect(phone.locator("#code-error")).to_have_count(0)
    assert phone.errors == [], phone.errors

    ada_phone = new_context(**PHONE).new_page()
    sign_in_as(ada_phone, base, ada_signin)
    assert followup_names(ada_phone, base) == ["Björn Løvås"]


@pytest.mark.browser
def test_a_refused_scan_shows_its_code(live_server, seed, camera_phone):
    base = live_server.url
    _, code = seed.event()
    _, bjorn_signin = seed.person(code, "Björn Løvås")
    phone = camera_phone(Image.new("RGB", (640, 480), "white"))  # an empty view
    sign_in_as(phone, base, bjorn_signin)
    phone.goto(base + "/scan")
    own = phone.evaluate("fetch('/api/v1/me').then(r => r.json())")["me"]["badge"]["token"]
    phone.get_by_label("Badge code", exact=True).fill(own)
    phone.get_by_role("button", name="Connect").click()
    expect(phone.locator("#code-error")).to_have_attribute("data-code", "self_scan")
    errors = [e for e in phone.errors if "status of 4" not in e]  # the API's own refusal status
    assert errors == [], errors


@pytest.mark.browser
def test_offline_a_scan_is_saved_with_its_code_and_connects_when_back_online(live_server, seed, new_context):
    base = live_server.url
    ada, ada_signin, _, bjorn_signin = seed_pair(seed)
    context = new_context(**PHONE)  # no camera here: the typed code makes the scans
    phone = context.new_page()
    sign_in_as(phone, base, bjorn_signin)
    phone.goto(base + "/scan")
    expect(phone.locator("#camera-problem")).to_be_visible()

    context.set_offline(True)
    phone.get_by_label("Badge code", exact=True).fill(ada)
    phone.get_by_role("button", name="Connect").click()
    expect(outcome(phone)).to_have_attribute("data-state", "queued")
    expect(outcome(phone)).to_have_text("Saved — will connect when you're back online")
    expect(phone.locator("#scan-queued")).to_contain_text(" ".join(re.findall(".{1,4}", ada)))
    expect(phone.locator("#scan-pending")).to_have_attribute("data-pending", "1")

    context.set_offline(False)  # the queue is sent when the network is back
    expect(phone.locator("#scan-pending")).to_have_attribute("data-pending", "0")
    ada_phone = new_context(**PHONE).new_page()
    sign_in_as(ada_phone, base, ada_signin)
    assert followup_names(ada_phone, base) == ["Björn Løvås"]


def _dropped(route):
    route.abort("internetdisconnected")


def _lost_a_race(route):
    # `conflict` asks for a retry (a scan-back landing as an Undo ends the connection).
    route.fulfill(status=409, content_type="application/json",
                  body=json.dumps({"error": {"code": "conflict", "message": "Try again."}}))


@pytest.mark.browser
@pytest.mark.parametrize("answer", [_dropped, _lost_a_race], ids=["dropped_on_the_way", "lost_a_race"])
def test_a_scan_the_server_did_not_take_is_saved_not_lost(live_server, seed, new_context, answer):
    base = live_server.url
    ada, _, _, bjorn_signin = seed_pair(seed)
    context = new_context(**PHONE)
    phone = context.new_page()
    sign_in_as(phone, base, bjorn_signin)
    phone.goto(base + "/scan")
    # The phone thinks it is online, but the venue's Wi-Fi drops every scan sent (the page's
    # and the queue's retries, from the page or its service worker), or the server asks for a retry.
    context.route("**/api/v1/scans", answer)
    phone.get_by_label("Badge code", exact=True).fill(ada)
    phone.get_by_role("button", name="Connect").click()
    expect(outcome(phone)).to_have_attribute("data-state", "queued")
    expect(phone.locator("#scan-pending")).to_have_attribute("data-pending", "1")
    assert phone.evaluate("kithmeetQueue.pending()") == 1

    context.unroute("**/api/v1/scans")
    phone.evaluate("kithmeetQueue.flush()")
    expect(phone.locator("#scan-pending")).to_have_attribute("data-pending", "0")
    assert followup_names(phone, base) == [ADA["name"]]


@pytest.mark.browser
def test_the_scanner_works_from_a_keyboard_alone(live_server, seed, new_context):
    base = live_server.url
    ada, _, _, bjorn_signin = seed_pair(seed)
    phone = new_context().new_page()  # no camera: focus starts in the typed code
    sign_in_as(phone, base, bjorn_signin)
    phone.goto(base + "/scan")
    expect(phone.get_by_label("Badge code", exact=True)).to_be_focused()
    phone.keyboard.type(ada)
    phone.keyboard.press("Enter")
    expect(outcome(phone)).to_have_attribute("data-state", "connected")
    expect(phone.locator("#scan-result")).to_be_focused()  # the card, read next

    phone.keyboard.press("Tab")
    expect(phone.get_by_label("What did you talk about?")).to_be_focused()
    phone.keyboard.type(TALKED_ABOUT)
    phone.keyboard.press("Enter")
    expect(outcome(phone)).to_have_attribute("data-state", "talked-about-added")
    phone.keyboard.press("Tab")  # Add
    phone.keyboard.press("Tab")
    expect(phone.get_by_role("button", name="Undo")).to_be_focused()
    phone.keyboard.press("Enter")
    expect(outcome(phone)).to_have_attribute("data-state", "undone")
    expect(phone.locator("#scan-result")).to_be_focused()  # not lost with the button that went


def _sign_out_every_other_device(page):
    """What a tap on "Sign out every other device" in another tab does to this page: the session
    gets a new id and a new CSRF token, and the token this page was drawn with no longer holds."""
    status = page.evaluate("""() => fetch('/badge').then(r => r.text()).then(html => {
        const token = new DOMParser().parseFromString(html, 'text/html')
            .querySelector('meta[name="csrf-token"]').content;
        return fetch('/badge/sign-out-everywhere', {method: 'POST', credentials: 'same-origin',
            headers: {'Content-Type': 'application/x-www-form-urlencoded'},
            body: 'csrf_token=' + encodeURIComponent(token)}).then(r => r.status);
    })""")
    assert status == 200  # followed to the badge page: still signed in here


@pytest.mark.browser
def test_a_scan_sent_with_a_token_older_than_the_session_is_sent_again_with_a_fresh_one(live_server, seed,
                                                                                         new_context):
    """The scanner was opened before a sign-in in another tab renewed the session: its token is
    refused, the page asks who is signed in, and sends the same scan once more with the fresh
    token. The scan connects, once."""
    base = live_server.url
    ada, ada_signin, _, bjorn_signin = seed_pair(seed)
    phone = new_context(**PHONE).new_page()
    sent = []
    phone.on("request", lambda request: request.method == "POST" and request.url.endswith("/api/v1/scans")
             and sent.append(request.post_data_json))
    sign_in_as(phone, base, bjorn_signin)
    phone.goto(base + "/scan")
    stale = phone.locator('meta[name="csrf-token"]').get_attribute("content")
    _sign_out_every_other_device(phone)

    phone.get_by_label("Badge code", exact=True).fill(ada)
    phone.get_by_role("button", name="Connect").click()
    expect(outcome(phone)).to_have_attribute("data-state", "connected")
    assert len(sent) == 2 and sent[0]["client_id"] == sent[1]["client_id"]  # refused once, then sent again
    assert phone.locator('meta[name="csrf-token"]').get_attribute("content") != stale
    phone.get_by_label("What did you talk about?").fill(TALKED_ABOUT)  # the renewed token holds for what follows
    phone.get_by_role("button", name="Add").click()
    expect(outcome(phone)).to_have_attribute("data-state", "talked-about-added")

    ada_phone = new_context(**PHONE).new_page()
    sign_in_as(ada_phone, base, ada_signin)
    assert followup_names(ada_phone, base) == ["Björn Løvås"]


@pytest.mark.browser
def test_a_scanner_left_open_is_not_sent_for_whoever_signed_in_since(live_server, seed, new_context):
    """Björn's scanner stays open while Ada signs in on the same phone: a scan typed into his
    page is refused (its token is his session's), and is not sent again as Ada's."""
    base = live_server.url
    ada, ada_signin, _, bjorn_signin = seed_pair(seed)
    _, code = seed.event()
    chen, _ = seed.person(code, "Chen Wei")
    context = new_context(**PHONE)
    phone = context.new_page()
    sent = []
    phone.on("request", lambda request: request.method == "POST" and request.url.endswith("/api/v1/scans")
             and sent.append(request.post_data_json))
    sign_in_as(phone, base, bjorn_signin)
    phone.goto(base + "/scan")
    sign_in_as(context.new_page(), base, ada_signin)  # another tab, same phone

    phone.get_by_label("Badge code", exact=True).fill(chen)
    phone.get_by_role("button", name="Connect").click()
    expect(phone.locator("#code-error")).to_have_attribute("data-code", "csrf")  # beside the typed code
    assert len(sent) == 1
    assert followup_names(phone, base) == []  # Ada's list: nobody scanned as her
