"""Errors as codes: a page for browsers, {"error": {"code", "message"}} under /api/ and for
clients that ask for JSON, with the same DomainError code either way."""
import logging
import sqlite3
from pathlib import Path

import psycopg
import pytest
from flask import Blueprint, jsonify, request
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import InternalServerError, TooManyRequests

from kithmeet import create_app
from kithmeet.errors import DomainError, NotFound, database_away
from kithmeet.extensions import csrf, db

from .postgres import BOTH_DATABASES

SECRET = "exception-text-that-must-not-leak"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
JSON = {"Accept": "application/json"}
UNKNOWN_BADGE = "/B/AAAAAAAAAAA"

# Stand-ins for the api blueprint to come, registered only on this module's apps.
test_api = Blueprint("test_only", __name__, url_prefix="/api/test-only")
csrf.exempt(test_api)  # as an API blueprint authenticated by something other than a form would be


@test_api.post("/echo")
def echo():
    return jsonify(got=request.get_json())


@test_api.get("/refused")
def refused():
    raise DomainError("That event has ended.", "event_closed", status=409)


@test_api.get("/missing")
def missing():
    raise NotFound("No such event.", "unknown_event")


@test_api.get("/broken")
def broken():
    raise RuntimeError(SECRET)


@test_api.get("/slow-down")
def slow_down():
    raise TooManyRequests(retry_after=30)


@pytest.fixture
def app_config():
    # Unhandled exceptions reach the 500 handler instead of propagating into the test.
    return {"PROPAGATE_EXCEPTIONS": False}


@pytest.fixture
def app(app):
    app.register_blueprint(test_api)  # before the first request, which would freeze the routes
    return app


def error_of(response, status):
    assert response.status_code == status
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert isinstance(error["message"], str) and error["message"]
    return error["code"]


def page_code(response):
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True).split('data-code="', 1)[1].split('"', 1)[0]


def test_unknown_api_path_is_json_404(client):
    assert error_of(client.get("/api/nothing-here"), 404) == "not_found"


def test_page_route_answers_json_with_the_domain_code_when_json_is_preferred(client):
    assert error_of(client.get(UNKNOWN_BADGE, headers=JSON), 404) == "unknown_badge"
    assert error_of(client.get(UNKNOWN_BADGE, headers={"Accept": "application/json, text/plain, */*"}),
                    404) == "unknown_badge"


@pytest.mark.parametrize("accept", [None, BROWSER, "*/*", "text/html, application/json"])
def test_browsers_still_get_the_page(client, accept):
    response = client.get(UNKNOWN_BADGE, headers={"Accept": accept} if accept else {})
    assert response.status_code == 404 and page_code(response) == "unknown_badge"
    missing = client.get("/no-such-page", headers={"Accept": accept} if accept else {})
    assert missing.status_code == 404 and page_code(missing) == "404"


def test_405_is_json_and_keeps_allow(client):
    response = client.get("/api/test-only/echo")
    assert error_of(response, 405) == "method_not_allowed"
    assert "POST" in response.headers["Allow"]
    page = client.get("/code", headers=JSON)
    assert error_of(page, 405) == "method_not_allowed" and "POST" in page.headers["Allow"]


def test_429_keeps_retry_after(client):
    response = client.get("/api/test-only/slow-down")
    assert error_of(response, 429) == "rate_limited"
    assert response.headers["Retry-After"] == "30"


def test_valid_json_reaches_the_view(client):
    response = client.post("/api/test-only/echo", json={"a": 1})
    assert response.status_code == 200 and response.get_json() == {"got": {"a": 1}}


@pytest.mark.parametrize("body", [b'{"a": 1', b'{"a": "\xff\xfe"}', b""], ids=["syntax", "not-utf8", "empty"])
def test_malformed_json_is_400_bad_json(client, body):
    response = client.post("/api/test-only/echo", data=body, content_type="application/json")
    assert error_of(response, 400) == "bad_json"


def test_domain_errors_from_api_views_keep_status_and_code(client):
    assert error_of(client.get("/api/test-only/refused"), 409) == "event_closed"
    assert error_of(client.get("/api/test-only/missing"), 404) == "unknown_event"


