"""POST /api/v1/scans and its undo: the same connect() and scans.undo() as the pages, a client id
recorded once (also when eight identical sends race, on both databases), refusals by code."""
import re
import threading
import uuid
from datetime import timedelta

from sqlalchemy import func, select

from kithmeet.connections import scans
from kithmeet.connections import services as connections
from kithmeet.connections.models import Connection, Encounter, Scan
from kithmeet.database import utcnow
from kithmeet.events import services as events
from kithmeet.extensions import db

from ..postgres import BOTH_DATABASES
from .conftest import code_of


def new_id():
    return str(uuid.uuid4())


def count(model):
    db.session.expire_all()
    return db.session.scalar(select(func.count(model.id)))


def test_a_scan_connects_and_answers_the_card_and_the_connection(night, bearer):
    _, ada, bo = night
    client_id = new_id()
    response = bearer(ada).post("/api/v1/scans", {"client_id": client_id, "badge": bo.badge_token,
                                                  "talked_about": "Rust at the edge"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["scan"] == {"client_id": client_id, "undone": False, "created": True,
                            "scanned_at": body["scan"]["scanned_at"]}
    assert body["person"] == {"name": "Bo Lind", "headline": "", "prompts": [
        {"label": night[0].prompt_labels[0], "answer": "Rust"}]}
    assert body["connection"]["talked_about"] == "Rust at the edge"
    assert body["connection"]["contacts"] == [{"kind": "phone", "label": "Phone", "value": "+44 20 7946 0958"}]
    assert count(Connection) == 1 and count(Scan) == 1


def test_the_badge_may_be_typed_with_spaces_and_dashes_or_be_its_link_in_any_case(app, night, bearer):
    _, ada, bo = night
    app.config["PUBLIC_URL"] = "https://meet.example.org"
    api = bearer(ada)
    token = bo.badge_token
    for badge in (f"{token[:4]} {token[4:8]}-{token[8:]}".lower(), f"https://MEET.example.org/b/{token.lower()}",
                  f"HTTPS://MEET.EXAMPLE.ORG/B/{token}", f"http://localhost/B/{token}"):
        response = api.post("/api/v1/scans", {"client_id": new_id(), "badge": badge})
        assert response.status_code == 201, badge
    assert count(Connection) == 1 and count(Scan) == 4


def test_a_badge_link_of_another_host_or_scheme_is_no_badge(app, night, bearer):
    _, ada, bo = night
    app.config["PUBLIC_URL"] = "https://meet.example.org"
    api, token = bearer(ada), bo.badge_token
    for badge in (f"https://evil.example/B/{token}", f"javascript:alert(1)//B/{token}",
                  f"https://meet.example.org.evil.example/B/{token}", f"data:text/html,/B/{token}"):
        response = api.post("/api/v1/scans", {"client_id": new_id(), "badge": badge})
        assert (response.status_code, code_of(response)) == (404, "unknown_badge"), badge
    assert count(Scan) == 0 and count(Connection) == 0


def test_the_same_client_id_again_records_once_and_adds_only_its_words(night, bearer):
    _, ada, bo = night
    api, client_id = bearer(ada), new_id()
    assert api.post("/api/v1/scans", {"client_id": client_id, "badge": bo.badge_token}).status_code == 201
    again = api.post("/api/v1/scans", {"client_id": client_id, "badge": bo.badge_token, "talked_about": "Bikes"})
    assert again.status_code == 200
    assert again.get_json()["scan"]["created"] is False
    assert again.get_json()["connection"]["talked_about"] == "Bikes"
    assert count(Scan) == 1 and count(Encounter) == 1


def test_a_client_id_of_another_scan_is_refused_not_recorded_elsewhere(night, make_person, bearer):
    event, ada, bo = night
    cy = make_person("Cy", event=event)
    client_id = new_id()
    assert bearer(ada).post("/api/v1/scans", {"client_id": client_id, "badge": bo.badge_token}).status_code == 201
    other_badge = bearer(ada).post("/api/v1/scans", {"client_id": client_id, "badge": cy.badge_token})
    other_scanner = bearer(cy).post("/api/v1/scans", {"client_id": client_id, "badge": bo.badge_token})
    assert (other_badge.status_code, code_of(other_badge)) == (409, "client_id_taken")
    assert (other_scanner.status_code, code_of(other_scanner)) == (409, "client_id_taken")
    assert count(Scan) == 1 and count(Connection) == 1


@BOTH_DATABASES
def test_a_client_id_claimed_by_another_scan_while_this_one_is_checked_is_refused(night, make_person, bearer,
                                                                                 monkeypatch):
    """The id is claimed inside the service's transaction: a scan taking it in between (here, while
    the event is looked up) makes this send 409 with nothing written, never a connection made and
    recorded under an id its client does not know, and every retry says the same."""
    event, ada, bo = night
    cy = make_person("Cy", event=event)
    client_id, where = new_id(), connections._where_and_when

    def racing(*args):
        monkeypatch.setattr(connections, "_where_and_when", where)
        connections.connect(cy, ada.badge_token, client_id=client_id)  # commits first, with the same id
        return where(*args)
    monkeypatch.setattr(connections, "_where_and_when", racing)
    api = bearer(ada)
    raced = api.post("/api/v1/scans", {"client_id": client_id, "badge": bo.badge_token, "talked_about": "Bikes"})
    assert (raced.status_code, code_of(raced)) == (409, "client_id_taken")
    retry = api.post("/api/v1/scans", {"client_id": client_id, "badge": bo.badge_token})
    assert (retry.status_code, code_of(retry)) == (409, "client_id_taken")
    assert count(Scan) == 1 and count(Connection) == 1  # Cy's alone
    assert db.session.scalar(select(Scan.scanner_id)) == cy.id


def test_refusals_answer_their_codes_and_record_nothing(night, make_event, make_person, bearer):
    event, ada, bo = night
    elsewhere = make_person("Di", event=make_event(name="Elsewhere", series_name="Elsewhere"))
    api = bearer(ada)
    cases = [({"badge": ada.badge_token}, 400, "self_scan"),
             ({"badge": "ZZZZZZZZZZZ"}, 404, "unknown_badge"),
             ({"badge": elsewhere.badge_token}, 400, "not_at_event"),
             ({"badge": bo.badge_token, "talked_about": "x" * 1001}, 400, "too_long"),
             ({"badge": bo.badge_token, "talked_about": "a\u202eb"}, 400, "control_characters"),
             ({"badge": bo.badge_token, "scanned_at": "yesterday"}, 400, "bad_time"),
             ({"badge": bo.badge_token, "scanned_at": "2026-11-26T19:30:00"}, 400, "bad_time"),  # no offset
             ({"badge": "x" * 301}, 400, "too_long")]
    for fields, status, code in cases:
        response = api.post("/api/v1/scans", {"client_id": new_id(), **fields})
        assert (response.status_code, code_of(response)) == (status, code), fields
    assert count(Scan) == 0 and count(Connection) == 0


def test_a_scan_made_while_the_event_was_open_counts_after_it_closed(night, bearer):
    event, ada, bo = night
    made = utcnow() - timedelta(minutes=5)
    events.set_status(_organizer(event), event.public_id, "closed")
    response = bearer(ada).post("/api/v1/scans", {"client_id": new_id(), "badge": bo.badge_token,
                                                  "scanned_at": made.isoformat() + "+00:00"})
    assert response.status_code == 201
    late = bearer(ada).post("/api/v1/scans", {"client_id": new_id(), "badge": bo.badge_token,
                                              "scanned_at": utcnow().isoformat() + "Z"})
    assert (late.status_code, code_of(late)) == (400, "event_closed")


def _organizer(event):
    from kithmeet.organizer.models import Organizer

    return db.session.get(Organizer, event.series.organizer_id)


def test_undo_takes_the_connection_back_and_a_replay_is_refused(night, bearer):
    _, ada, bo = night
    api, client_id = bearer(ada), new_id()
    api.post("/api/v1/scans", {"client_id": client_id, "badge": bo.badge_token})
    undone = api.post(f"/api/v1/scans/{client_id}/undo")
    assert undone.status_code == 200 and undone.get_json()["scan"]["undone"] is True
    assert api.post(f"/api/v1/scans/{client_id}/undo").status_code == 200  # twice is fine
    assert count(Connection) == 0
    replay = api.post("/api/v1/scans", {"client_id": client_id, "badge": bo.badge_token})
    assert (replay.status_code, code_of(replay)) == (409, "scan_undone")
    assert api.get(f"/api/v1/scans/{client_id}").get_json()["scan"]["undone"] is True


def test_undo_of_someone_elses_scan_or_a_late_one_is_refused(night, bearer):
    _, ada, bo = night
    client_id = new_id()
    bearer(ada).post("/api/v1/scans", {"client_id": client_id, "badge": bo.badge_token})
    theirs = bearer(bo).post(f"/api/v1/scans/{client_id}/undo")
    assert (theirs.status_code, code_of(theirs)) == (404, "unknown_scan")
    assert bearer(bo).get(f"/api/v1/scans/{client_id}").status_code == 404
    assert bearer(ada).get("/api/v1/scans/not a client id").status_code == 404
    db.session.execute(Scan.__table__.update().values(created_at=utcnow() - scans.UNDO_WINDOW * 2))
    db.session.commit()
    late = bearer(ada).post(f"/api/v1/scans/{client_id}/undo")
    assert (late.status_code, code_of(late)) == (400, "undo_too_late")
    assert count(Connection) == 1


def test_the_scan_page_s_session_needs_its_csrf_header(night, session_api):
    _, ada, bo = night
    refused = session_api(ada, csrf=False).post("/api/v1/scans", {"client_id": new_id(), "badge": bo.badge_token})
    assert (refused.status_code, code_of(refused)) == (400, "csrf")
    assert count(Scan) == 0
    assert session_api(ada).post("/api/v1/scans", {"client_id": new_id(), "badge": bo.badge_token}).status_code == 201


@BOTH_DATABASES
def test_eight_identical_sends_at_once_record_one_scan(app, night, bearer):
    _, ada, bo = night
    apis = [bearer(ada) for _ in range(8)]
    body = {"client_id": new_id(), "badge": bo.badge_token, "talked_about": "Same words"}
    barrier, statuses = threading.Barrier(len(apis)), [None] * len(apis)

    def send(index):
        barrier.wait()
        statuses[index] = apis[index].post("/api/v1/scans", body).status_code

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(apis))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [200] * 7 + [201], statuses  # exactly one send recorded it
    assert count(Scan) == 1 and count(Connection) == 1 and count(Encounter) == 1
    assert db.session.scalar(select(Encounter.talked_about)) == "Same words"


def test_the_page_s_csrf_meta_is_the_token_the_api_takes(night, signed_in, client):
    _, ada, bo = night
    browser = signed_in(ada)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', browser.get("/badge").get_data(as_text=True))
    response = browser.post("/api/v1/scans", json={"client_id": new_id(), "badge": bo.badge_token},
                            headers={"X-CSRFToken": token.group(1)})
    assert response.status_code == 201
    assert 'name="csrf-token"' not in client.get("/").get_data(as_text=True)  # a visitor's page opens no session


# POST /api/v1/scans through a signed-in session, a first scan (the rate limits off, as in these
# tests; on, their count is one more): 1. the session, 2. the person, 3. the badge's owner,
# 4. whether the client id was recorded before, 5. where the scan counts (events.scan_places.scan_place) with
# the pair's connection joined on; 6-10. the one write transaction (as on the scan page:
# tests/connections/test_request_cost.py); then the answer, from what the write left
# (connections.services.Recorded: the connection is named by it, not read; the commit keeps the
# person loaded) and one connection_page: 11-17. the entry (side and connection, the other
# person, their contacts and answers, the encounters with their events, the contact rule, the
# draft), 18. the event's prompts for the card. The scan is not read back, and the person
# scanned and their event come from the entry.
API_SCAN_STATEMENTS = 18


def test_a_scan_costs_the_same_few_statements_however_many_people_they_met(
        night, make_person, session_api, count_queries):
    event, ada, bo = night
    cy = make_person("Cy", event=event)
    api = session_api(ada)
    api.csrf_token()
    badges = {"bo": bo.badge_token, "cy": cy.badge_token}
    with count_queries() as few:
        first = api.post("/api/v1/scans", {"client_id": new_id(), "badge": badges["bo"]})
    assert first.status_code == 201 and first.get_json()["person"]["name"] == "Bo Lind"
    for i in range(12):
        other = make_person(f"P{i}", event=event)
        connections.connect(other, badges["cy"], talked_about=f"met {i}")
        connections.connect(ada, other.badge_token)
    with count_queries() as many:
        later = api.post("/api/v1/scans", {"client_id": new_id(), "badge": badges["cy"]})
    assert later.status_code == 201 and later.get_json()["connection"]["person"]["name"] == "Cy"
    summary = [" ".join(statement.split())[:80] for statement in many]
    assert len(few) == len(many) == API_SCAN_STATEMENTS, summary
