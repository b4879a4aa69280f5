"""The screenshots of the README's organizer walkthrough, and of the scanner, offline use and
"connected with you" on attendees' phones: `make screenshots`.

Seeds a throwaway app (its own SQLite file and instance folder in a temporary directory, never
instance/), serves it on 127.0.0.1 and photographs it with Playwright in Debian's Chromium:
organizer pages at a laptop's width, attendee pages at a phone's. Each PNG is written to
docs/images/ as a palette image under MAX_BYTES (Pillow), so the repository stays small.

Badge codes, QRs and dates differ on every run, so the images change each time: run it when a
page the walkthrough shows has changed, and commit the images that did.
"""
import io
import logging
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import zxingcpp  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from kithmeet import create_app, database  # noqa: E402
from kithmeet.connections import services as connections  # noqa: E402
from kithmeet.events import branding, members  # noqa: E402
from kithmeet.events import series as series_settings  # noqa: E402
from kithmeet.events import services as events  # noqa: E402
from kithmeet.extensions import db  # noqa: E402
from kithmeet.guests import services as guests  # noqa: E402
from kithmeet.organizer import services as organizers  # noqa: E402
from kithmeet.people import services as people  # noqa: E402
from kithmeet.people.profile import Profile  # noqa: E402

IMAGES = ROOT / "docs" / "images"
MAX_BYTES = 150_000
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# en-GB: the date and time inputs show 24-hour clocks, as the pages do.
LAPTOP = {"viewport": {"width": 1280, "height": 800}, "locale": "en-GB"}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2, "locale": "en-GB"}
# Links and QRs point at an example host, as on a real site; the browser still talks to 127.0.0.1.
PUBLIC_URL = "https://meet.example.org"
OWNER, PASSWORD = "rosa@example.org", "correct horse battery staple"
SERIES = "Kreuzberg Thursdays"
ZONE = "Europe/Berlin"

GUEST_LIST = """name,email,Job Title,Company
Grace Hopper,grace@example.org,Compiler person,Navy Labs
Hedy Lamarr,hedy@example.org,Inventor,Frequency Hopping GmbH
Katherine Johnson,katherine@example.org,Mathematician,
Alan Turing,alan@example.org,,Bletchley Park
Tu Youyou,youyou@example.org,Pharmacologist,
Ida Not-an-address,not-an-address,,
Grace Hopper,GRACE@example.org,Compiler person,Navy Labs
"""
ATTENDEES = [
    ("Ada Okafor", "she/her", "Backend developer, Python and Postgres", "Scaling Flask apps"),
    ("Chen Wei", "", "Product designer moving into research", "Usability testing on a budget"),
    ("أمينة الحسن", "", "مهندسة بيانات — data engineer", "Arabic NLP"),
    ("Eve Martins", "she/her", "Runs the local climate-tech meetup", "Carbon accounting"),
    ("Björn Løvås", "he/him", "Hardware tinkerer", "3D-printing disasters"),
    ("Priya Raman", "she/her", "Data journalist", "Open data in local politics"),
]


