"""Two people edit the shared "talked about" line of their connection at once, each on their
own phone: nobody's words are lost, and the one who saved second is shown both versions."""
import pytest
from playwright.sync_api import expect

from .support import PHONE, sign_in_as


@pytest.mark.browser
def test_a_conflicting_edit_keeps_both_peoples_words(live_server, seed, new_context):
    base = live_server.url
    _, code = seed.event()
    ada_token, ada_signin = seed.person(code, "Ada Okafor", answers=["Scaling Flask apps"])
    eve_token, eve_signin = seed.person(code, "Eve Martins", answers=["Carbon accounting"])
    seed.connect(ada_token, eve_token, talked_about="Venues")

    ada, eve = new_context(**PHONE).new_page(), new_context(**PHONE).new_page()
    for page, signin, other in ((ada, ada_signin, "Eve Martins"), (eve, eve_signin, "Ada Okafor")):
        sign_in_as(page, base, signin)
        page.goto(base + "/followup")  # both open their connection's page from the list at once
        page.get_by_role("link", name=other).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(other)
    connection_page = ada.url

    eve.get_by_label("Talked about").fill("Venues\nSponsors for the spring series")
    eve.get_by_role("button", name="Save").click()
    expect(eve.get_by_role("status")).to_contain_text("Saved.")
    saved = eve.get_by_role("status")
    assert saved.evaluate("node => { const r = node.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }"), \
        "the confirmation is not in view"

    # Ada, on the page she opened before Eve saved, writes her own version.
    ada.get_by_label("Talked about").fill("Venues: the library has a free room")
    ada.get_by_label("Private note").fill("Ask Eve about the climate meetup")
    ada.get_by_label("Status").select_option("followed_up")
    ada.get_by_role("button", name="Save").click()

    entry = ada.locator(".connection-page")
    assert ada.url.split("#")[0] == connection_page
    conflict = entry.locator('[data-code="edit_conflict"]')
    for _ in range(2):  # and again after a reload: nothing she typed is lost
        expect(conflict).to_be_visible()
        expect(entry.get_by_label("Talked about")).to_have_value("Venues: the library has a free room")
        expect(entry.locator(".their-words")).to_contain_text("Sponsors for the spring series")
        expect(entry.get_by_label("Private note")).to_have_value("Ask Eve about the climate meetup")
        expect(entry.get_by_label("Status")).to_have_value("followed_up")
        assert conflict.is_visible() and conflict.evaluate(
            "node => { const r = node.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }"), \
            "the conflict message is not in view"
        ada.reload()

    # She combines both and saves: now her version stands, and Eve sees it.
    entry.get_by_label("Talked about").fill("Venues: the library has a free room\nSponsors for the spring series")
    ada.get_by_role("button", name="Save").click()
    expect(ada.get_by_role("status")).to_contain_text("Saved.")
    expect(ada.locator('[data-code="edit_conflict"]')).to_have_count(0)
    eve.reload()
    expect(eve.get_by_label("Talked about")).to_have_value(
        "Venues: the library has a free room\nSponsors for the spring series")
    assert "climate meetup" not in eve.content(), "Ada's private note reached Eve"
    assert new_context.errors == [], "\n".join(new_context.errors)
