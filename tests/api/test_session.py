"""GET /api/v1/session: who is signed in, the CSRF token a script sends with changes, and the
owner key a device's scan queue is kept under (the one answer scan-queue.js and offline.js ask
for; there is no second endpoint for it)."""
import uuid

from sqlalchemy import func, select

from kithmeet.extensions import db
from kithmeet.people.device import owner_key
from kithmeet.sessions import WebSession

from .conftest import Api, code_of


def scan(bo):
    return {"client_id": str(uuid.uuid4()), "badge": bo.badge_token, "scanned_at": "2026-11-26T19:30:00Z"}


def test_a_signed_in_session_gets_its_owner_key_and_a_token_the_api_accepts(night, session_api):
    _, ada, bo = night
    api = session_api(ada, csrf=False)
    response = api.get("/api/v1/session")
    assert response.headers["Cache-Control"] == "no-store"  # a token: never kept by a cache
    state = response.get_json()
    assert state["signed_in"] is True and state["owner"] == owner_key(ada) and state["csrf_token"]
    refused = api.post("/api/v1/scans", scan(bo))
    assert refused.status_code == 400 and code_of(refused) == "csrf"
    sent = api.post("/api/v1/scans", scan(bo), headers={"X-CSRFToken": state["csrf_token"]})
    assert sent.status_code == 201


def test_each_person_gets_their_own_owner_key(night, session_api):
    _, ada, bo = night
    keys = [session_api(person).get("/api/v1/session").get_json()["owner"] for person in (ada, bo)]
    assert keys == [owner_key(ada), owner_key(bo)] and keys[0] != keys[1]


def test_signed_out_the_answer_names_no_owner_and_stores_no_session(client):
    response = Api(client).get("/api/v1/session")
    state = response.get_json()
    assert state == {"signed_in": False, "csrf_token": None, "owner": None}
    assert "Set-Cookie" not in response.headers  # no session stored for a passer-by asking
    assert db.session.scalar(select(func.count()).select_from(WebSession)) == 0


def test_a_bearer_request_gets_neither_a_token_nor_an_owner(night, signed_in, bearer):
    """A token is for scripts elsewhere, which keep no queue here; its cookie is not asked."""
    _, ada, bo = night
    api = bearer(ada)
    api.client = signed_in(bo)  # Bo's browser session, sending Ada's token
    assert api.get("/api/v1/session").get_json() == {"signed_in": True, "csrf_token": None, "owner": None}


def test_the_offline_blueprint_has_no_session_endpoint_of_its_own(app, client):
    assert "offline.session_state" not in app.view_functions
    assert client.get("/offline/session").status_code == 404
