"""The OpenAPI document: valid OpenAPI 3.1, served as the code builds it, and naming every route
and method under /api/v1 (the responses themselves are checked by every API test: conftest.py)."""
import re

from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from kithmeet.api import openapi
from kithmeet.connections import services as connections

from .conftest import DOCUMENT, Api, check_against_document


def test_the_document_is_valid_openapi_3_1():
    assert DOCUMENT["openapi"] == "3.1.0"
    validate(DOCUMENT)


def test_the_validator_refuses_a_broken_document():
    # So the test above can fail: a response without a description is not OpenAPI.
    broken = openapi.document()
    del broken["paths"]["/api/v1/me"]["get"]["responses"]["200"]["description"]
    try:
        validate(broken)
    except OpenAPIValidationError:
        return
    raise AssertionError("a broken document passed")


def test_the_document_is_served_as_built(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.get_json() == DOCUMENT
    check_against_document(response, "/api/v1/openapi.json", "GET")


def test_every_route_under_api_v1_is_documented_with_each_method(app):
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        template = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method.lower() not in DOCUMENT["paths"].get(template, {}):
                missing.append(f"{method} {template}")
    assert missing == []


def test_every_documented_operation_has_an_error_shape_and_security():
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            assert operation["security"], f"{method} {path}"
            for status, answer in operation["responses"].items():
                if status.startswith(("4", "5")):
                    assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_the_news_check_answers_as_documented(night, session_api):
    # GET /api/v1/news is N's (connections/news_views.py); this document describes it.
    _, ada, bo = night
    api = session_api(ada)
    assert api.get("/api/v1/news").get_json() == {"count": 0, "latest": None}
    connections.connect(bo, ada.badge_token)
    first = api.get("/api/v1/news")
    assert first.get_json()["count"] == 1 and first.get_json()["latest"]["name"] == "Bo Lind"
    assert api.get("/api/v1/news", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    assert Api(api.client.application.test_client()).get("/api/v1/news").status_code == 401
