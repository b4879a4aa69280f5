"""The "connected with you" check (connections/news.py, GET /api/v1/news): what a person's open
home or badge page asks every few seconds. Right counts and names, one indexed statement per
check on both databases, ETags, no session, no rate limit in the way, and tokens that stop
working when they should."""
import importlib.util
import pathlib
import re
import time
from datetime import timedelta

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select

from kithmeet.connections import consent, news
from kithmeet.database import utcnow
from kithmeet.connections import services as connections
from kithmeet.extensions import db
from kithmeet.people import erasure
from kithmeet.people import services as people
from kithmeet.ratelimit_storage import RateLimitCounter
from kithmeet.sessions import WebSession

from ..plans import plan, statements_run
from ..postgres import BOTH_DATABASES

URL = "/api/v1/news"
HEADER = "X-Kithmeet-News"
TOKEN = re.compile(r'data-news-token="([^"]+)"')


@pytest.fixture
def app_config():
    # The real limiter, counting in the app's own database (the default on PostgreSQL): a check
    # must cost no statement for it and never be refused, however often the page asks.
    return {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "kithmeet+db://"}


@pytest.fixture
def night(make_event, make_person):
    """Ada, Bo and Cy at an open event; nobody has connected yet."""
    event = make_event()
    return event, make_person("Ada", event=event), make_person("Bo", event=event), make_person("Cy", event=event)


def ask(client, token, etag=None):
    headers = {HEADER: token}
    if etag:
        headers["If-None-Match"] = etag
    return client.get(URL, headers=headers)


def answer(client, person):
    response = ask(client, news.token_for(person))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_who_connected_with_you_newest_first(night, client):
    _, ada, bo, cy = night
    assert answer(client, ada) == {"count": 0, "latest": None}
    with_bo, _ = connections.connect(bo, ada.badge_token)
    assert answer(client, ada) == {"count": 1, "latest": {"name": "Bo", "connection": with_bo.public_id,
                                                          "url": f"/followup/{with_bo.public_id}"}}
    assert answer(client, bo) == {"count": 0, "latest": None}  # the scanner knows already
    with_cy, _ = connections.connect(cy, ada.badge_token)
    assert answer(client, ada)["count"] == 2
    assert answer(client, ada)["latest"]["name"] == "Cy"
    consent.keep(ada, with_cy.public_id)  # seen: no longer news, and Bo's is the newest again
    assert answer(client, ada) == {"count": 1, "latest": {"name": "Bo", "connection": with_bo.public_id,
                                                          "url": f"/followup/{with_bo.public_id}"}}
    assert answer(client, ada)["count"] == consent.pending_count(ada)


def test_a_scan_synced_late_is_named_though_it_was_made_earlier(night, client):
    """An offline phone's scan arrives after another one made later: it is the news, not the other."""
    _, ada, bo, cy = night
    connections.connect(bo, ada.badge_token)
    made_earlier = utcnow() - timedelta(minutes=30)
    with_cy = connections.connect_scan(cy, ada.badge_token, client_id="late-from-cy", scanned_at=made_earlier).connection
    assert answer(client, ada)["latest"] == {"name": "Cy", "connection": with_cy.public_id,
                                             "url": f"/followup/{with_cy.public_id}"}


def test_removed_blocked_and_meeting_again_after_keeping_are_not_news(night, client):
    _, ada, bo, cy = night
    with_bo, _ = connections.connect(bo, ada.badge_token)
    with_cy, _ = connections.connect(cy, ada.badge_token)
    consent.remove(ada, with_bo.public_id)
    consent.block(ada, with_cy.public_id)
    connections.connect(cy, ada.badge_token)  # a blocked person's scan changes nothing she sees
    assert answer(client, ada) == {"count": 0, "latest": None}


def test_a_deleted_accounts_connection_has_no_name(night, client):
    _, ada, bo, _ = night
    with_bo, _ = connections.connect(bo, ada.badge_token)
    erasure.delete_account(bo, "DELETE")
    found = answer(client, ada)
    assert found["count"] == consent.pending_count(ada) == 1
    assert found["latest"] == {"name": None, "connection": with_bo.public_id, "url": f"/followup/{with_bo.public_id}"}


@BOTH_DATABASES
def test_a_check_is_one_statement_in_all(night, signed_in, count_queries):
    _, ada, bo, cy = night
    connections.connect(bo, ada.badge_token)
    connections.connect(cy, ada.badge_token)
    client = signed_in(ada)  # a browser that sends its session cookie along: the session is not read
    token = news.token_for(ada)
    ask(client, token)  # the first request of a process loads what it needs once
    with count_queries() as statements:
        response = ask(client, token)
    assert response.status_code == 200 and response.get_json()["count"] == 2
    assert len(statements) == 1, statements
    assert "connection_side" in statements[0] and "web_session" not in statements[0]
    with count_queries() as statements:
        assert ask(client, token, response.headers["ETag"]).status_code == 304
    assert len(statements) == 1, statements


@BOTH_DATABASES
def test_the_check_finds_its_rows_by_index(night, app):
    _, ada, bo, _ = night
    connections.connect(bo, ada.badge_token)
    token = news.token_for(ada)
    with statements_run() as seen:
        news.check(token)
    [(statement, parameters)] = seen
    found = plan(statement, parameters)
    # By an index of the person's sides (all, or those still listed).
    assert re.search("ix_connection_side_(person_id|listed)", found), found
    if db.engine.dialect.name == "sqlite":
        # Every table is searched by key or index; the only scan is of the window's own rows.
        assert not re.search(r"SCAN (person|connection)", found), found
    else:
        assert "Seq Scan" not in found, found
    db.session.rollback()


