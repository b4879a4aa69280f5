"""The follow-up list shows how each connection stands: connected, no longer connected (the
other person removed it), waiting for this person to confirm sharing, or the other person's
account deleted, and none of them ever breaks the page."""
import re

import pytest
from sqlalchemy import select

from kithmeet.connections import consent
from kithmeet.connections import services as connections
from kithmeet.connections.models import Connection, ConnectionSide, Encounter
from kithmeet.extensions import db

from ..pages import error_codes
from ..postgres import BOTH_DATABASES


@pytest.fixture
def met(make_event, make_person):
    """Ada scanned Bo at "Thursday Gathering", both with notes; both share an email."""
    event = make_event()
    ada = make_person("Ada", event=event, contacts={"email": "ada@example.org"})
    bo = make_person("Bo Brave", event=event, contacts={"email": "bo@example.org"})
    connection, _ = connections.connect(ada, bo.badge_token, talked_about="Rust", private_note="Ada's own note")
    connections.connect(bo, ada.badge_token, private_note="Bo's own note")
    return ada, bo, connection


def entry(html, public_id):
    """(data-state, the markup) of a connection's page."""
    match = re.search(rf'<div class="connection-page" id="c-{public_id}" data-state="([^"]+)"[^>]*>(.*)</main>',
                      html, re.DOTALL)
    return match.group(1), match.group(2)


def row_state(html, public_id):
    return re.search(rf'<li class="followup-entry" id="c-{public_id}" data-state="([^"]+)"', html).group(1)


def delete_account_of(person, connection, *, sides=True):
    """What account deletion leaves behind (another part builds it): the connection with a NULL."""
    column = "person_a_id" if connection.person_a_id == person.id else "person_b_id"
    db.session.execute(db.update(Connection).where(Connection.id == connection.id).values({column: None}))
    if sides:
        db.session.execute(db.delete(ConnectionSide).where(ConnectionSide.person_id == person.id))
    db.session.commit()


@BOTH_DATABASES
@pytest.mark.parametrize("sides", [True, False], ids=["side deleted", "only the column NULL"])
def test_an_entry_whose_person_deleted_their_account(met, signed_in, sides):
    ada, bo, connection = met
    client = signed_in(ada)
    delete_account_of(bo, connection, sides=sides)
    pid = connection.public_id
    listing = client.get("/followup").get_data(as_text=True)
    assert row_state(listing, pid) == "account-deleted" and "Someone you met (account deleted)" in listing
    assert "Bo Brave" not in listing
    response = client.get(f"/followup/{pid}")
    assert response.status_code == 200
    state, body = entry(response.get_data(as_text=True), pid)
    assert state == "account-deleted"
    text = re.sub(r"<[^>]+>", "", body)
    assert re.search(r"Someone you met at Thursday Gathering on \d\d \w{3} \d{4} \(account deleted\)", text)
    assert "Ada&#39;s own note" in body and "Bo Brave" not in body and "bo@example.org" not in body
    assert "/remove" not in body and "/block" not in body and "/report/" not in body
    # Her note still saves, without the shared line's field on the page, and the line is left alone.
    saved = client.submit(f"/followup/{pid}", page=f"/followup/{pid}", prefix=pid, data={
        f"{pid}-private_note": "Ada's own note, edited", f"{pid}-private_note_seen": "Ada's own note",
        f"{pid}-status": "followed_up"})
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(Encounter.talked_about)) == "Rust"
    after = client.get(f"/followup/{pid}").get_data(as_text=True)
    assert "Ada&#39;s own note, edited" in after and "Saved." in after  # not taken for a conflicting edit
    # No other page breaks on it either.
    for path in ("/connections/review", f"/report/{pid}", "/badge", "/", "/followup?q=note&sort=untouched"):
        assert client.get(path).status_code in (200, 400), path
    report = client.get(f"/report/{pid}")
    assert report.status_code == 400 and error_codes(report.get_data(as_text=True)) == ["account_deleted"]


