"""The door kiosk's name search and hand-off links are rate-limited: the search must not become a
way to read out the attendee list, nor a hand-off secret be guessed."""
import pytest

from .conftest import log_in


@pytest.fixture
def app_config():
    return {"RATELIMIT_ENABLED": True, "RATELIMIT_KIOSK_SEARCH": "3 per minute", "RATELIMIT_SIGNIN": "2 per minute"}


def test_the_name_search_is_rate_limited(app, organizer, make_event):
    event = make_event(organizer)
    client = app.test_client()
    log_in(client)
    client.submit(f"/organizer/events/{event.public_id}/kiosk", page=f"/organizer/events/{event.public_id}")
    token = client.csrf_token("/kiosk/registered")
    answers = [client.post("/kiosk/registered", data={"csrf_token": token, "name": f"a{letter}"}).status_code
               for letter in "bcde"]
    assert answers == [200, 200, 200, 429]
    assert client.get("/kiosk/registered").status_code == 200  # showing the form is not a search


def test_guessing_handoff_links_is_rate_limited(client):
    answers = [client.get(f"/signin/kiosk/guess{i}").status_code for i in range(3)]
    assert answers == [404, 404, 429]
