"""A session's CSRF token is signed once per process and shown again (kithmeet/csrf_tokens.py),
and it still does everything a freshly signed one does: it is accepted for its own session only,
and a sign-in or sign-out ends it."""
import re

import pytest
from itsdangerous import URLSafeTimedSerializer

from kithmeet import create_app


def token_of(html):
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


@pytest.fixture
def signings(monkeypatch):
    """How many times a CSRF token was signed (Flask-WTF signs with this serializer)."""
    made = []
    real = URLSafeTimedSerializer.dumps

    def counted(self, *args, **kwargs):
        if self.salt == b"wtf-csrf-token":
            made.append(args)
        return real(self, *args, **kwargs)
    monkeypatch.setattr(URLSafeTimedSerializer, "dumps", counted)
    return made


@pytest.fixture
def pair(make_event, make_person):
    event = make_event()
    return make_person("Ada", event=event), make_person("Bo", event=event), make_person("Cy", event=event)


def test_a_sessions_token_is_signed_once_and_its_pages_show_it_again(pair, signed_in, signings):
    ada, bo, cy = pair
    client = signed_in(bo)
    first = token_of(client.get(f"/B/{ada.badge_token}").get_data(as_text=True))
    signed = len(signings)
    pages = [client.get(f"/B/{ada.badge_token}"), client.get(f"/B/{cy.badge_token}"), client.get("/followup")]
    assert [token_of(page.get_data(as_text=True)) for page in pages] == [first] * 3
    assert len(signings) == signed  # none signed again
    # The token shown again is accepted: the connect is made.
    response = client.post(f"/B/{ada.badge_token}", data={"csrf_token": first, "client_id": "kept-token"})
    assert response.status_code == 302 and "done=connected" in response.location


def test_a_kept_token_is_refused_in_another_session(pair, signed_in):
    ada, bo, cy = pair
    bos, cys = signed_in(bo), signed_in(cy)
    bo_token = token_of(bos.get(f"/B/{ada.badge_token}").get_data(as_text=True))
    cy_token = token_of(cys.get(f"/B/{ada.badge_token}").get_data(as_text=True))
    assert bo_token != cy_token
    refused = cys.post(f"/B/{ada.badge_token}", data={"csrf_token": bo_token, "client_id": "foreign-token"})
    assert refused.status_code == 400
    assert cys.post(f"/B/{ada.badge_token}", data={"csrf_token": cy_token, "client_id": "own-token"}).status_code == 302


def test_signing_out_and_in_again_ends_the_kept_token(pair, signed_in, app):
    from kithmeet.people import services as people

    ada, bo, _ = pair
    client = signed_in(bo)
    before = token_of(client.get(f"/B/{ada.badge_token}").get_data(as_text=True))
    assert client.post("/signout", data={"csrf_token": before}).status_code == 302
    response = client.submit(f"/signin/{people.issue_signin_secret(bo)}")
    assert response.status_code == 302
    after = token_of(client.get(f"/B/{ada.badge_token}").get_data(as_text=True))
    assert after != before
    assert client.post(f"/B/{ada.badge_token}", data={"csrf_token": before, "client_id": "old"}).status_code == 400
    assert client.post(f"/B/{ada.badge_token}", data={"csrf_token": after, "client_id": "new"}).status_code == 302


def test_a_token_that_ages_is_signed_for_every_request(tmp_path, database_url, app_config):
    config = {"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test-secret-key",
              **app_config, "WTF_CSRF_TIME_LIMIT": 3600}
    aging = create_app(config, instance_path=str(tmp_path / "aging"))
    assert "kithmeet_csrf_tokens" not in aging.extensions
    assert not any("signed_token" in hook.__name__ for hook in aging.before_request_funcs.get(None, []))
