"""Personal API tokens: made and revoked on /settings/api-tokens, the secret shown once and stored
only as its SHA-256, dead once revoked or after signing out everywhere; a bearer request is the
token's person whatever cookie it carries, needs no CSRF token, and opens the API only."""
import hashlib
import logging
import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from kithmeet.api import tokens
from kithmeet.api.models import ApiToken
from kithmeet.database import utcnow
from kithmeet.errors import DomainError, NotFound
from kithmeet.extensions import db
from kithmeet.people import services as people

from ..pages import error_codes
from .conftest import Api, code_of

SECRET = re.compile(r'id="new-token"[^>]*value="(km_[^"]+)"')


def test_a_token_is_stored_only_as_its_hash_and_a_prefix(night, db_state):
    _, ada, _ = night
    token, secret = tokens.create(ada, "My CRM")
    assert secret.startswith("km_") and len(secret) > 40
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.prefix == secret[:10] and token.generation == ada.session_generation
    rows = repr(db_state())
    assert secret not in rows and secret[10:30] not in rows


def test_names_are_checked_and_a_person_has_at_most_twenty(night):
    _, ada, _ = night
    for name, code in (("   ", "name_required"), ("x" * 81, "too_long"), ("My\u202eCRM", "control_characters")):
        with pytest.raises(DomainError) as refused:
            tokens.create(ada, name)
        assert refused.value.code == code
    for i in range(tokens.MAX_TOKENS):
        tokens.create(ada, f"Token {i}")
    with pytest.raises(DomainError) as refused:
        tokens.create(ada, "One more")
    assert refused.value.code == "too_many_tokens"
    assert len(tokens.tokens_of(ada)) == tokens.MAX_TOKENS


def test_a_revoked_token_stops_working_and_only_its_person_may_revoke_it(app, night):
    _, ada, bo = night
    token, secret = tokens.create(ada, "Script")
    api = Api(app.test_client(), secret=secret)
    assert api.get("/api/v1/me").status_code == 200
    with pytest.raises(NotFound) as refused:
        tokens.revoke(bo, token.public_id)
    assert refused.value.code == "unknown_token"
    tokens.revoke(ada, token.public_id)
    response = api.get("/api/v1/me")
    assert (response.status_code, code_of(response)) == (401, "bad_token")
    with pytest.raises(NotFound):
        tokens.revoke(ada, token.public_id)  # twice: as a token that never was


def test_signing_out_everywhere_ends_every_token(night, bearer):
    _, ada, _ = night
    api = bearer(ada)
    assert api.get("/api/v1/me").status_code == 200
    people.sign_out_everywhere(ada)
    response = api.get("/api/v1/me")
    assert (response.status_code, code_of(response)) == (401, "bad_token")


@pytest.mark.parametrize("header", ["Bearer km_not-a-real-token", "Bearer ", "Basic YWRhOmFkYQ==", "Bearer " + "k" * 5000])
def test_a_wrong_credential_is_401_whatever_the_session_says(night, signed_in, header):
    _, ada, _ = night
    client = signed_in(ada)  # signed in: the cookie would say Ada
    response = client.get("/api/v1/me", headers={"Authorization": header})
    assert (response.status_code, code_of(response)) == (401, "bad_token")


def test_a_bearer_request_is_the_token_s_person_whatever_cookie_it_carries(night, signed_in):
    _, ada, bo = night
    _, secret = tokens.create(ada, "Script")
    as_bo = signed_in(bo)
    response = as_bo.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert response.get_json()["me"]["name"] == "Ada Okafor"
    assert as_bo.get("/api/v1/me").get_json()["me"]["name"] == "Bo Lind"


def test_a_bearer_request_needs_no_csrf_token(night, bearer):
    _, ada, bo = night
    api = bearer(ada)
    response = api.post("/api/v1/scans", {"client_id": str(uuid.uuid4()), "badge": bo.badge_token})
    assert response.status_code == 201
    assert api.get("/api/v1/session").get_json() == {"signed_in": True, "csrf_token": None, "owner": None}


def test_a_token_opens_the_api_only_never_the_pages(night, app):
    _, ada, _ = night
    _, secret = tokens.create(ada, "Script")
    response = app.test_client().get("/followup", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 302 and response.location == "/"  # not signed in on a page
    assert app.test_client().get("/api/v1/me").status_code == 401


def test_last_use_is_written_at_most_once_an_hour(night, bearer):
    _, ada, _ = night
    api = bearer(ada)
    api.get("/api/v1/me")
    first = db.session.scalar(select(ApiToken.last_used_at).execution_options(populate_existing=True))
    assert first is not None
    api.get("/api/v1/me")
    db.session.expire_all()
    assert db.session.scalar(select(ApiToken.last_used_at)) == first
    db.session.execute(ApiToken.__table__.update().values(last_used_at=utcnow() - timedelta(hours=2)))
    db.session.commit()
    api.get("/api/v1/me")
    db.session.expire_all()
    assert db.session.scalar(select(ApiToken.last_used_at)) > first


def test_the_page_shows_the_secret_once_then_lists_the_token(night, signed_in, caplog):
    _, ada, _ = night
    client = signed_in(ada)
    with caplog.at_level(logging.DEBUG):
        made = client.submit("/settings/api-tokens", data={"name": "My CRM"})
    html = made.get_data(as_text=True)
    assert made.status_code == 200 and 'data-state="token-made"' in html
    assert made.headers["Cache-Control"] == "no-store"
    secret = SECRET.search(html).group(1)
    assert secret not in caplog.text and "api_token.created" in caplog.text
    listed = client.get("/settings/api-tokens").get_data(as_text=True)
    assert secret not in listed and secret[:10] in listed and "My CRM" in listed
    assert Api(client.application.test_client(), secret=secret).get("/api/v1/me").status_code == 200


def test_the_page_shows_a_refused_name_beside_the_field(night, signed_in):
    _, ada, _ = night
    response = signed_in(ada).submit("/settings/api-tokens", data={"name": ""})
    assert response.status_code == 400 and error_codes(response.get_data(as_text=True)) == ["required"]
    assert tokens.tokens_of(ada) == []


def test_revoking_on_the_page(night, signed_in, make_person):
    event, ada, bo = night
    token, secret = tokens.create(ada, "Script")
    client = signed_in(ada)
    page = client.get("/settings/api-tokens").get_data(as_text=True)
    assert f'data-token="{token.public_id}"' in page
    # Someone else's token id answers 404 and stays.
    assert signed_in(bo).submit("/settings/api-tokens/revoke", data={"token": token.public_id},
                                page="/settings/api-tokens").status_code == 404
    response = client.submit("/settings/api-tokens/revoke", data={"token": token.public_id},
                             page="/settings/api-tokens")
    assert response.status_code == 302 and response.location == "/settings/api-tokens"
    assert tokens.tokens_of(ada) == []
    assert Api(client.application.test_client(), secret=secret).get("/api/v1/me").status_code == 401


def test_the_account_page_leads_to_the_tokens(night, signed_in):
    assert 'href="/settings/api-tokens"' in signed_in(night[1]).get("/account").get_data(as_text=True)
