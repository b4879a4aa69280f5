"""The scan landing and typed badge codes, as a browser uses them."""
import re

import pytest
from sqlalchemy import func, select

from kithmeet.connections.models import Connection
from kithmeet.extensions import db

from ..pages import badge_token, error_codes, field_error, join


def test_scan_connect_and_both_follow_up_pages(make_event, make_client):
    event = make_event()
    ada, bo = make_client(), make_client()
    join(ada, event, name="Ada", email="ada@example.org", share_email="y")
    join(bo, event, name="Bo")
    token = badge_token(ada)
    page = bo.get(f"/B/{token}").get_data(as_text=True)
    assert "Connect with Ada" in page and "sees this too" in page and "Only you ever see this" in page
    assert 'aria-describedby="talked_about-hint"' in page and 'aria-describedby="private_note-hint"' in page
    assert "ada@example.org" not in page
    response = bo.submit(f"/B/{token}", data={"talked_about": "Flask testing", "private_note": "hire?",
                                              "client_id": "c1"})
    assert response.status_code == 302 and response.location == f"/B/{token}?done=connected"
    after = bo.get(response.location).get_data(as_text=True)
    assert "You&#39;re connected." in after and "ada@example.org" in after
    assert "You&#39;re connected." not in bo.get(f"/B/{token}").get_data(as_text=True)  # said once
    again = bo.submit(f"/B/{token}", data={"talked_about": "More on Flask", "client_id": "c2"})
    assert again.location == f"/B/{token}?done=added"
    assert "Added to your connection." in bo.get(again.location).get_data(as_text=True)
    assert "Bo" in ada.get("/followup").get_data(as_text=True)
    assert "Flask testing" in ada.get("/followup").get_data(as_text=True)
    assert "Ada" in bo.get("/followup").get_data(as_text=True)


def test_the_connected_message_is_shown_only_when_it_is_true(two_attendees, make_client, make_event):
    _, ada, bo, token = two_attendees
    # A link that says "connected" proves nothing: to someone who is not, the page says nothing.
    for done in ("connected", "added"):
        page = bo.get(f"/B/{token}?done={done}").get_data(as_text=True)
        assert "Connect with" in page and "You&#39;re connected." not in page, done
        assert "Added to your connection." not in page, done
    assert bo.submit(f"/B/{token}", data={"client_id": "first"}).location == f"/B/{token}?done=connected"
    page = bo.get(f"/B/{token}?done=connected").get_data(as_text=True)
    assert re.search(r'<div class="flashes" role="status">\s*<p class="flash flash-success">You&#39;re connected.</p>',
                     page)
    assert 'class="flashes"' not in bo.get(f"/B/{token}?done=whatever").get_data(as_text=True)
    assert 'class="flashes"' not in bo.get(f"/B/{token}?done=").get_data(as_text=True)
    # Removed from their list: no longer "connected", whatever the link says.
    public_id = db.session.scalar(select(Connection.public_id))
    bo.submit(f"/connections/{public_id}/remove", page="/followup", data={})
    bo.get("/followup")  # past the flash of the removal
    assert "You&#39;re connected." not in bo.get(f"/B/{token}?done=connected").get_data(as_text=True)


def test_a_connect_writes_no_session(two_attendees, app, count_queries):
    # The message rides on the redirect: the connect's one write transaction is the only write.
    _, ada, bo, token = two_attendees
    page = bo.get(f"/B/{token}").get_data(as_text=True)
    data = {"csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1),
            "client_id": "once"}
    with count_queries() as statements:
        assert bo.post(f"/B/{token}", data=data).status_code == 302
    assert not [s for s in statements if "web_session" in s and not s.lstrip().upper().startswith("SELECT")]


def test_notes_that_would_overflow_are_refused_and_kept_to_shorten(two_attendees):
    _, ada, bo, token = two_attendees
    assert ada.submit(f"/B/{badge_token(bo)}", data={"talked_about": "a" * 600}).status_code == 302
    response = bo.submit(f"/B/{token}", data={"talked_about": "b" * 600})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and error_codes(html) == ["too_long"]
    assert "b" * 600 in html  # the words stay in the box
    assert "b" * 600 not in ada.get("/followup").get_data(as_text=True)


