"""axe-core audits (WCAG 2.0/2.1 A and AA, plus best practices) of the pages people use, on a
320 px wide screen: the width at which WCAG 2.1's reflow criterion (1.4.10) asks content to
need no sideways scrolling."""
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .support import AXE, NARROW, ORGANIZER_EMAIL, ORGANIZER_PASSWORD, sign_in_as, sign_in_organizer

AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}}


@pytest.fixture
def audit_page(new_context):
    # bypass_csp: add_script_tag() injects axe as an inline <script>, which the app's strict
    # CSP (script-src 'self') rightly blocks. Only this audit context bypasses it; the
    # other browser tests run under the real policy and fail on any CSP violation.
    return new_context(**NARROW, bypass_csp=True).new_page()


def audit(page):
    """Run axe on the page as it is now; fail listing every violation and where it is."""
    page.add_script_tag(path=AXE)
    results = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
    problems = [
        f"{v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(
            f"{' '.join(map(str, node['target']))}: {_first_fix(node['failureSummary'])}"
            for node in v["nodes"])
        for v in results["violations"]]
    assert results["violations"] == [], f"axe violations on {page.url}:\n" + "\n".join(problems)
    assert results["passes"], "axe checked nothing: is the page empty?"


def _first_fix(summary):
    """axe's failureSummary is "Fix any of the following:" and the fixes, one a line."""
    lines = [line.strip() for line in (summary or "").splitlines() if line.strip()]
    return lines[1] if len(lines) > 1 else " ".join(lines)


def assert_no_sideways_scroll(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"{page.url} scrolls sideways at 320 px: content is {width} px wide"


# Each visit brings the audit page to one screen, signed in as whoever sees it.

LOOPBACK_NOTICE = '[data-state="loopback-warning"]'  # join links on 127.0.0.1: phones can't open them


def home_visitor(page, base, seed):
    seed.event()  # with an organizer, a visitor sees the front page rather than setup
    page.goto(base + "/")


def home_attendee(page, base, seed):
    _, code = seed.event()
    _, signin = seed.person(code, "Ada Okafor", answers=["Scaling Flask apps"])
    sign_in_as(page, base, signin)
    page.goto(base + "/")


def organizer_setup(page, base, seed):
    page.goto(base + "/organizer/setup")


def organizer_event(page, base, seed):
    public_id, code = seed.event()
    seed.person(code, "Ada Okafor")
    sign_in_organizer(page, base)
    page.goto(f"{base}/organizer/events/{public_id}")
    expect(page.locator(LOOPBACK_NOTICE)).to_be_visible()  # the live server is on 127.0.0.1


def organizer_edit_event(page, base, seed):
    public_id, _ = seed.event()
    sign_in_organizer(page, base)
    page.goto(f"{base}/organizer/events/{public_id}")
    page.get_by_role("link", name="Edit event").click()
    page.get_by_label("Event name").fill("")
    page.get_by_role("button", name="Save changes").click()  # with the error beside the field
    expect(page.locator("#name-error")).to_have_count(1)


def organizer_close_event(page, base, seed):
    public_id, _ = seed.event()
    sign_in_organizer(page, base)
    page.goto(f"{base}/organizer/events/{public_id}")
    page.get_by_role("link", name="Close event").click()
    expect(page.get_by_role("button", name="Yes, close it: attendees can no longer connect here")).to_have_count(1)


def organizer_delete_draft(page, base, seed):
    public_id, _ = seed.event(status="draft")
    sign_in_organizer(page, base)
    page.goto(f"{base}/organizer/events/{public_id}")
    page.get_by_text("Delete this draft", exact=True).click()
    page.get_by_role("button", name="Delete draft").click()  # the box unticked: its error shows
    expect(page.locator("#confirm-error")).to_have_count(1)


def organizer_login(page, base, seed):
    seed.event()
    page.goto(base + "/organizer/login")


def organizer_dashboard(page, base, seed):
    seed.event()
    sign_in_organizer(page, base)
    expect(page.locator(LOOPBACK_NOTICE)).to_be_visible()


def organizer_poster(page, base, seed):
    public_id, _ = seed.event()
    sign_in_organizer(page, base)
    page.goto(f"{base}/organizer/events/{public_id}/poster")
    expect(page.locator(LOOPBACK_NOTICE)).to_be_visible()
    page.emulate_media(media="print")  # the printed poster: its link, never the notice
    expect(page.locator(LOOPBACK_NOTICE)).to_be_hidden()
    expect(page.locator(".poster-link")).to_be_visible()
    page.emulate_media(media="screen")


def _small_png():
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGBA", (120, 60), (13, 107, 99, 255)).save(out, format="PNG")
    return out.getvalue()


def organizer_branding(page, base, seed):
    public_id, _ = seed.event()
    sign_in_organizer(page, base)
    page.goto(f"{base}/organizer/events/{public_id}")
    page.get_by_role("link", name="Branding").click()
    page.get_by_label("Accent colour").fill("#ffcc00")  # near-black text on it
    page.get_by_label("Logo").set_input_files({"name": "logo.png", "mimeType": "image/png", "buffer": _small_png()})
    page.get_by_role("button", name="Save branding").click()
    page.wait_for_url(f"{base}/organizer/events/{public_id}")
    page.get_by_role("link", name="Branding").click()
    page.get_by_label("Accent colour").fill("#808080")
    page.get_by_role("button", name="Save branding").click()  # refused: its error beside the field
    expect(page.locator("#accent_color-error")).to_have_attribute("data-code", "low_contrast")


def join_branded_with_code(page, base, seed):
    """The join page of an event with a logo, a dark accent and a code to type, after a wrong code."""
    public_id, code = seed.event()
    sign_in_organizer(page, base)
    page.goto(f"{base}/organizer/events/{public_id}/branding")
    page.get_by_label("Accent colour").fill("#5b2a86")  # white text on it
    page.get_by_label("Logo").set_input_files({"name": "logo.png", "mimeType": "image/png", "buffer": _small_png()})
    page.get_by_role("button", name="Save branding").click()
    page.goto(f"{base}/organizer/events/{public_id}/edit")
    page.get_by_label("A code announced at the venue").check()
    page.get_by_label("Code announced at the venue", exact=True).fill("PIZZA-42")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".entry-code")).to_have_text("PIZZA-42")
    page.goto(f"{base}/J/{code}")
    page.get_by_label("Code for tonight").fill("PIZZA-41")
    page.get_by_label("Your name").fill("Ada Okafor")
    page.get_by_role("button", name="Get my badge").click()
    expect(page.locator("#entry_code-error")).to_have_attribute("data-code", "bad_entry_code")
    expect(page.get_by_label("Your name")).to_have_value("Ada Okafor")


