"""Phone-size screenshots of the badge, connect, follow-up list and connection pages, for the README.

Every run renders them (into tmp_path) and checks they are real, small images. Badge codes
and dates differ on every run, so the copies in docs/screenshots/ are only rewritten on
request, and a plain `make test` leaves the working tree clean:

    KITHMEET_UPDATE_SCREENSHOTS=1 .venv/bin/python -m pytest tests/browser/test_screenshots.py
"""
import os
import struct
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .support import PHONE, image_loaded, sign_in_as

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
MAX_BYTES = 300_000


def png_size(path):
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", header[16:24])


@pytest.fixture
def screenshot_dir(tmp_path):
    if os.environ.get("KITHMEET_UPDATE_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        return DOCS
    return tmp_path


@pytest.mark.browser
def test_readme_screenshots(live_server, seed, new_context, screenshot_dir):
    base = live_server.url
    _, code = seed.event(name="Thursday Gathering #12", venue="The Corner Café, upstairs")
    ada, ada_signin = seed.person(
        code, "Ada Okafor", pronouns="she/her", headline="Backend developer, Python and Postgres",
        answers=["Scaling Flask apps", "Code review, SQL tuning", "A Rust study buddy"],
        contacts={"email": "ada@example.org", "linkedin": "https://www.linkedin.com/in/ada-okafor"})
    met = [
        ("Chen Wei", "", "Product designer moving into research", "Usability testing on a budget",
         "wei@example.org", "Guerrilla usability tests at the library café", "Intro her to Dana"),
        ("أمينة الحسن", "", "مهندسة بيانات — data engineer", "Arabic NLP",
         "amina@example.org", "Tokenizing Arabic text; she wants Postgres tips", "Send the pg_trgm talk"),
        ("Eve Martins 🌱", "she/her", "Runs the local climate-tech meetup", "Carbon accounting",
         "eve@example.org", "Venues for a Rust night in January", "She may know a sponsor"),
    ]
    for name, pronouns, headline, answer, email, talked, note in met:
        token, _ = seed.person(code, name, pronouns=pronouns, headline=headline, answers=[answer],
                               contacts={"email": email})
        seed.connect(ada, token, talked_about=talked, private_note=note)
    bjorn, bjorn_signin = seed.person(
        code, "Björn Løvås", pronouns="he/him", headline="Hardware tinkerer and maker-space regular",
        answers=["3D-printing disasters"], contacts={"email": "bjorn@example.org"})

    phone = {**PHONE, "device_scale_factor": 2}
    shots = {}

    # Ada's badge, as she holds it up (reloaded so the "Signed in" notice is gone).
    page = new_context(**phone).new_page()
    sign_in_as(page, base, ada_signin)
    page.goto(base + "/badge")
    assert image_loaded(page.locator("img.badge-qr"))
    shots["badge"] = page

    # Björn has scanned Ada's badge and typed what they talked about, about to tap Connect.
    page = new_context(**phone).new_page()
    sign_in_as(page, base, bjorn_signin)
    page.goto(f"{base}/B/{ada}")
    page.get_by_label("What did you talk about?").fill("Her Rust study group; 3D-printed badge holders")
    page.get_by_label("Private note").fill("Bring the spare Pi to the next one")
    page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
    expect(page.get_by_role("button", name="Connect", exact=True)).to_be_visible()
    shots["connect"] = page

    # Ada's follow-up list the morning after.
    page = new_context(**phone).new_page()
    sign_in_as(page, base, seed.signin_path(ada))
    page.goto(base + "/followup")
    expect(page.locator("li.followup-entry")).to_have_count(len(met))
    shots["followup"] = page

    # The page of one of them, opened from that list.
    page = new_context(**phone).new_page()
    sign_in_as(page, base, seed.signin_path(ada))
    page.goto(base + "/followup")
    page.get_by_role("link", name="Chen Wei").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Chen Wei")
    shots["connection"] = page

    for name, page in shots.items():
        path = screenshot_dir / f"{name}.png"
        page.screenshot(path=path, full_page=False, animations="disabled", caret="hide")
        assert png_size(path) == (390 * 2, 844 * 2), f"{path} is not a phone-size screenshot"
        assert path.stat().st_size < MAX_BYTES, f"{path} is {path.stat().st_size} bytes; keep it small"
    assert new_context.errors == [], "\n".join(new_context.errors)
