"""axe-core audits (WCAG 2.0/2.1 A and AA, plus best practices) of the pages people use, on a
320 px wide screen: the width at which WCAG 2.1's reflow criterion (1.4.10) asks content to
need no sideways scrolling."""
import pytest
from playwright.sync_api import expect

from .support import AXE, NARROW, sign_in_as, sign_in_organizer

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


def organizer_login(page, base, seed):
    seed.event()
    page.goto(base + "/organizer/login")


def organizer_dashboard(page, base, seed):
    seed.event()
    sign_in_organizer(page, base)


def organizer_poster(page, base, seed):
    public_id, _ = seed.event()
    sign_in_organizer(page, base)
    page.goto(f"{base}/organizer/events/{public_id}/poster")


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


def scan(page, base, seed):
    _, code = seed.event()
    ada, _ = seed.person(code, "Ada Okafor", headline="Backend developer", answers=["Scaling Flask apps"],
                         contacts={"email": "ada@example.org"})
    _, signin = seed.person(code, "Björn Løvås", answers=["3D printing"])
    sign_in_as(page, base, signin)
    page.goto(f"{base}/B/{ada}")
    expect(page.get_by_role("button", name="Connect", exact=True)).to_be_visible()


def scan_connected(page, base, seed):
    _, code = seed.event()
    ada, _ = seed.person(code, "Ada Okafor", answers=["Scaling Flask apps"], contacts={"email": "ada@example.org"})
    bjorn, signin = seed.person(code, "Björn Løvås", answers=["3D printing"])
    seed.connect(bjorn, ada, talked_about="Repair cafés", private_note="Lend her the soldering iron")
    sign_in_as(page, base, signin)
    page.goto(f"{base}/B/{ada}")
    expect(page.locator(".connected-banner")).to_be_visible()


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
    page.goto(base + "/followup")
    expect(page.locator("li.followup-entry")).to_have_count(1)


def followup_conflict(page, base, seed):
    """Ada saves "talked about" after Chen changed it: both texts shown, hers kept in the field."""
    _, code = seed.event()
    ada, signin = seed.person(code, "Ada Okafor", answers=["Scaling Flask apps"])
    chen, _ = seed.person(code, "Chen Wei", answers=["Usability testing"])
    seed.connect(ada, chen, talked_about="Usability testing")
    sign_in_as(page, base, signin)
    page.goto(base + "/followup")
    seed.edit_talked_about(chen, ada, "Usability testing on a budget")
    page.get_by_label("Talked about").fill("Testing with five users")
    page.get_by_role("button", name="Save").click()
    expect(page.locator('[data-code="edit_conflict"]')).to_be_visible()


def own_badge(page, base, seed):
    _, code = seed.event()
    ada, signin = seed.person(code, "Ada Okafor", answers=["Scaling Flask apps"])
    sign_in_as(page, base, signin)
    page.goto(f"{base}/B/{ada}")


PAGES = [home_visitor, home_attendee, organizer_setup, organizer_login, organizer_dashboard, organizer_event,
         organizer_new_event, organizer_poster, join, badge, scan, scan_connected, public_card, own_badge, followup,
         followup_conflict]


@pytest.mark.browser
@pytest.mark.parametrize("visit", PAGES, ids=[visit.__name__ for visit in PAGES])
def test_page_is_accessible_at_320px(visit, live_server, seed, audit_page, new_context):
    visit(audit_page, live_server.url, seed)
    assert audit_page.evaluate("document.readyState") == "complete"
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