def organizer_badge_sheets(page, base, seed):
    public_id, code = seed.event()
    seed.person(code, "Ada Okafor")
    sign_in_organizer(page, base)
    page.goto(f"{base}/organizer/events/{public_id}")
    page.get_by_role("link", name="Print badges").click()
    expect(page.get_by_label("Badge stock").first).to_be_visible()


def organizer_new_event(page, base, seed):
    seed.event()
    sign_in_organizer(page, base)
    page.goto(base + "/organizer/events/new")


def join(page, base, seed):
    _, code = seed.event()
    page.goto(f"{base}/J/{code}")


def badge(page, base, seed):
    _, code = seed.event()
    _, signin = seed.person(code, "أمينة الحسن", headline="مهندسة بيانات — data engineer",
                            answers=["Arabic NLP", "Data pipelines"])
    sign_in_as(page, base, signin)


def badge_news(page, base, seed):
    # The own badge page once someone connected with its owner: static/js/news.js's notice shows.
    _, code = seed.event()
    ada, signin = seed.person(code, "Ada Okafor", answers=["Scaling Flask apps"])
    bjorn, _ = seed.person(code, "Björn Løvås")
    sign_in_as(page, base, signin)
    seed.connect(bjorn, ada)
    expect(page.locator('[data-state="news-notice"]')).to_be_visible(timeout=5000)


def scan(page, base, seed):
    _, code = seed.event()
    ada, _ = seed.person(code, "Ada Okafor", headline="Backend developer", answers=["Scaling Flask apps"],
                         contacts={"email": "ada@example.org"})
    _, signin = seed.person(code, "Björn Løvås", answers=["3D printing"])
    sign_in_as(page, base, signin)
    page.goto(f"{base}/B/{ada}")
    expect(page.get_by_role("button", name="Connect", exact=True)).to_be_visible()


def scanner(page, base, seed):
    """The in-page scanner after a typed code connected (this browser has no camera: the page
    says so), with the card, the talked-about box and Undo on screen."""
    _, code = seed.event()
    ada, _ = seed.person(code, "Ada Okafor", headline="Backend developer", answers=["Scaling Flask apps"])
    _, signin = seed.person(code, "Björn Løvås", answers=["3D printing"])
    sign_in_as(page, base, signin)
    page.goto(f"{base}/scan")
    expect(page.locator("#camera-problem")).to_be_visible()
    page.get_by_label("Badge code", exact=True).fill(ada)
    page.get_by_role("button", name="Connect").click()
    expect(page.locator("#scan-outcome")).to_have_attribute("data-state", "connected")


def signin_switching(page, base, seed):
    """Someone else's sign-in link opened while signed in: who you are, and who you would become."""
    _, code = seed.event()
    _, ada_signin = seed.person(code, "Ada Okafor", answers=["Scaling Flask apps"])
    _, signin = seed.person(code, "Björn Løvås", answers=["3D printing"])
    sign_in_as(page, base, signin)
    page.goto(base + ada_signin)
    expect(page.locator('[data-state="switching"]')).to_be_visible()


def scan_connected(page, base, seed):
    _, code = seed.event()
    ada, _ = seed.person(code, "Ada Okafor", answers=["Scaling Flask apps"], contacts={"email": "ada@example.org"})
    bjorn, signin = seed.person(code, "Björn Løvås", answers=["3D printing"])
    seed.connect(bjorn, ada, talked_about="Repair cafés", private_note="Lend her the soldering iron")
    sign_in_as(page, base, signin)
    page.goto(f"{base}/B/{ada}")
    expect(page.locator(".connected-banner")).to_be_visible()


