"""The API's scans count against the scan page's limit, per person: a bearer token's person is
counted as a signed-in person is, not lumped in with everyone behind the venue's address."""
import uuid

import pytest

from .conftest import code_of


@pytest.fixture
def app_config():
    return {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://", "RATELIMIT_SCAN": "3 per minute"}


def scan(api, badge):
    return api.post("/api/v1/scans", {"client_id": str(uuid.uuid4()), "badge": badge})


def test_a_token_s_scans_count_per_person_with_the_scan_page_s(night, make_person, bearer, session_api):
    event, ada, bo = night
    cy = make_person("Cy", event=event)
    by_token, by_page = bearer(ada), session_api(ada)
    statuses = [scan(by_token, bo.badge_token).status_code, scan(by_page, bo.badge_token).status_code,
                scan(by_token, bo.badge_token).status_code]
    assert statuses == [201, 201, 201]  # three counted: the scans' bucket is Ada's, however she sends
    refused = scan(by_token, bo.badge_token)
    assert (refused.status_code, code_of(refused)) == (429, "rate_limited")
    assert scan(session_api(ada), bo.badge_token).status_code == 429
    # Cy shares the address (every test client does) but not the count.
    assert scan(bearer(cy), bo.badge_token).status_code == 201


def test_undo_still_works_at_the_scan_limit(night, bearer):
    """A person who hit the scan limit must still be able to take a wrong scan back."""
    _, ada, bo = night
    api = bearer(ada)
    client_id = str(uuid.uuid4())
    assert api.post("/api/v1/scans", {"client_id": client_id, "badge": bo.badge_token}).status_code == 201
    assert scan(api, bo.badge_token).status_code == 201 and scan(api, bo.badge_token).status_code == 201
    assert scan(api, bo.badge_token).status_code == 429
    undone = api.post(f"/api/v1/scans/{client_id}/undo")
    assert undone.status_code == 200 and undone.get_json()["scan"]["undone"] is True
