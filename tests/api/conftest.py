"""API clients that check every answer against the OpenAPI document: each response the API tests
get is looked up by path, method and status in kithmeet/api/openapi.py and validated against the
schema documented there, so an undocumented status or a field the document does not name fails
the test that produced it."""
import re
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from kithmeet.api import openapi, tokens

DOCUMENT = openapi.document()


def operation_for(path, method):
    """The documented operation for a concrete path, or None."""
    for template, item in DOCUMENT["paths"].items():
        if re.fullmatch(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)), path) and method.lower() in item:
            return item[method.lower()]
    return None


def check_against_document(response, path, method):
    """Fail unless `response` is one the document describes for this path and method."""
    path = urlsplit(path).path
    operation = operation_for(path, "get" if method.upper() == "HEAD" else method)
    assert operation is not None, f"{method} {path} is not in the OpenAPI document"
    documented = operation["responses"].get(str(response.status_code))
    assert documented is not None, f"{method} {path} answered {response.status_code}, which the document omits"
    content = documented.get("content")
    if content is None:
        assert response.get_data() == b"", f"{method} {path} {response.status_code} has a body it should not"
        return
    assert response.mimetype == "application/json", f"{method} {path}: {response.mimetype}"
    # The components travel with the schema, so its #/components/... references resolve.
    schema = {**content["application/json"]["schema"], "components": DOCUMENT["components"]}
    errors = sorted(Draft202012Validator(schema, format_checker=FormatChecker()).iter_errors(response.get_json()),
                    key=lambda error: list(error.path))
    assert not errors, f"{method} {path} {response.status_code}: " + "; ".join(
        f"{list(error.path)}: {error.message}" for error in errors)


class Api:
    """A test client speaking JSON to /api/v1 as one person: by bearer token, or by session with
    the CSRF header (csrf=False leaves it off)."""

    def __init__(self, client, secret=None, csrf=True):
        self.client, self.secret, self.csrf = client, secret, csrf
        self._csrf_token = None

    def headers(self, method, extra=None):
        headers = {}
        if self.secret is not None:
            headers["Authorization"] = f"Bearer {self.secret}"
        elif self.csrf and method not in ("GET", "HEAD"):
            headers["X-CSRFToken"] = self.csrf_token()
        return {**headers, **(extra or {})}

    def csrf_token(self):
        if self._csrf_token is None:
            self._csrf_token = self.get("/api/v1/session").get_json()["csrf_token"]
        return self._csrf_token

    def open(self, method, path, json=None, headers=None, **kwargs):
        response = self.client.open(path, method=method, json=json, headers=self.headers(method, headers), **kwargs)
        check_against_document(response, path, method)
        return response

    def get(self, path, **kwargs):
        return self.open("GET", path, **kwargs)

    def post(self, path, json=None, **kwargs):
        return self.open("POST", path, json=json, **kwargs)

    def patch(self, path, json=None, **kwargs):
        return self.open("PATCH", path, json=json, **kwargs)


def code_of(response):
    return response.get_json()["error"]["code"]


@pytest.fixture
def bearer(app):
    """An Api for `person` through a new personal token of theirs."""
    def make(person, name="Tests"):
        _, secret = tokens.create(person, name)
        return Api(app.test_client(), secret=secret)
    return make


@pytest.fixture
def session_api(signed_in):
    """An Api for `person` through a signed-in browser session and its CSRF token."""
    def make(person, csrf=True):
        return Api(signed_in(person), csrf=csrf)
    return make


@pytest.fixture
def night(make_event, make_person):
    """An open event where Ada and Bo checked in: (event, ada, bo)."""
    event = make_event()
    ada = make_person("Ada Okafor", event=event, contacts={"email": "ada@example.org"}, headline="Backend dev",
                      answers=[(event.prompt_labels[0], "Flask")])
    bo = make_person("Bo Lind", event=event, contacts={"phone": "+44 20 7946 0958"},
                     answers=[(event.prompt_labels[0], "Rust")])
    return event, ada, bo