def scan_memory(page, base, seed):
    """Björn meets Ada again at Week 2: the scan page remembers Week 1 above the connect form."""
    _, week1 = seed.event(name="Week 1")
    ada, _ = seed.person(week1, "Ada Okafor", answers=["Scaling Flask apps"])
    bjorn, signin = seed.person(week1, "Björn Løvås", answers=["3D printing"])
    seed.connect(bjorn, ada, talked_about="Her rescue greyhound, Pixel")
    _, week2 = seed.event(name="Week 2")
    sign_in_as(page, base, signin)
    page.goto(f"{base}/J/{week2}")
    page.get_by_role("button", name="Check in as Björn Løvås").click()
    page.wait_for_url(base + "/badge")
    page.goto(f"{base}/B/{ada}")
    expect(page.locator(".memory li")).to_have_count(1)
    expect(page.get_by_role("button", name="Add to our notes")).to_be_visible()


def public_card(page, base, seed):
    _, code = seed.event()
    ada, _ = seed.person(code, "Ada Okafor", answers=["Scaling Flask apps"])
    page.goto(f"{base}/B/{ada}")


def followup(page, base, seed):
    _, code = seed.event()
    ada, signin = seed.person(code, "Ada Okafor", answers=["Scaling Flask apps"],
                              contacts={"email": "ada@example.org", "website": "https://ada.example.org"})
    chen, _ = seed.person(code, "Chen Wei", headline="Product designer", answers=["Usability testing"],
                          contacts={"email": "wei@example.org", "phone": "+44 20 7946 0958"},
                          shared={"email": True, "phone": False})
    seed.connect(ada, chen, talked_about="Usability testing on a budget", private_note="Intro to Dana")
    sign_in_as(page, base, signin)
    page.goto(base + "/followup?q=budget&status=to_follow_up&sort=untouched")  # the filters open, applied
    expect(page.locator("li.followup-entry")).to_have_count(1)
    expect(page.get_by_label("Search")).to_have_value("budget")


def followup_connection(page, base, seed):
    """Chen's page in Ada's list: card, shared contacts, the encounter, her note and the form."""
    _, code = seed.event()
    ada, signin = seed.person(code, "Ada Okafor", answers=["Scaling Flask apps"])
    chen, _ = seed.person(code, "Chen Wei", pronouns="he/him", headline="Product designer",
                          answers=["Usability testing"], contacts={"email": "wei@example.org"})
    seed.connect(ada, chen, talked_about="Usability testing on a budget", private_note="Intro to Dana")
    sign_in_as(page, base, signin)
    page.goto(base + "/followup")
    page.get_by_role("link", name="Chen Wei").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Chen Wei")
    page.get_by_label("Status").select_option("followed_up")
    page.get_by_role("button", name="Save").click()  # the confirmation beside the form
    expect(page.get_by_role("status")).to_contain_text("Saved.")


def reconnect_today(page, base, seed):
    """Ada's picks: Chen shared an e-mail (not the phone), Björn nothing; a link draft's error open."""
    _, code = seed.event()
    ada, signin = seed.person(code, "Ada Okafor", answers=["Scaling Flask apps"])
    chen, _ = seed.person(code, "Chen Wei", answers=["Usability testing"],
                          contacts={"email": "wei@example.org", "phone": "+44 20 7946 0958"},
                          shared={"email": True, "phone": False})
    bjorn, _ = seed.person(code, "Björn Løvås", answers=["3D printing"])
    seed.connect(ada, chen, talked_about="Usability testing on a budget")
    seed.connect(ada, bjorn)
    sign_in_as(page, base, signin)
    page.goto(base + "/followup")
    page.get_by_role("link", name="Reconnect today").click()
    page.wait_for_url(base + "/followup/reconnect")
    expect(page.locator("li.reconnect-pick")).to_have_count(2)
    page.locator("summary", has_text="Send them a link").first.click()


def reconnect_draft(page, base, seed):
    """A "send them a link" draft made, ready to copy or send by e-mail."""
    reconnect_today(page, base, seed)
    pick = page.locator("li.reconnect-pick").first
    pick.get_by_label("Link").fill("example.org/a-budget-usability-kit")
    pick.get_by_role("button", name="Make the draft").click()
    expect(page.locator("#draft-text")).to_be_visible()


def followup_conflict(page, base, seed):
    """Ada saves "talked about" after Chen changed it: both texts shown, hers kept in the field."""
    _, code = seed.event()
    ada, signin = seed.person(code, "Ada Okafor", answers=["Scaling Flask apps"])
    chen, _ = seed.person(code, "Chen Wei", answers=["Usability testing"])
    seed.connect(ada, chen, talked_about="Usability testing")
    sign_in_as(page, base, signin)
    page.goto(base + "/followup")
    page.get_by_role("link", name="Chen Wei").click()
    seed.edit_talked_about(chen, ada, "Usability testing on a budget")
    page.get_by_label("Talked about").fill("Testing with five users")
    page.get_by_role("button", name="Save").click()
    expect(page.locator('[data-code="edit_conflict"]')).to_be_visible()


def followup_connection_refused(page, base, seed):
    """A refused save (snoozed with no date): the error summary at the top of the form."""
    followup_connection(page, base, seed)
    page.get_by_label("Status").select_option("snoozed")
    page.get_by_role("button", name="Save").click()
    expect(page.locator('[data-state="error-summary"] a[data-code]')).to_have_count(1)


def own_badge(page, base, seed):
    _, code = seed.event()
    ada, signin = seed.person(code, "Ada Okafor", answers=["Scaling Flask apps"])
    sign_in_as(page, base, signin)
    page.goto(f"{base}/B/{ada}")