def logo_png():
    """A small stand-in logo: a coloured disc with the series' initials."""
    image = Image.new("RGBA", (160, 160), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((4, 4, 156, 156), fill="#5b2a86")
    draw.text((80, 80), "KT", fill="white", anchor="mm", font_size=64)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def seed(app):
    """Last week's event (closed) and tonight's (open), with members, guests, branding and people."""
    with app.app_context():
        db.create_all()
        owner = organizers.create_organizer(OWNER, PASSWORD)
        week_ago = datetime.now().replace(hour=19, minute=0, second=0, microsecond=0) - timedelta(days=7)
        last = events.create_event(owner, name=f"{SERIES} #11", starts_at=week_ago, venue="Café Kotti, upstairs",
                                   series_name=SERIES, time_zone=ZONE)
        events.set_status(owner, last.public_id, "open")
        tonight = events.create_event(owner, name=f"{SERIES} #12", starts_at=week_ago + timedelta(days=7),
                                      venue="Café Kotti, upstairs", series_name=SERIES, time_zone=ZONE,
                                      description="Drinks, demos and people to meet. Badges at the door.",
                                      capacity=60)
        series_id = tonight.series.public_id
        _, token = members.invite(owner, series_id, role="organizer", email="sam@example.org")
        members.accept_with_new_account(token, "sam@example.org", PASSWORD)
        members.invite(owner, series_id, role="door", email="jo@example.org")
        series_settings.update_settings(owner, series_id, retention_months=12, code_of_conduct_url="", time_zone=ZONE,
                                        label_printer=True)  # the kiosk offers "Print my badge"
        branding.update_branding(owner, tonight.public_id, accent_color="#5b2a86", logo=logo_png())

        pending = guests.upload(owner, series_id, "luma-export.csv", GUEST_LIST.encode())
        guests.run_import(owner, pending.public_id, {"name": 0, "email": 1, "job_title": 2, "company": 3})
        waiting = guests.upload(owner, series_id, "eventbrite-attendees.csv",
                                (ROOT / "tests" / "data" / "eventbrite_attendees.csv").read_bytes(),
                                event_public_id=tonight.public_id)

        last_event = events.event_by_join_code(last.join_code)
        tokens = []
        for name, pronouns, headline, answer in ATTENDEES:
            first = name.split()[0].lower()
            profile = Profile(name=name, pronouns=pronouns, headline=headline,
                              contacts={"email": f"{first}@example.net"}, shared={"email": True},
                              answers=((last_event.prompt_labels[0], answer),))
            person = people.join_event(last_event, profile)
            tokens.append(person.badge_token)
        for a, b in [(0, 1), (0, 3), (1, 2), (3, 4), (4, 5)]:
            connections.connect(people.person_by_badge(tokens[a]), tokens[b], talked_about="Where to meet next")
        events.set_status(owner, last.public_id, "closed")

        events.set_status(owner, tonight.public_id, "open")
        tonight = events.event_by_join_code(tonight.join_code)
        for token in tokens[:5]:  # the regulars come back: one tap on the join page
            with database.transaction():
                events.check_in(people.person_by_badge(token).id, tonight)
        for a, b in [(0, 4), (1, 3)]:
            connections.connect(people.person_by_badge(tokens[a]), tokens[b], talked_about="The kiosk")
        return {"event": tonight.public_id, "series": series_id, "join": tonight.join_code,
                "pending": waiting.public_id, "badges": tokens,
                "signin": {i: f"/signin/{people.issue_signin_secret(people.person_by_badge(tokens[i]))}"
                           for i in (0, 1)}}  # Ada's phone and Chen's


def save(page, name, *, full_page=False):
    """Screenshot, then a 256-colour palette image, halved in size until it is under MAX_BYTES."""
    image = Image.open(io.BytesIO(page.screenshot(full_page=full_page, animations="disabled", caret="hide")))
    image = image.convert("RGB")
    while True:
        out = io.BytesIO()
        image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
            out, format="PNG", optimize=True)
        if out.tell() < MAX_BYTES:
            break
        image = image.resize((image.width * 3 // 4, image.height * 3 // 4), Image.Resampling.LANCZOS)
    (IMAGES / f"{name}.png").write_bytes(out.getvalue())
    print(f"docs/images/{name}.png  {image.width}×{image.height}  {out.tell() // 1024} KB")


def sign_in(page, base):
    page.goto(base + "/organizer/login")
    page.get_by_label("Email").fill(OWNER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + "/organizer/")


def sheet_png(pdf, name):
    """Page one of a badge PDF, as poppler renders it for print preview."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "sheet.pdf"
        source.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", "60", "-png", "-singlefile", str(source), str(Path(folder) / "page")],
                       check=True)
        image = Image.open(Path(folder) / "page.png").convert("RGB")
    out = io.BytesIO()
    image.quantize(colors=128, dither=Image.Dither.NONE).save(out, format="PNG", optimize=True)
    (IMAGES / f"{name}.png").write_bytes(out.getvalue())
    print(f"docs/images/{name}.png  {image.width}×{image.height}  {out.tell() // 1024} KB")


def shoot(base, ids, browser, app):
    event = f"{base}/organizer/events/{ids['event']}"
    laptop = browser.new_context(**LAPTOP)
    laptop.set_default_timeout(10_000)
    page = laptop.new_page()
    sign_in(page, base)

    page.goto(base + "/organizer/events/new")
    page.get_by_label("Series", exact=True).fill("Kreuzberg Thursdays")
    page.get_by_label("Event name", exact=True).fill("Kreuzberg Thursdays: the winter special")
    page.get_by_label("Date and time", exact=True).fill("2026-12-17T19:00")
    page.get_by_label("Venue", exact=True).fill("Café Kotti, upstairs")
    page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
    save(page, "event-form")
    page.goto(f"{base}/organizer/series/{ids['series']}/members")
    save(page, "members", full_page=True)
    page.goto(f"{base}/organizer/guest-imports/{ids['pending']}")
    expect(page.locator("table.guest-preview")).to_be_visible()
    save(page, "guest-mapping")
    page.locator('button[name="confirm"]').click()
    expect(page.locator('[data-count="added"]')).to_be_visible()
    save(page, "guest-report")
    page.goto(f"{event}/branding")
    save(page, "branding")
    page.goto(event)
    save(page, "event")
    page.goto(f"{event}/badges")
    save(page, "print-badges")
    sheet = page.request.get(f"{event}/badges.pdf?stock=avery-l4785&who=guests")
    assert sheet.ok, sheet.status
    sheet_png(sheet.body(), "badge-sheet")
    page.goto(f"{event}/attendees")
    save(page, "attendees")
    page.goto(f"{event}/live")
    expect(page.locator(".live-web circle").first).to_be_visible()
    save(page, "live", full_page=True)
    # The projector: a screen of its own, at a projector's resolution.
    wall = browser.new_context(**{**LAPTOP, "viewport": {"width": 1920, "height": 1080}}).new_page()
    sign_in(wall, base)
    wall.goto(f"{event}/live/projector")
    save(wall, "projector")
    page.goto(f"{event}/close")
    save(page, "close")

    # The kiosk on a tablet at the door, after Grace found her name.
    tablet = browser.new_context(**{**LAPTOP, "viewport": {"width": 1024, "height": 768}}, has_touch=True).new_page()
    sign_in(tablet, base)
    tablet.goto(event)
    tablet.get_by_role("button", name="Turn this browser into the door kiosk").click()
    tablet.wait_for_url(base + "/kiosk")
    save(tablet, "kiosk")
    tablet.get_by_role("link", name="I registered").click()
    tablet.get_by_label("Your name").fill("hop")
    tablet.get_by_role("button", name="Grace Hopper").click()
    tablet.wait_for_url(base + "/kiosk/welcome")
    save(tablet, "kiosk-welcome")

    # The attendee's side, on a phone: the join page, and Grace's badge once her phone read the
    # kiosk's QR (it encodes the public URL; the phone here reaches the same app on 127.0.0.1).
    phone = browser.new_context(**PHONE).new_page()
    phone.goto(f"{base}/J/{ids['join']}")
    save(phone, "join")
    qr = Image.open(io.BytesIO(tablet.locator("img.kiosk-qr").screenshot())).convert("L")
    [code] = zxingcpp.read_barcodes(qr, formats=zxingcpp.BarcodeFormat.QRCode)
    grace = browser.new_context(**PHONE).new_page()
    grace.goto(code.text.replace(PUBLIC_URL, base, 1))
    grace.get_by_role("button", name="Continue as Grace Hopper").click()
    grace.wait_for_url(base + "/badge")
    grace.goto(base + "/badge")  # without the "signed in" notice
    save(grace, "badge")

    attendee_phones(base, ids, browser, app)


def sign_in_phone(browser, base, path):
    """An attendee's phone, signed in by their personal link, its service worker in control."""
    context = browser.new_context(**PHONE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(base + path)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(base + "/badge")
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    if not page.evaluate("() => navigator.serviceWorker.controller !== null"):
        page.reload()  # loaded before the worker was active: it only controls the next load
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", polling=100)
    return context, page


def kept(page, path):
    """Wait until the service worker keeps its copy of `path` (an offline visit needs it). Polled
    here: wait_for_function would take the promise itself for a true answer."""
    deadline = time.monotonic() + 10
    while not page.evaluate("""path => caches.keys().then(names => Promise.all(names
            .filter(name => name.startsWith("kithmeet-pages-"))
            .map(name => caches.open(name).then(cache => cache.match(path)))))
            .then(found => found.some(Boolean))""", path):
        assert time.monotonic() < deadline, f"the service worker kept no copy of {path}"
        time.sleep(0.1)


def attendee_phones(base, ids, browser, app):
    """Tonight on two phones: Ada scans Amina by the typed code, then keeps going offline; Chen
    sees Björn connect while his badge page is open."""
    _, chen_badge, amina, _, bjorn, priya = ids["badges"]
    context, ada = sign_in_phone(browser, base, ids["signin"][0])
    ada.goto(base + "/scan")
    expect(ada.locator("#scanner")).to_have_attribute("data-ready", "1")
    ada.get_by_label("Badge code", exact=True).fill(amina)
    ada.get_by_role("button", name="Connect").click()
    expect(ada.locator("#scan-outcome")).to_have_attribute("data-state", "connected")
    ada.get_by_label("What did you talk about?").fill("Tokenizing Arabic text")
    ada.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
    save(ada, "scanner", full_page=True)  # no camera here: its card says so, above the result

    # The list as last seen online; then the Wi-Fi goes, and one more badge is scanned.
    ada.goto(base + "/followup")
    expect(ada.locator("li.followup-entry").first).to_be_visible()
    kept(ada, "/followup")
    kept(ada, "/scan")
    context.set_offline(True)
    ada.goto(base + "/scan")
    ada.get_by_label("Badge code", exact=True).fill(priya)
    ada.get_by_role("button", name="Connect").click()
    expect(ada.locator("#scan-outcome")).to_have_attribute("data-state", "queued")
    ada.goto(base + "/followup")
    expect(ada.locator('[data-state="offline-copy"]')).to_be_visible()
    expect(ada.locator("[data-queue-status]")).to_have_text("1 scan waiting to sync")
    save(ada, "offline")
    context.close()  # before the network is back: the saved scan stays unsent

    # Chen's badge page is open (and has asked once) when Björn connects with him.
    _, chen = sign_in_phone(browser, base, ids["signin"][1])
    with chen.expect_response(lambda response: response.url.endswith("/api/v1/news")):
        chen.goto(base + "/badge")
    with app.app_context():
        connections.connect(people.person_by_badge(bjorn), chen_badge)
    expect(chen.locator('[data-state="news-notice"]')).to_have_text(
        "Björn Løvås connected with you — add what you talked about", timeout=10_000)
    save(chen, "connected-with-you")


def main():
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per image, not per request
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(folder) / 'screenshots.sqlite3'}",
            "RATELIMIT_ENABLED": False, "SECRET_KEY": "screenshots-only", "PUBLIC_URL": PUBLIC_URL,
            "SESSION_COOKIE_SECURE": False,  # served over plain HTTP on 127.0.0.1
            "CHANGELOG_LEVEL": "WARNING",
            "LIVE_WEB_BATCH": 5,  # the seed checks in five; the web waits for ten by default
        }, instance_path=str(Path(folder) / "instance"))
        ids = seed(app)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    shoot(f"http://127.0.0.1:{server.server_port}", ids, browser, app)
                finally:
                    browser.close()
        finally:
            server.shutdown()
            with app.app_context():
                db.engine.dispose()


if __name__ == "__main__":
    main()