def test_etag_answers_304_with_no_body_until_something_changes(night, client):
    _, ada, bo, cy = night
    token = news.token_for(ada)
    first = ask(client, token)
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")  # strong
    assert first.headers["Cache-Control"] == "no-store"
    unchanged = ask(client, token, etag)
    assert unchanged.status_code == 304 and unchanged.data == b""
    assert unchanged.headers["ETag"] == etag and unchanged.headers["Cache-Control"] == "no-store"
    connections.connect(bo, ada.badge_token)
    changed = ask(client, token, etag)
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert changed.get_json()["latest"]["name"] == "Bo"
    connections.connect(cy, ada.badge_token)  # another newest one: a new tag again
    assert ask(client, token, changed.headers["ETag"]).status_code == 200


def test_a_check_reads_and_writes_no_session_and_sets_no_cookie(night, signed_in):
    _, ada, _, _ = night
    client = signed_in(ada)  # a browser with a session: it must not be touched either
    sessions_before = db.session.scalar(select(func.count()).select_from(WebSession))
    response = ask(client, news.token_for(ada))
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    assert db.session.scalar(select(func.count()).select_from(WebSession)) == sessions_before


def test_without_the_header_the_session_signs_in(night, signed_in, client):
    _, ada, bo, _ = night
    connections.connect(bo, ada.badge_token)
    response = signed_in(ada).get(URL)
    assert response.status_code == 200 and response.get_json()["latest"]["name"] == "Bo"
    refused = client.get(URL)
    assert refused.status_code == 401 and refused.get_json()["error"]["code"] == "sign_in_required"


def test_the_limiter_never_refuses_or_counts_the_poller(night, client):
    _, ada, _, _ = night
    token = news.token_for(ada)
    etag = ask(client, token).headers["ETag"]
    # More than any per-minute limit the app has (badge look-ups allow 120).
    statuses = {ask(client, token, etag).status_code for _ in range(150)}
    assert statuses == {304}
    assert db.session.scalar(select(func.count()).select_from(RateLimitCounter)) == 0


def refused_code(client, token):
    response = ask(client, token)
    assert response.status_code == 401, response.get_data(as_text=True)
    return response.get_json()["error"]["code"]


def test_a_token_from_signing_out_everywhere_before_is_refused(night, client):
    _, ada, _, _ = night
    token = news.token_for(ada)
    people.sign_out_everywhere(ada)
    assert refused_code(client, token) == "sign_in_required"
    assert ask(client, news.token_for(ada)).status_code == 200  # the page drawn since has a new one


def test_an_expired_token_is_refused(night, client, monkeypatch, app):
    _, ada, _, _ = night
    hours = app.config["NEWS_TOKEN_HOURS"]
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - hours * 3600 - 60)
    old = news.token_for(ada)
    monkeypatch.undo()
    assert refused_code(client, old) == "news_token_expired"


def test_a_deleted_persons_token_is_refused(night, client):
    _, ada, _, _ = night
    token = news.token_for(ada)
    erasure.delete_account(ada, "DELETE")
    assert refused_code(client, token) == "sign_in_required"


def test_forged_and_foreign_tokens_are_refused(night, client, app, signed_in):
    _, ada, bo, _ = night
    payload = [bo.id, bo.session_generation, bo.created_at.isoformat()]
    adas = news.token_for(ada).split(".")  # payload, timestamp, signature
    bos_payload = URLSafeTimedSerializer("any").dumps(payload).split(".")[0]
    forged = [
        URLSafeTimedSerializer("another key", salt=news.SALT).dumps(payload),  # not our key
        URLSafeTimedSerializer(app.secret_key, salt="another use").dumps(payload),  # our key, signed for else
        ".".join([bos_payload, *adas[1:]]),  # Bo's person under Ada's signature
        URLSafeTimedSerializer(app.secret_key, salt=news.SALT).dumps([bo.id, bo.session_generation]),  # wrong shape
        URLSafeTimedSerializer(app.secret_key, salt=news.SALT).dumps([bo.id, bo.session_generation,
                                                                      "2001-01-01T00:00:00"]),  # another birth
        "", "garbage", "a.b.c", "x" * 5000, "Björn",
    ]
    for token in forged:
        assert refused_code(client, token) == "sign_in_required", token
    # The header, when sent, is the only credential: Bo's signed-in browser gets nothing through it.
    assert refused_code(signed_in(bo), "garbage") == "sign_in_required"


def test_the_home_and_badge_pages_carry_a_working_token(night, signed_in, client):
    _, ada, bo, _ = night
    connections.connect(bo, ada.badge_token)
    browser = signed_in(ada)
    for path in ("/", "/badge"):
        html = browser.get(path).get_data(as_text=True)
        assert f'data-news-url="{URL}"' in html and "/static/js/news." in html, path
        assert 'data-count="1"' in html, path  # the banner's count: news.js tells only what comes after
        assert ask(client, TOKEN.search(html).group(1)).get_json()["count"] == 1
    assert "data-news-token" not in client.get("/").get_data(as_text=True)  # not signed in: no polling


def test_the_benchmark_script_runs_and_counts_one_statement_a_check(capsys):
    path = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "news.py"
    spec = importlib.util.spec_from_file_location("benchmark_news", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(attendees=30, pairs=60, met=10, unseen=2, repeat=3)  # tiny: it runs, nothing is timed here
    rows = re.findall(r"^(check, .*?|news\.check .*?|304, .*?)\s+\d+\s+\d+\s+(\d+)$", capsys.readouterr().out, re.M)
    assert len(rows) == 4 and {statements for _, statements in rows} == {"1"}, rows