def test_unexpected_exception_is_json_500_without_its_text(client):
    response = client.get("/api/test-only/broken")
    assert error_of(response, 500) == "server_error"
    assert SECRET not in response.get_data(as_text=True)


def test_csrf_failure_is_json_when_asked(client):
    assert error_of(client.post("/code", data={"code": "AAAAAAAAAAA"}, headers=JSON), 400) == "csrf"
    page = client.post("/code", data={"code": "AAAAAAAAAAA"}, headers={"Accept": BROWSER})
    assert page.status_code == 400 and page_code(page) == "csrf"


def test_statuses_without_a_page_still_answer_json_under_api(client):
    response = client.post("/api/test-only/echo", data="a=1", content_type="text/plain")
    assert error_of(response, 415) == "unsupported_media_type"


def test_pages_that_need_a_sign_in_answer_scripts_401_not_a_redirect(client):
    for path in ("/followup", "/badge", "/organizer/"):
        response = client.get(path, headers={"Accept": "application/json"})
        assert response.status_code == 401 and response.get_json()["error"]["code"] == "sign_in_required", path
        assert client.get(path).status_code == 302  # a browser is still sent to sign in


# --- The database away: 503 database_unavailable, never a 500 or a hang. --------------------
# The scale tests stop a real PostgreSQL in the middle of a burst (tests/scale/test_faults.py);
# these take the database away under one app and check every way a request meets it.

LIMITED = {"PROPAGATE_EXCEPTIONS": False, "RATELIMIT_ENABLED": True}


def unavailable_page(response):
    assert response.status_code == 503
    assert page_code(response) == "database_unavailable"
    assert response.headers["Retry-After"].isdigit() and response.headers["Cache-Control"] == "no-store"


def unavailable_json(response):
    assert error_of(response, 503) == "database_unavailable"
    assert response.headers["Retry-After"].isdigit()


