"""Constants and page helpers shared by the browser tests (fixtures live in conftest.py)."""
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
# What Debian's Chromium needs on these machines (see ARCHITECTURE.md, "QR, measured facts").
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
NARROW = {"viewport": {"width": 320, "height": 640}}
ORGANIZER_EMAIL = "organizer@example.org"
ORGANIZER_PASSWORD = "correct horse battery staple"
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"


def sign_in_as(page, base_url, signin_path):
    """Use a personal sign-in link the way a person does: open it, tap Continue."""
    page.goto(base_url + signin_path)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(base_url + "/badge")


def sign_in_organizer(page, base_url, email=ORGANIZER_EMAIL, password=ORGANIZER_PASSWORD):
    page.goto(base_url + "/organizer/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base_url + "/organizer/")


def image_loaded(locator):
    """True when the <img> finished loading real pixels (a broken image has naturalWidth 0)."""
    locator.wait_for()
    return locator.evaluate("img => img.decode().then(() => img.naturalWidth > 0, () => false)")


def scan_path_of_badge(page):
    """Read the scan URL off a badge page the way a camera would get it: from the QR's token.

    The QR image is /badge/<TOKEN>.svg and encodes HTTP://HOST/B/<TOKEN>.
    """
    src = page.locator("img.badge-qr").get_attribute("src")
    assert src.startswith("/badge/") and src.endswith(".svg"), src
    return "/B/" + src[len("/badge/"):-len(".svg")]