def account(page, base, seed):
    _, code = seed.event()
    _, signin = seed.person(code, "Ada Okafor", answers=["Scaling Flask apps"])
    sign_in_as(page, base, signin)
    page.get_by_role("link", name="My account and data").click()
    page.wait_for_url(base + "/account")


def account_delete(page, base, seed):
    """With the error a wrong confirmation word shows."""
    _, code = seed.event()
    _, signin = seed.person(code, "Ada Okafor", answers=["Scaling Flask apps"])
    sign_in_as(page, base, signin)
    page.goto(base + "/account/delete")
    page.get_by_label("Type DELETE to confirm").fill("delete it")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.locator('[data-code="confirm_delete"]')).to_be_visible()


def edit_profile(page, base, seed):
    """Reached from the badge page, with the error an emptied name shows and the preview below."""
    _, code = seed.event()
    _, signin = seed.person(code, "أمينة الحسن", headline="مهندسة بيانات — data engineer",
                            answers=["Arabic NLP"], contacts={"email": "amina@example.org", "phone": "+44 20 7946 0958"},
                            shared={"email": True, "phone": False})
    sign_in_as(page, base, signin)
    page.get_by_role("link", name="Edit profile").click()
    page.wait_for_url(base + "/profile")
    page.get_by_label("Your name").fill("")
    page.get_by_role("button", name="Save profile").click()
    expect(page.locator('#name-error[data-code="required"]')).to_be_visible()
    expect(page.locator('[data-state="preview-after"] .contacts li')).to_have_count(1)


def mail_choices(page, base, seed):
    """The e-mail switches, from the account page, for an address not yet confirmed."""
    _, code = seed.event()
    _, signin = seed.person(code, "Ada Okafor", contacts={"email": "ada@example.org"})
    sign_in_as(page, base, signin)
    page.goto(base + "/account")
    page.get_by_role("link", name="Choose your e-mails").click()
    page.wait_for_url(base + "/followup/emails")
    expect(page.locator('[data-state="unconfirmed"]')).to_be_visible()
    expect(page.get_by_role("button", name="E-mail me a link to confirm it")).to_be_visible()


def signin_by_email(page, base, seed):
    """"I've been here before", with the error an empty address shows."""
    seed.event()
    page.goto(base + "/signin/email")
    page.get_by_role("button", name="E-mail me a sign-in link").click()
    expect(page.locator('#email-error[data-code="required"]')).to_be_visible()


def signin_by_email_sent(page, base, seed):
    """The answer, the same for every address."""
    seed.event()
    page.goto(base + "/signin/email")
    page.get_by_label("Your email address").fill("nobody@example.org")
    page.get_by_role("button", name="E-mail me a sign-in link").click()
    expect(page.locator('[data-state="sent"]')).to_be_visible()


def signin_by_email_released(page, base, seed):
    """After "this isn't my profile" on an e-mailed link's page: the address is free."""
    seed.event()
    page.goto(base + "/signin/email?released=1")
    expect(page.locator('[data-state="released"]')).to_be_visible()


def join_email_known(page, base, seed):
    """Joining with an address that already has a profile: the offer of a sign-in link beside it."""
    _, code = seed.event()
    seed.person(code, "Ada Okafor", contacts={"email": "ada@example.org"})
    page.goto(f"{base}/J/{code}")
    page.get_by_label("Your name").fill("Ada Okafor")
    page.get_by_label("Email", exact=True).fill("ada@example.org")
    page.get_by_role("button", name="Get my badge").click()
    expect(page.locator('#email-error[data-code="email_known"]')).to_be_visible()
    expect(page.locator('[data-state="email-known"]').get_by_role("button")).to_be_visible()


def organizer_series_settings(page, base, seed):
    """With the error an out-of-range retention shows."""
    seed.event()
    sign_in_organizer(page, base)
    page.get_by_role("link", name="Settings for Thursday Gathering").click()
    page.get_by_label("Keep attendee data for (months)").fill("0")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator('[data-code="bad_retention"]')).to_be_visible()


def organizer_series_page(page, base, seed):
    """A series' page, reached from the dashboard, with its events and links."""
    seed.event()
    sign_in_organizer(page, base)
    page.locator("#series-heading ~ ul").get_by_role("link", name="Thursday Gathering", exact=True).click()
    expect(page.get_by_role("link", name="Next event in Thursday Gathering")).to_be_visible()


def organizer_next_event(page, base, seed):
    """The next event's form, with the error an empty date shows beside the field."""
    public_id, _ = seed.event()
    sign_in_organizer(page, base)
    page.goto(f"{base}/organizer/events/{public_id}")
    page.get_by_role("link", name="Next event in this series").click()
    page.get_by_label("Date and time").fill("")
    page.get_by_role("button", name="Make the draft").click()
    expect(page.locator("#starts_at-error")).to_have_count(1)


def organizer_account(page, base, seed):
    seed.event()
    sign_in_organizer(page, base)
    page.goto(base + "/organizer/account")


def organizer_change_password(page, base, seed):
    """With the errors a mistyped form shows."""
    seed.event()
    sign_in_organizer(page, base)
    page.goto(base + "/organizer/account/password")
    page.get_by_label("Current password").fill("not my password")
    page.get_by_label("New password", exact=True).fill("a brand new password")
    page.get_by_label("New password again").fill("a different password")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator('[data-code="password_mismatch"]')).to_be_visible()


