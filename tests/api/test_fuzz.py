"""Whatever is sent to the API (malformed JSON, wrong types, unknown fields, huge or undecodable
bodies, odd paths and queries) it answers with a documented status and its error code, never a
5xx. The fixed cases name each refusal's code; hypothesis then throws arbitrary JSON and bytes at
every endpoint, by token and by session."""
import json
import uuid
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kithmeet.connections import services as connections

from .conftest import Api, check_against_document, code_of

# Derandomized as in tests/test_properties.py: every run tries the same examples.
SETTINGS = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
FIELDS = ["client_id", "badge", "talked_about", "private_note", "scanned_at", "talked_about_fingerprint", "status",
          "snoozed_until"]


@pytest.fixture
def scene(night, bearer, session_api):
    _, ada, bo = night
    client_id = str(uuid.uuid4())
    connection, _ = connections.connect(ada, bo.badge_token, talked_about="Rust", client_id=client_id)
    return {"apis": [bearer(ada), session_api(ada)], "pid": connection.public_id, "client_id": client_id,
            "badge": bo.badge_token}


def endpoints(scene):
    pid, client_id = scene["pid"], scene["client_id"]
    return [("POST", "/api/v1/scans"), ("POST", f"/api/v1/scans/{client_id}/undo"), ("GET", f"/api/v1/scans/{client_id}"),
            ("GET", "/api/v1/connections"), ("GET", f"/api/v1/connections/{pid}"),
            ("PATCH", f"/api/v1/connections/{pid}"), ("GET", "/api/v1/me"), ("GET", "/api/v1/session"),
            ("GET", "/api/v1/openapi.json"), ("GET", "/api/v1/news")]


def raw(api, method, path, data, content_type="application/json", headers=None):
    response = api.client.open(path, method=method, data=data, content_type=content_type,
                               headers=api.headers(method, headers))
    assert response.status_code < 500, (method, path, response.status_code)
    check_against_document(response, path, method)
    return response


@pytest.mark.parametrize("data, content_type, status, code", [
    (b"{", "application/json", 400, "bad_json"),
    (b'{"client_id": "\xff\xfe"}', "application/json", 400, "bad_json"),  # not UTF-8
    (b"[" * 50_000 + b"]" * 50_000, "application/json", 413, "too_large"),
    (b"[" * 30_000 + b"]" * 30_000, "application/json", 400, "bad_json"),  # deeper than the parser goes
    (b"[]", "application/json", 400, "bad_body"),
    (b'"text"', "application/json", 400, "bad_body"),
    (b"{}", "application/json", 400, "missing_field"),
    (b'{"client_id": 5, "badge": "X"}', "application/json", 400, "bad_type"),
    (b'{"client_id": "12345678", "badge": true}', "application/json", 400, "bad_type"),
    (b'{"client_id": "12345678", "badge": "X", "extra": 1}', "application/json", 400, "unknown_field"),
    (b'{"client_id": "short", "badge": "X"}', "application/json", 400, "bad_client_id"),
    (b'{"client_id": "../../etc/passwd", "badge": "X"}', "application/json", 400, "bad_client_id"),
    (b'{"client_id": "12345678", "badge": "X", "scanned_at": "0001-01-01T00:00:00+01:00"}', "application/json",
     400, "bad_time"),
    (b'{"client_id": "12345678", "badge": "X", "scanned_at": 1700000000}', "application/json", 400, "bad_type"),
    (b'{"client_id": "12345678", "badge": "X", "talked_about": "\\ud800"}', "application/json", 404, "unknown_badge"),
    (b"client_id=12345678&badge=X", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    (b"x" * (65 * 1024), "application/json", 413, "too_large"),
])
def test_each_malformed_scan_body_gets_its_code(scene, data, content_type, status, code):
    for api in scene["apis"]:
        response = raw(api, "POST", "/api/v1/scans", data, content_type)
        assert (response.status_code, code_of(response)) == (status, code)


def test_a_lone_surrogate_in_words_is_refused_not_stored(scene):
    body = {"client_id": str(uuid.uuid4()), "badge": scene["badge"], "talked_about": "\ud800"}
    response = raw(scene["apis"][0], "POST", "/api/v1/scans", json.dumps(body))
    assert (response.status_code, code_of(response)) == (400, "control_characters")


def json_values():
    scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=200)
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                               max_size=4), max_leaves=12)


def bodies():
    """Objects of the API's own field names (and others) with any values, any JSON at all, or bytes."""
    objects = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=12), json_values() | st.text(max_size=1200),
                              max_size=6)
    return (objects.map(lambda value: json.dumps(value).encode()) | json_values().map(lambda v: json.dumps(v).encode())
            | st.binary(max_size=300))


@SETTINGS
@given(index=st.integers(min_value=0, max_value=9), body=bodies(), who=st.integers(min_value=0, max_value=1),
       content_type=st.sampled_from(["application/json", "text/plain", "application/json; charset=latin-1", None]))
def test_any_body_to_any_endpoint_never_breaks_it(scene, index, body, who, content_type):
    method, path = endpoints(scene)[index]
    raw(scene["apis"][who], method, path, body, content_type)


@SETTINGS
@given(segment=st.text(min_size=1, max_size=80), query=st.text(max_size=60), who=st.integers(min_value=0, max_value=1))
def test_any_path_argument_or_query_never_breaks_it(scene, segment, query, who):
    api = scene["apis"][who]
    quoted, asked = quote(segment, safe=""), quote(query, safe="=&")
    for method, path in (("GET", f"/api/v1/connections/{quoted}"), ("GET", f"/api/v1/scans/{quoted}"),
                         ("POST", f"/api/v1/scans/{quoted}/undo"), ("GET", f"/api/v1/connections?{asked}"),
                         ("PATCH", f"/api/v1/connections/{quoted}")):
        response = api.client.open(path, method=method, json={} if method == "PATCH" else None,
                                   headers=api.headers(method))
        assert response.status_code < 500, (method, path, response.status_code)
        if "/" not in segment:  # with a "/" it may name another route, or none
            check_against_document(response, path, method)


def test_a_bearer_token_of_any_shape_never_breaks_it(app):
    for header in ("Bearer", "Bearer  ", "bearer km_\u00e9\u00e9", "Bearer km_" + "\x00" * 3, "Bearer\tkm_x",
                   "Bearer km_" + "a" * 90):
        response = app.test_client().get("/api/v1/me", headers={"Authorization": header.encode("utf-8").decode("latin-1")})
        assert response.status_code == 401 and code_of(response) == "bad_token", header
    assert Api(app.test_client()).get("/api/v1/me").status_code == 401