def take_the_database_away(app):
    """Every later connection attempt fails as it would with the server gone: the SQLite file
    is replaced by a folder (which SQLite cannot open), the PostgreSQL database dropped."""
    url = db.engine.url
    db.session.remove()
    db.engine.dispose()
    if url.get_backend_name() == "sqlite":
        path = Path(url.database)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.mkdir()
    else:
        with psycopg.connect(host=url.query["host"], port=url.query["port"], user=url.username,
                             dbname="postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{url.database}" WITH (FORCE)')


@BOTH_DATABASES
@pytest.mark.parametrize("app_config", [LIMITED])
def test_a_database_gone_mid_session_answers_503_wherever_it_is_met(make_person, make_event, signed_in, app,
                                                                   make_client):
    event = make_event()
    ada, bo = make_person("Ada", event=event), make_person("Bo", event=event)
    client = signed_in(ada)
    page_token = client.csrf_token(f"/B/{bo.badge_token}")
    api_token = client.get("/api/v1/session").get_json()["csrf_token"]
    take_the_database_away(app)

    # The signed-in session is read first (before the rate limiter, the CSRF check or a view).
    unavailable_page(client.get(f"/B/{bo.badge_token}"))
    unavailable_page(client.post(f"/B/{bo.badge_token}", data={"csrf_token": page_token, "client_id": "c1"}))
    unavailable_json(client.get("/api/v1/me"))
    unavailable_json(client.post("/api/v1/scans", json={"client_id": "c" * 32, "badge": bo.badge_token},
                                 headers={"X-CSRFToken": api_token}))
    # A stranger has no session to read: the rate limiter counts them (in its file on SQLite; where
    # its counts live in the database, the count fails and lets them through), then the view's own
    # query meets the database.
    stranger = make_client()
    unavailable_page(stranger.get(f"/B/{bo.badge_token}"))
    unavailable_json(stranger.get(f"/B/{bo.badge_token}", headers=JSON))
    stranger_token = stranger.get("/api/v1/session")
    assert stranger_token.status_code == 200  # needs no database: still answers


@pytest.mark.parametrize("url", ["sqlite:///{tmp}/no-such-folder/kithmeet.sqlite3",
                                 "postgresql+psycopg://kithmeet@/kithmeet?host={tmp}/no-server&port=5432"],
                         ids=["sqlite", "postgresql"])
def test_a_database_never_reached_answers_503_not_500(tmp_path, url):
    app = create_app({**LIMITED, "SECRET_KEY": "test-secret-key",
                      "SQLALCHEMY_DATABASE_URI": url.format(tmp=tmp_path)}, instance_path=str(tmp_path / "instance"))
    client = app.test_client()
    client.set_cookie("session", "a" * 43)  # a session id to look up: loading it meets the database
    unavailable_page(client.get("/"))
    unavailable_json(client.get("/api/v1/me"))
    fresh = app.test_client()
    unavailable_page(fresh.get(UNKNOWN_BADGE))
    # Without a session to read, the CSRF check needs no database: it refuses the missing token.
    assert error_of(fresh.post("/api/v1/scans", json={}), 400) == "csrf"
    with app.app_context():
        db.engine.dispose()


@BOTH_DATABASES
def test_a_nul_in_an_address_is_refused_before_any_lookup(make_person, signed_in, database_url):
    # PostgreSQL refuses a NUL in compared text (a 500 before this); SQLite found nothing. Each
    # address here reaches a lookup without requests.refuse_nul: its public id or code is looked
    # up as given.
    client = signed_in(make_person())
    for path in ("/api/v1/connections/ab%00cd", "/followup/ab%00cd", "/J/ab%00cd"):
        assert client.get(path).status_code == 404, path
    # A query no form checks reaches a statement: on PostgreSQL a 400 (database._refuse_nul).
    for query in ("/followup?q=a%00b", "/api/v1/connections?q=a%00b", "/followup?status=a%00b"):
        assert client.get(query).status_code < 500, query


# Only the database out of reach is a 503; any other database error is a fault: a logged 500.
def database_error(original, **options):
    return sa_exc.OperationalError("SELECT 1", {}, original, **options)


@pytest.mark.parametrize("error,away", [
    (database_error(sqlite3.OperationalError("database is locked")), True),
    (database_error(sqlite3.OperationalError("unable to open database file")), True),
    (database_error(sqlite3.OperationalError("no such table: person")), False),
    (database_error(psycopg.OperationalError("connection failed: Connection refused")), True),  # no SQLSTATE
    (database_error(psycopg.errors.ConnectionFailure("connection failure")), True),  # 08006
    (database_error(psycopg.errors.AdminShutdown("terminating connection")), True),  # 57P01
    (database_error(psycopg.errors.CrashShutdown("crashed")), True),  # 57P02
    (database_error(psycopg.errors.CannotConnectNow("starting up")), True),  # 57P03
    (database_error(psycopg.errors.DeadlockDetected("deadlock detected")), False),  # 40P01
    (database_error(psycopg.errors.QueryCanceled("statement timeout")), False),  # 57014
    (database_error(psycopg.errors.QueryCanceled("lost"), connection_invalidated=True), True),
    (sa_exc.InterfaceError("SELECT 1", {}, psycopg.InterfaceError("the connection is closed")), True),
    (sa_exc.DisconnectionError("gone"), True),
    (sa_exc.TimeoutError("QueuePool limit reached"), True),
    (sa_exc.ProgrammingError("SELECT 1", {}, psycopg.errors.UndefinedTable("no such table")), False),
    (RuntimeError("not the database"), False),
], ids=lambda value: value if isinstance(value, bool) else str(getattr(value, "orig", value)).split(":")[0][:30])
def test_only_a_database_out_of_reach_is_away(error, away):
    assert database_away(error) is away
    assert database_away(InternalServerError(original_exception=error)) is away  # met outside a view


def test_an_unmigrated_database_is_a_logged_500_not_a_503(tmp_path, caplog):
    app = create_app({**LIMITED, "SECRET_KEY": "test-secret-key",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'empty.sqlite3'}"},
                     instance_path=str(tmp_path / "instance"))
    client = app.test_client()
    with caplog.at_level(logging.WARNING):
        page = client.get(UNKNOWN_BADGE)
        assert page.status_code == 500 and page_code(page) == "500" and "Retry-After" not in page.headers
        assert error_of(client.get(UNKNOWN_BADGE, headers=JSON), 500) == "server_error"
    faults = [record for record in caplog.records if record.levelno >= logging.ERROR and record.exc_info]
    assert faults and "no such table" in str(faults[0].exc_info[1])
    assert not any("database unavailable" in record.getMessage() for record in caplog.records)
    with app.app_context():
        db.engine.dispose()