def _turn_on_two_factor(page, base):
    """From the account page, as an organizer does; leaves the page showing the recovery codes."""
    import pyotp

    page.goto(base + "/organizer/account")
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    secret = page.locator(".totp-secret").inner_text().replace(" ", "")
    page.get_by_label("Password", exact=True).fill(ORGANIZER_PASSWORD)
    page.get_by_label("Code", exact=True).fill(pyotp.TOTP(secret).at(time.time() - 30))  # leaves now's code for signing in
    page.get_by_role("button", name="Turn on").click()
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    return secret


def organizer_two_factor_setup(page, base, seed):
    seed.event()
    sign_in_organizer(page, base)
    page.goto(base + "/organizer/account")
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.locator("svg.totp-qr")).to_be_visible()


def organizer_recovery_codes(page, base, seed):
    seed.event()
    sign_in_organizer(page, base)
    _turn_on_two_factor(page, base)


def organizer_login_code(page, base, seed):
    seed.event()
    sign_in_organizer(page, base)
    _turn_on_two_factor(page, base)
    page.goto(base + "/organizer/")
    page.get_by_role("button", name="Sign out").click()
    page.goto(base + "/organizer/login")
    page.get_by_label("Email").fill(ORGANIZER_EMAIL)
    page.get_by_label("Password").fill(ORGANIZER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + "/organizer/login/code")


def organizer_two_factor_off(page, base, seed):
    seed.event()
    sign_in_organizer(page, base)
    _turn_on_two_factor(page, base)
    page.goto(base + "/organizer/account/two-factor/off")


def organizer_activity(page, base, seed):
    seed.event()
    sign_in_organizer(page, base)
    page.goto(base + "/organizer/activity")
    expect(page.locator(".activity li")).to_have_count(4)


# Consent over a connection (connections/consent.py, reports/).

def _join_asking_first(page, base, code, name):
    """Join through the form with "Ask me first" ticked; returns the new badge token."""
    page.goto(f"{base}/J/{code}")
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Email", exact=True).fill("ada@example.org")
    page.get_by_role("switch", name="Ask me first").check()
    page.get_by_role("button", name="Get my badge").click()
    page.wait_for_url(base + "/badge")
    return page.locator("img.badge-qr").get_attribute("src")[len("/badge/"):-len(".svg")]


def connections_review(page, base, seed):
    """Bo scanned Ada, who shares only once she confirms: the banner leads to the review page."""
    _, code = seed.event()
    ada = _join_asking_first(page, base, code, "Ada Okafor")
    bo, _ = seed.person(code, "Björn Løvås", headline="Maker", answers=["3D printing"],
                        contacts={"email": "bjorn@example.org"})
    seed.connect(bo, ada, talked_about="Repair cafés")
    page.goto(base + "/badge")
    page.locator(".consent-banner a").click()
    page.wait_for_url(base + "/connections/review")
    expect(page.get_by_role("button", name="Confirm and share my contacts")).to_be_visible()


def followup_states(page, base, seed):
    """Ada's list: Björn waits for her to confirm sharing; Chen removed their connection."""
    _, code = seed.event()
    ada = _join_asking_first(page, base, code, "Ada Okafor")
    bjorn, _ = seed.person(code, "Björn Løvås", answers=["3D printing"])
    chen, chen_signin = seed.person(code, "Chen Wei", answers=["Usability testing"])
    seed.connect(bjorn, ada, talked_about="Repair cafés")
    seed.connect(chen, ada, talked_about="Usability testing")
    sign_in_as(page, base, chen_signin)
    page.goto(base + "/followup")
    page.get_by_role("link", name="Ada Okafor").click()
    page.locator("summary", has_text="Remove, block or report").click()
    page.get_by_role("button", name="Remove Ada Okafor").click()
    sign_in_as(page, base, seed.signin_path(ada))
    page.goto(base + "/followup")
    expect(page.locator('[data-state="no-longer-connected"]')).to_have_count(1)
    page.get_by_role("link", name="Chen Wei").click()
    page.locator("summary", has_text="Remove, block or report").first.click()


def open_report_form(page, base, seed):
    """Ada, connected with Björn, on the form that reports him."""
    _, code = seed.event()
    ada, signin = seed.person(code, "Ada Okafor", answers=["Scaling Flask apps"])
    bo, _ = seed.person(code, "Björn Løvås", answers=["3D printing"])
    seed.connect(ada, bo)
    sign_in_as(page, base, signin)
    page.goto(f"{base}/B/{bo}")
    page.get_by_role("link", name="Report Björn Løvås").click()


def report_form(page, base, seed):
    """With the error a report without a reason shows."""
    open_report_form(page, base, seed)
    page.get_by_label("Details").fill("Kept asking for my address.")
    page.get_by_role("button", name="Send report").click()
    expect(page.locator('[data-code="bad_reason"]')).to_be_visible()


def organizer_reports(page, base, seed):
    """A report, as the series' organizer reads it."""
    open_report_form(page, base, seed)
    page.get_by_label("What happened?").select_option("harassment")
    page.get_by_label("Details").fill("Kept asking for my address.")
    page.get_by_role("button", name="Send report").click()
    sign_in_organizer(page, base)
    page.get_by_role("link", name="Reports for Thursday Gathering").click()
    expect(page.locator('li.report[data-state="open"]')).to_have_count(1)