def test_an_unseen_entry_whose_person_deleted_their_account_can_be_dismissed(make_event, make_person, signed_in):
    event = make_event()
    ada, bo = make_person("Ada", event=event), make_person("Bo", event=event)
    connection, _ = connections.connect(bo, ada.badge_token, talked_about="hello")
    delete_account_of(bo, connection)
    client = signed_in(ada)
    review = client.get("/connections/review").get_data(as_text=True)
    assert 'data-state="account-deleted"' in review and "(account deleted)" in review
    assert "/remove" not in review and "/report/" not in review
    assert client.submit(f"/connections/{connection.public_id}/keep", page="/connections/review").status_code == 302
    assert 'data-state="unseen-connections"' not in client.get("/").get_data(as_text=True)


def test_no_longer_connected_keeps_notes_and_line_and_hides_contacts(met, signed_in):
    ada, bo, connection = met
    consent.remove(bo, connection.public_id)
    ada_client, pid = signed_in(ada), connection.public_id
    html = ada_client.get("/followup").get_data(as_text=True)
    assert html.count('class="followup-entry"') == 1 and row_state(html, pid) == "no-longer-connected"
    assert "No longer connected" in html
    state, body = entry(ada_client.get(f"/followup/{pid}").get_data(as_text=True), pid)
    assert state == "no-longer-connected" and "No longer connected" in body
    assert "Ada&#39;s own note" in body and "Rust" in body and "bo@example.org" not in body
    bo_client = signed_in(bo)
    assert 'class="followup-entry"' not in bo_client.get("/followup").get_data(as_text=True)
    assert bo_client.get(f"/followup/{pid}").status_code == 404  # off his list: he removed it


def test_confirm_from_the_followup_entry(make_event, make_person, signed_in):
    event = make_event()
    ada = make_person("Ada", event=event, contacts={"email": "ada@example.org"})
    bo = make_person("Bo", event=event, contacts={"email": "bo@example.org"})
    connection, _ = connections.connect(bo, ada.badge_token)
    db.session.execute(db.update(ConnectionSide).where(ConnectionSide.person_id == ada.id)
                       .values(shares_contacts=False))
    db.session.commit()
    ada_client, bo_client = signed_in(ada), signed_in(bo)
    page = f"/followup/{connection.public_id}"
    html = ada_client.get(page).get_data(as_text=True)
    assert "Confirm and share my contacts" in html and f'name="next" value="{page}"' in html
    assert "ada@example.org" not in bo_client.get(page).get_data(as_text=True)
    response = ada_client.submit(f"/connections/{connection.public_id}/confirm", page=page, data={"next": page})
    assert response.status_code == 302 and response.location == page
    assert "ada@example.org" in bo_client.get(page).get_data(as_text=True)
    assert "Confirm and share my contacts" not in ada_client.get(page).get_data(as_text=True)


def test_remove_and_block_from_the_followup_entry(make_event, make_person, signed_in):
    event = make_event()
    ada, bo, cy = (make_person(name, event=event) for name in ("Ada", "Bo", "Cy"))
    to_bo, _ = connections.connect(ada, bo.badge_token)
    to_cy, _ = connections.connect(ada, cy.badge_token)
    client = signed_in(ada)
    for pid in (to_bo.public_id, to_cy.public_id):
        html = client.get(f"/followup/{pid}").get_data(as_text=True)
        assert f'action="/connections/{pid}/remove"' in html and f'action="/connections/{pid}/block"' in html
        assert f'href="/report/{pid}"' in html and 'name="next" value="/followup"' in html
    client.submit(f"/connections/{to_bo.public_id}/remove", page=f"/followup/{to_bo.public_id}",
                  data={"next": "/followup"})
    client.submit(f"/connections/{to_cy.public_id}/block", page=f"/followup/{to_cy.public_id}",
                  data={"next": "/followup"})
    assert 'class="followup-entry"' not in client.get("/followup").get_data(as_text=True)