def test_double_submitted_connect_records_once(two_attendees):
    _, ada, bo, token = two_attendees
    page = bo.get(f"/B/{token}").get_data(as_text=True)
    data = {"csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1),
            "client_id": re.search(r'name="client_id" type="hidden" value="([^"]+)"', page).group(1),
            "talked_about": "Once"}
    bo.post(f"/B/{token}", data=data)
    bo.post(f"/B/{token}", data=data)
    assert db.session.scalar(select(func.count(Connection.id))) == 1
    assert bo.get(f"/B/{token}").get_data(as_text=True).count("Once") == 1


def test_scan_edge_pages(make_event, make_client, make_organizer):
    organizer = make_organizer()
    event = make_event(organizer)
    ada, bo, stranger = make_client(), make_client(), make_client()
    join(ada, event, name="Ada")
    join(bo, event, name="Bo")
    token = badge_token(ada)
    own = ada.get(f"/B/{token}")
    assert own.status_code == 200 and error_codes(own.get_data(as_text=True)) == ["self_scan"]
    unknown = bo.get("/B/AAAAAAAAAAA")
    assert unknown.status_code == 404 and error_codes(unknown.get_data(as_text=True)) == ["unknown_badge"]
    public = stranger.get(f"/B/{token}").get_data(as_text=True)
    assert "Ada" in public and f"/J/{event.join_code}?next=/B/{token}" in public and "<form" not in public
    lower = bo.get(f"/b/{token.lower()}")
    assert lower.status_code == 301 and lower.location.endswith(f"/B/{token}")
    from kithmeet.events import services as events

    events.set_status(organizer, event.public_id, "closed")
    closed = bo.get(f"/B/{token}").get_data(as_text=True)
    assert error_codes(closed) == ["event_closed"] and "Connect</button>" not in closed
    response = bo.submit(f"/B/{token}", page="/", data={"talked_about": "late"})
    assert response.status_code == 200 and error_codes(response.get_data(as_text=True)) == ["event_closed"]
    assert db.session.scalar(select(func.count(Connection.id))) == 0


def test_typed_code_finds_the_badge(two_attendees):
    _, ada, bo, token = two_attendees
    typed = f" {token[:4].lower()}-{token[4:8]} {token[8:]} "
    assert bo.submit("/code", page="/", data={"code": typed}).location == f"/B/{token}"


@pytest.mark.parametrize("typed,code", [
    ("hello", "bad_code"),
    ("AB/CD", "bad_code"),
    ("", "required"),
    ("ZZZZ ZZZZ ZZZ", "unknown_badge"),
])
def test_a_bad_typed_code_is_explained_next_to_the_field(two_attendees, typed, code):
    _, _, bo, _ = two_attendees
    response = bo.submit("/code", page="/", data={"code": typed})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'value="{typed}"' in html if typed else 'aria-invalid="true"' in html
    assert field_error(html, "code") == code and error_codes(html) == [code]


def test_a_typed_code_of_a_replaced_badge_is_told_apart(two_attendees):
    _, ada, bo, old = two_attendees
    ada.submit("/badge/replace", page="/badge")
    response = bo.submit("/code", page="/", data={"code": old})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and field_error(html, "code") == "revoked_badge"
    assert f'value="{old}"' in html


def test_a_pasted_badge_link_works_as_a_typed_code(two_attendees):
    _, _, bo, token = two_attendees
    response = bo.submit("/code", page="/", data={"code": f"http://localhost/B/{token}"})  # this site's host
    assert response.location == f"/B/{token}"
    elsewhere = bo.submit("/code", page="/", data={"code": f"https://evil.example/B/{token}"})
    assert elsewhere.status_code == 400 and field_error(elsewhere.get_data(as_text=True), "code") == "bad_code"