def unsubscribe(page, base, seed):
    """The one-click unsubscribe page a digest links to (no sign-in). Any key shows the same
    page, so a made-up one does; the audit is of its answer after the tap, too."""
    seed.event()
    page.goto(f"{base}/unsubscribe/some-key-from-an-email?list=digest")
    audit(page)
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.locator('[data-state="unsubscribed"]')).to_have_count(1)


GUEST_LIST = Path(__file__).parent.parent / "data" / "eventbrite_attendees.csv"


def guests_upload(page, base, seed):
    """The upload page, with the error an empty file shows."""
    public_id, _ = seed.event()
    sign_in_organizer(page, base)
    page.goto(f"{base}/organizer/events/{public_id}")
    page.get_by_role("link", name="Import a guest list").click()
    page.get_by_label("Guest list (CSV or TSV)").set_input_files(
        files=[{"name": "empty.csv", "mimeType": "text/csv", "buffer": b""}])
    page.get_by_role("button", name="Upload and check the columns").click()
    expect(page.locator('#file-error[data-code="empty_file"]')).to_be_visible()


def guests_mapping(page, base, seed):
    """The mapping page with its preview, after an Eventbrite export is uploaded."""
    public_id, _ = seed.event()
    sign_in_organizer(page, base)
    page.goto(f"{base}/organizer/events/{public_id}")
    page.get_by_role("link", name="Import a guest list").click()
    page.get_by_label("Guest list (CSV or TSV)").set_input_files(GUEST_LIST)
    page.get_by_role("button", name="Upload and check the columns").click()
    expect(page.locator('[data-platform="Eventbrite"]')).to_be_visible()


def guests_report(page, base, seed):
    """The per-row report after the import."""
    guests_mapping(page, base, seed)
    page.get_by_role("button", name="Import 4 rows").click()
    expect(page.locator('[data-count="added"]')).to_have_text("3")


def public_card_unclaimed(page, base, seed):
    """An imported guest's badge, scanned by someone not signed in: "Is this you?"."""
    public_id, _ = seed.event()
    token = seed.guest(public_id, "Ada Okafor", "ada@example.org")
    page.goto(f"{base}/B/{token}")
    expect(page.locator('[data-state="unclaimed"]')).to_be_visible()


def _night(seed):
    """An open event where three people joined and connected in a ring; returns its public id."""
    public_id, code = seed.event()
    tokens = [seed.person(code, name, headline="Data engineer")[0] for name in ("Ada Okafor", "Bo Lind", "Cy Ndiaye")]
    for scanner, target in zip(tokens, tokens[1:] + tokens[:1]):
        seed.connect(scanner, target)
    return public_id


def organizer_live(page, base, seed):
    """The live dashboard, reached from the event page, with the chart's table open."""
    public_id = _night(seed)
    sign_in_organizer(page, base)
    page.goto(f"{base}/organizer/events/{public_id}")
    page.get_by_role("link", name="Live dashboard").click()
    expect(page.locator('[data-live="connections"]')).to_have_text("3")
    page.get_by_text("The chart as a table").click()
    expect(page.locator(".live-web circle")).to_have_count(0)  # three people: under one batch of the web


def organizer_live_projector(page, base, seed):
    public_id = _night(seed)
    sign_in_organizer(page, base)
    page.goto(f"{base}/organizer/events/{public_id}/live")
    page.get_by_role("link", name="Projector view").click()
    expect(page.locator(".projector-big")).to_contain_text("3 connections made tonight")


def organizer_attendees(page, base, seed):
    """The attendee list, reached from the event page, after a search."""
    public_id = _night(seed)
    sign_in_organizer(page, base)
    page.goto(f"{base}/organizer/events/{public_id}")
    page.get_by_role("link", name="Attendees").click()
    page.get_by_label("Search by name or headline").fill("engineer")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".attendee")).to_have_count(3)


def organizer_attendee_hide(page, base, seed):
    """Hiding someone: the confirmation page, with the error an unticked box shows."""
    public_id = _night(seed)
    sign_in_organizer(page, base)
    page.goto(f"{base}/organizer/events/{public_id}/attendees")
    page.get_by_role("link", name="Hide from this event: Bo Lind").click()
    page.get_by_role("button", name="Hide from this event").click()
    expect(page.locator('#confirm-error[data-code="confirm_required"]')).to_be_visible()


def _invite_link(page, base, role="Door volunteer"):
    """Sign in as the owner and make an invite link on the members page; returns the link."""
    sign_in_organizer(page, base)
    page.get_by_role("link", name="Members of Thursday Gathering").click()
    page.get_by_label("Invite as").select_option(label=role)
    page.get_by_role("button", name="Make an invite link").click()
    return page.get_by_label("Invite link").input_value()


def organizer_members(page, base, seed):
    """Who helps run a series, with a new invite link shown once and the invite waiting."""
    seed.event()
    _invite_link(page, base)
    expect(page.locator('[data-state="invite-made"]')).to_be_visible()
    expect(page.locator("[data-invite]")).to_have_count(1)


def organizer_leave_series(page, base, seed):
    """Leaving a series: the confirmation page."""
    seed.event()
    sign_in_organizer(page, base)
    page.get_by_role("link", name="Leave Thursday Gathering").click()
    expect(page.get_by_role("button", name="Leave the series")).to_be_visible()


