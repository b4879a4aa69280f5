"""The organizer's pages for changing an event: edit, delete a draft, confirm closing, new join code."""
import re
from datetime import datetime

from sqlalchemy import select

from kithmeet.events.models import Event
from kithmeet.extensions import db

from ..pages import error_codes, field_error, form_error_codes
from .conftest import log_in


def edit_fields(**changes):
    return {"name": "Thursday Gathering #2", "starts_at": "2026-12-03T19:30", "venue": "The Library",
            "description": "Second floor.", "prompt_0": "Ask me about", "prompt_1": "Hometown", "prompt_2": "",
            "prompt_3": "", "prompt_4": "", **changes}


def reload(event):
    db.session.expire_all()
    return db.session.get(Event, event.id)


def test_edit_page_shows_the_event_and_saves_every_field(client, organizer, make_event):
    event = make_event(organizer, status="closed")
    log_in(client)
    url = f"/organizer/events/{event.public_id}/edit"
    page = client.get(url).get_data(as_text=True)
    assert 'value="Thursday Gathering"' in page and 'value="2026-11-26T19:00"' in page
    assert 'value="The Corner Café"' in page and 'value="I&#39;m looking for"' in page
    assert 'name="series"' not in page  # an event stays in its series
    response = client.submit(url, data=edit_fields())
    assert response.status_code == 302 and response.location == f"/organizer/events/{event.public_id}"
    event = reload(event)
    assert (event.name, event.starts_at, event.venue, event.description, event.prompt_labels) == (
        "Thursday Gathering #2", datetime(2026, 12, 3, 19, 30), "The Library", "Second floor.",
        ["Ask me about", "Hometown"])
    assert "Event edited" in client.get(response.location).get_data(as_text=True)


def test_edit_shows_errors_beside_fields_and_keeps_the_event(client, organizer, make_event):
    event = make_event(organizer)
    log_in(client)
    url = f"/organizer/events/{event.public_id}/edit"
    response = client.submit(url, data=edit_fields(name=""))
    assert response.status_code == 200 and field_error(response.get_data(as_text=True), "name") == "required"
    response = client.submit(url, data=edit_fields(prompt_1="ASK ME ABOUT"))
    assert field_error(response.get_data(as_text=True), "prompt_0") == "duplicate_prompt"
    assert reload(event).name == "Thursday Gathering"


def test_another_organizers_event_pages_are_not_found(client, organizer, make_organizer, make_event):
    event = make_event(make_organizer(), status="draft")
    log_in(client)
    base = f"/organizer/events/{event.public_id}"
    assert client.get(f"{base}/edit").status_code == 404
    assert client.get(f"{base}/close").status_code == 404
    for path, data in ((f"{base}/edit", edit_fields()), (f"{base}/delete", {"confirm": "y"}),
                       (f"{base}/join-code", {})):
        assert client.submit(path, page="/organizer/", data=data).status_code == 404
    assert reload(event).name == "Thursday Gathering" and reload(event).status == "draft"


def test_deleting_a_draft_needs_the_box_ticked(client, organizer, make_event):
    event = make_event(organizer, status="draft")
    event_id = event.id
    log_in(client)
    page = f"/organizer/events/{event.public_id}"
    unticked = client.submit(f"{page}/delete", page=page, data={})
    assert unticked.status_code == 200 and field_error(unticked.get_data(as_text=True), "confirm") == "confirm_delete"
    assert reload(event) is not None
    ticked = client.submit(f"{page}/delete", page=page, data={"confirm": "y"})
    assert ticked.status_code == 302 and ticked.location == "/organizer/"
    db.session.expire_all()
    assert db.session.scalar(select(Event.id).where(Event.id == event_id)) is None


def test_an_open_event_offers_no_delete_and_refuses_one(client, organizer, make_event):
    event = make_event(organizer)
    log_in(client)
    page = f"/organizer/events/{event.public_id}"
    assert "/delete" not in client.get(page).get_data(as_text=True)
    refused = client.submit(f"{page}/delete", page=page, data={"confirm": "y"})
    assert refused.status_code == 400 and error_codes(refused.get_data(as_text=True)) == ["not_a_draft"]
    assert reload(event).status == "open"


def test_closing_goes_through_a_confirmation_page(client, organizer, make_event):
    event = make_event(organizer)
    log_in(client)
    page = f"/organizer/events/{event.public_id}"
    html = client.get(page).get_data(as_text=True)
    assert 'value="closed"' not in html  # no one-click close on the event page
    assert f'href="{page}/close"' in html
    confirm = client.get(f"{page}/close").get_data(as_text=True)
    assert f'action="{page}/status"' in confirm and 'value="closed"' in confirm
    client.submit(f"{page}/status", page=f"{page}/close", data={"status": "closed"})
    assert reload(event).status == "closed"
    assert client.get(f"{page}/close").location == page  # nothing left to confirm
    assert 'value="open"' in client.get(page).get_data(as_text=True)  # reopening: one click


def test_rotating_the_join_code_shows_the_new_link_and_the_old_one_stops(client, organizer, make_event):
    event = make_event(organizer)
    old = event.join_code
    log_in(client)
    page = f"/organizer/events/{event.public_id}"
    response = client.submit(f"{page}/join-code", page=page)
    assert response.status_code == 302
    new = reload(event).join_code
    assert new != old
    html = client.get(page).get_data(as_text=True)
    assert re.search(r'id="join-link"[^>]*value="http://localhost/J/' + new + '"', html) and old not in html
    assert new in client.get(f"{page}/poster").get_data(as_text=True)
    assert client.get(f"/J/{old}").status_code == 404
    assert client.get(f"/J/{new}").status_code == 200
    assert form_error_codes(html) == []