def organizer_invite(page, base, seed):
    """An invite link opened by someone without an account: series, role, and the account form."""
    seed.event()
    link = _invite_link(page, base)
    page.goto(base + "/organizer/")
    page.get_by_role("button", name="Sign out").click()
    page.goto(link)
    expect(page.get_by_label("Choose a password")).to_be_visible()


# The door kiosk (organizer/kiosk_views.py), on a tablet turned narrow.

def _kiosk(page, base, seed, guests=()):
    public_id, _ = seed.event()
    for name, email in guests:
        seed.guest(public_id, name, email)
    sign_in_organizer(page, base)
    page.goto(f"{base}/organizer/events/{public_id}")
    page.get_by_role("button", name="Turn this browser into the door kiosk").click()
    page.wait_for_url(base + "/kiosk")


def kiosk_start(page, base, seed):
    _kiosk(page, base, seed)


def kiosk_search(page, base, seed):
    """Two guests whose names both match: the list to tap."""
    _kiosk(page, base, seed, guests=[("Sam Lee", "sam1@example.org"), ("Sam Leeds", "sam2@example.org")])
    page.get_by_role("link", name="I registered").click()
    page.get_by_label("Your name").fill("sam")
    expect(page.locator('[data-state="kiosk-matches"] li')).to_have_count(2)


def kiosk_new(page, base, seed):
    """With the errors an empty name and a mistyped address show."""
    _kiosk(page, base, seed)
    page.get_by_role("link", name="I'm new here").click()
    page.get_by_label("Email (optional)").fill("not an address")
    page.get_by_role("button", name="Check me in").click()
    expect(page.locator("#name-error")).to_have_count(1)


def kiosk_handoff(page, base, seed):
    _kiosk(page, base, seed, guests=[("Ada Okafor", "ada@example.org")])
    page.get_by_role("link", name="I registered").click()
    page.get_by_label("Your name").fill("ada")
    page.get_by_role("button", name="Ada Okafor").click()
    page.wait_for_url(base + "/kiosk/welcome")


def _leave_kiosk(page, password=ORGANIZER_PASSWORD):
    page.get_by_role("link", name="Staff").click()
    page.get_by_label("Organizer password").fill(password)
    page.get_by_role("button", name="Close the kiosk").click()


def kiosk_leave(page, base, seed):
    """With the error a wrong password shows."""
    _kiosk(page, base, seed)
    _leave_kiosk(page, "not the password")
    expect(page.locator('[data-code="bad_password"]')).to_be_visible()


def kiosk_signin(page, base, seed):
    """The hand-off QR's link, opened (after the kiosk is closed): whose it is, and Continue."""
    from .test_kiosk import qr_link

    kiosk_handoff(page, base, seed)
    link = qr_link(page)
    page.goto(base + "/kiosk")
    _leave_kiosk(page)
    page.goto(link)
    expect(page.get_by_role("button", name="Continue as Ada Okafor")).to_be_visible()


def api_tokens(page, base, seed):
    """Reached from the account page: a token just made (its secret shown once), listed below."""
    account(page, base, seed)
    page.get_by_role("link", name="Manage API tokens").click()
    page.get_by_label("Token name").fill("My CRM, synced every night")
    page.get_by_role("button", name="Make a token").click()
    expect(page.locator('[data-state="token-made"]')).to_be_visible()


def offline_page(page, base, seed):
    """What the service worker shows for a page this phone has no copy of, with no network."""
    seed.event()
    page.goto(base + "/offline")
    expect(page.get_by_role("button", name="Try again")).to_be_visible()


def home_refused_scans(page, base, seed):
    """The home page listing saved scans the server refused when they were sent (offline.js)."""
    _, code = seed.event()
    _, signin = seed.person(code, "Ada Okafor", answers=["Scaling Flask apps"])
    sign_in_as(page, base, signin)
    page.goto(base + "/")
    page.evaluate("""() => window.kithmeetQueue.pending().then(() => new Promise((resolve, reject) => {
        const owner = document.querySelector('meta[name="kithmeet-owner"]').content;
        const open = indexedDB.open("kithmeet-queue");
        open.onsuccess = () => {
            const tx = open.result.transaction("refused", "readwrite");
            tx.objectStore("refused").put({client_id: "c1", owner, badge: "ZZZZZZZZZZZ", code: "unknown_badge",
                message: "We don't recognise that badge code.", scanned_at: "2026-11-26T19:40:00Z"});
            tx.oncomplete = () => { open.result.close(); resolve(); };
            tx.onerror = () => reject(tx.error);
        };
    }))""")
    page.reload()
    expect(page.locator("[data-queue-refused]")).to_be_visible()


PAGES = [home_visitor, home_attendee, organizer_setup, organizer_login, organizer_dashboard, organizer_event,
         organizer_new_event, organizer_edit_event, organizer_branding, join_branded_with_code, organizer_close_event, organizer_delete_draft, organizer_poster, join, badge, badge_news, scan, scanner, signin_switching, scan_connected, scan_memory, public_card, own_badge, followup,
         reconnect_today, reconnect_draft,
         followup_connection, followup_conflict, organizer_account, organizer_change_password, organizer_two_factor_setup,
         organizer_recovery_codes, organizer_login_code, organizer_two_factor_off, organizer_activity,
         signin_by_email, signin_by_email_sent, signin_by_email_released, join_email_known, account, account_delete, edit_profile, organizer_series_settings, organizer_series_page, organizer_next_event, connections_review, followup_states, report_form,
         organizer_reports, unsubscribe, mail_choices,
         guests_upload, guests_mapping, guests_report, public_card_unclaimed, organizer_badge_sheets,
         organizer_live, organizer_live_projector, organizer_attendees, organizer_attendee_hide,
         organizer_members, organizer_leave_series, organizer_invite,
         kiosk_start, kiosk_search, kiosk_new, kiosk_handoff, kiosk_leave, kiosk_signin,
         api_tokens, offline_page, home_refused_scans]


@pytest.mark.browser
@pytest.mark.parametrize("visit", PAGES, ids=[visit.__name__ for visit in PAGES])
def test_page_is_accessible_at_320px(visit, live_server, seed, audit_page, new_context):
    visit(audit_page, live_server.url, seed)
    assert audit_page.evaluate("document.readyState") == "complete"
    audit(audit_page)
    assert_no_sideways_scroll(audit_page)
    assert new_context.errors == [], "\n".join(new_context.errors)


@pytest.mark.browser
def test_password_reset_page_is_accessible_at_320px(live_server, seed, audit_page, new_context):
    # Not in PAGES: the link comes from the CLI, so the visit needs the app itself.
    from kithmeet.organizer import passwords, services

    seed.event()
    with live_server.app.app_context():
        secret = passwords.issue_reset_secret(services.organizer_by_email(ORGANIZER_EMAIL))
    audit_page.goto(f"{live_server.url}/organizer/reset/{secret}")
    audit_page.get_by_label("New password", exact=True).fill("short")
    audit_page.get_by_label("New password again").fill("short")
    audit_page.get_by_role("button", name="Set new password").click()
    expect(audit_page.locator('[data-code="weak_password"]')).to_be_visible()
    audit(audit_page)
    assert_no_sideways_scroll(audit_page)
    assert new_context.errors == [], "\n".join(new_context.errors)


@pytest.mark.browser
def test_refused_followup_save_is_accessible_at_320px(live_server, seed, audit_page, new_context):
    # Not in PAGES: the refusal answers 400, which the console reports.
    followup_connection_refused(audit_page, live_server.url, seed)
    audit(audit_page)
    assert_no_sideways_scroll(audit_page)
    errors = [e for e in new_context.errors if "status of 400" not in e]
    assert errors == [], "\n".join(errors)


@pytest.mark.browser
def test_closed_events_join_page_is_accessible_at_320px(live_server, seed, audit_page, new_context):
    # Not in PAGES: closing the event needs the app itself. The poster scanned after the night.
    from kithmeet.events import services as events
    from kithmeet.organizer import services

    public_id, code = seed.event()
    with live_server.app.app_context():
        events.set_status(services.organizer_by_email(ORGANIZER_EMAIL), public_id, "closed")
    audit_page.goto(f"{live_server.url}/J/{code}")
    expect(audit_page.locator('[data-code="event_closed"]')).to_have_count(1)
    audit(audit_page)
    assert_no_sideways_scroll(audit_page)
    errors = [e for e in new_context.errors if "status of 400" not in e]  # the page's own status
    assert errors == [], "\n".join(errors)


@pytest.mark.browser
def test_email_link_page_is_accessible_at_320px(live_server, seed, audit_page, new_context):
    # Not in PAGES: the link comes by e-mail, so the visit needs the app to read it.
    from ..pages import email_link_token

    _, code = seed.event()
    _, bjorn_signin = seed.person(code, "Björn Løvås", answers=["3D printing"])
    seed.person(code, "Ada Okafor", contacts={"email": "ada@example.org"})
    with live_server.app.app_context():
        token = email_link_token(live_server.app, "ada@example.org")
    sign_in_as(audit_page, live_server.url, bjorn_signin)
    audit_page.goto(f"{live_server.url}/signin/email/{token}")
    expect(audit_page.locator('[data-state="switching"]')).to_be_visible()
    # Her address was typed, never confirmed: the page also offers to free it.
    expect(audit_page.get_by_role("button", name="This isn't my profile — free my address")).to_be_visible()
    audit(audit_page)
    assert_no_sideways_scroll(audit_page)
    assert new_context.errors == [], "\n".join(new_context.errors)


@pytest.mark.browser
def test_join_form_error_is_accessible_and_keeps_what_was_typed(live_server, seed, audit_page, new_context):
    _, code = seed.event()
    audit_page.goto(f"{live_server.url}/J/{code}")
    audit_page.get_by_label("Headline").fill("Backend dev learning Rust")
    audit_page.get_by_role("button", name="Get my badge").click()

    name = audit_page.get_by_label("Your name")
    expect(name).to_have_attribute("aria-invalid", "true")
    error = audit_page.locator("#name-error")
    expect(error).to_have_attribute("data-code", "required")
    expect(error).to_be_visible()
    assert "name-error" in name.get_attribute("aria-describedby").split()
    expect(audit_page.get_by_label("Headline")).to_have_value("Backend dev learning Rust")
    audit(audit_page)
    assert_no_sideways_scroll(audit_page)
    assert new_context.errors == [], "\n".join(new_context.errors)
