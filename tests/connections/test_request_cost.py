"""What the scan page and a connect cost: a fixed, small number of SQL statements per request,
however many people the two have met, counted with the rate limits on (their count is one of
them). The numbers are the budget: a change that adds a statement updates the number and the
list beside it together."""
import re

import pytest

from kithmeet import ratelimit_storage
from kithmeet.connections import services as connections

# GET /B/<token>, signed in, someone else's badge:
#   1. the session, 2. the viewer (auth.current_person), 3. the lookup limit's count,
#   4. the badge's owner with their prompt answers (the card), 5. the viewer's event for a scan
#   now, whether the viewer was removed from it, whether the owner was taken off it and is checked
#   in there (events.scan_places.scan_place: one query), with the id of the pair's connection joined on,
#   6. the banner's count of unseen connections. No contact rule's statement: with no connection
#   between them it lets nothing through (contacts.visible_contacts, connected=False).
SCAN_PAGE_STATEMENTS = 6
# Once they are connected, also: the connection (by the id scan_place read), the contact fields
# the rule lets through (contacts.visible_contacts), both sides of the connection (consent.sides)
# and every encounter with its event (services.encounters_of).
SCAN_PAGE_CONNECTED_STATEMENTS = 10
# POST /B/<token>, a first connect:
#   1-3 as above, 4. the badge's owner (once: the service is handed it), 5. whether the client id
#   was recorded before, 6. where the scan counts (events.scan_places.scan_place) with the pair's connection;
#   then the one write transaction, each statement built once (connections.services._writes):
#   7. the scan, 8. the connection, 9. both sides (one statement), 10. the encounter, 11. the
#   scan's result (words go in with the encounter it makes; words for an encounter from before
#   also read and rewrite it, and a private note the scanner's side: notes.py).
#   Nothing after it: the commit keeps the viewer loaded, and the "You're connected" rides on the
#   redirect (?done=), not in a stored flash.
CONNECT_STATEMENTS = 11


@pytest.fixture(autouse=True)
def no_purge_now_and_then(monkeypatch):
    # One count in a hundred also purges expired counts (ratelimit_storage.PURGE_CHANCE): a
    # statement that is not the page's, which made these counts fail now and then.
    monkeypatch.setattr(ratelimit_storage, "PURGE_CHANCE", 0)


@pytest.fixture
def app_config():
    # The real rate limits (stored in the database, as in production), high enough not to refuse.
    return {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "kithmeet+db://",
            "RATELIMIT_SCAN": "1000 per minute", "RATELIMIT_LOOKUP": "1000 per minute"}


def summary(statements):
    return [" ".join(statement.split())[:80] for statement in statements]


def met(person, others, event):
    for other in others:
        connections.connect(other, person.badge_token, talked_about=f"met {other.name}")


def csrf_of(html):
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def test_the_scan_page_costs_the_same_few_statements_however_many_people_they_met(
        make_event, make_person, signed_in, count_queries):
    event = make_event()
    ada, bo = make_person("Ada", event=event), make_person("Bo", event=event)
    cy, di = make_person("Cy", event=event), make_person("Di", event=event)
    connections.connect(bo, cy.badge_token)
    client = signed_in(bo)
    pages = {name: f"/B/{person.badge_token}" for name, person in (("ada", ada), ("cy", cy), ("di", di))}
    client.get(pages["ada"])  # the first page after signing in stores the session's form token
    with count_queries() as stranger:
        assert client.get(pages["ada"]).status_code == 200
    with count_queries() as connected:
        assert 'data-state="connected"' in client.get(pages["cy"]).get_data(as_text=True)
    met(bo, [make_person(f"P{i}", event=event) for i in range(15)], event)
    met(cy, [make_person(f"Q{i}", event=event) for i in range(15)], event)
    with count_queries() as stranger_later:
        client.get(pages["di"])
    with count_queries() as connected_later:
        assert 'data-state="connected"' in client.get(pages["cy"]).get_data(as_text=True)
    assert len(stranger) == len(stranger_later) == SCAN_PAGE_STATEMENTS, summary(stranger_later)
    assert len(connected) == len(connected_later) == SCAN_PAGE_CONNECTED_STATEMENTS, summary(connected_later)


def test_a_connect_costs_the_same_few_statements_however_many_people_they_met(
        make_event, make_person, signed_in, count_queries):
    event = make_event()
    bo = make_person("Bo", event=event)
    first, later = make_person("Ada", event=event), make_person("Cy", event=event)
    client = signed_in(bo)
    token = csrf_of(client.get(f"/B/{first.badge_token}").get_data(as_text=True))
    with count_queries() as few:
        response = client.post(f"/B/{first.badge_token}", data={"csrf_token": token, "client_id": "first-scan"})
    assert response.status_code == 302 and response.location == f"/B/{first.badge_token}?done=connected"
    met(bo, [make_person(f"P{i}", event=event) for i in range(15)], event)
    met(later, [make_person(f"Q{i}", event=event) for i in range(15)], event)
    page = f"/B/{later.badge_token}"  # read before counting
    with count_queries() as many:
        response = client.post(page, data={"csrf_token": token, "client_id": "later-scan"})
    assert response.status_code == 302
    assert "You&#39;re connected." in client.get(response.location).get_data(as_text=True)
    assert len(few) == len(many) == CONNECT_STATEMENTS, (summary(few), summary(many))
    # One write transaction for the connect itself: its writes are contiguous, after the reads
    # that decide it, and the last statement of the request (no session write after it).
    writes = [i for i, statement in enumerate(many) if statement.lstrip().upper().startswith(("INSERT", "UPDATE"))
              and "rate_limit_counter" not in statement and "web_session" not in statement]
    assert writes == [6, 7, 8, 9, 10] and len(many) == CONNECT_STATEMENTS, summary(many)


def test_every_statement_of_the_hot_pages_is_compiled_once_per_process(make_event, make_person, signed_in, app):
    """SQLAlchemy compiles a statement once and keeps it by its cache key; one without a key
    (a multi-row VALUES is one) is compiled again on every request, at the cost of running
    several. Each page is asked once first, so what it compiles the first time is kept."""
    from sqlalchemy import event as sa_event
    from sqlalchemy.engine.default import CacheStats

    from kithmeet.extensions import db

    event = make_event()
    bo, hub = make_person("Bo", event=event), make_person("Hub", event=event)
    people = [make_person(f"P{i}", event=event) for i in range(4)]
    met(hub, people[:2], event)
    client, hub_client = signed_in(bo), signed_in(hub)
    token = csrf_of(client.get(f"/B/{people[0].badge_token}").get_data(as_text=True))

    def pages(round_):
        target = people[round_ + 2]
        assert client.get(f"/B/{target.badge_token}").status_code == 200
        assert client.post(f"/B/{target.badge_token}", data={"csrf_token": token, "client_id": f"c{round_}"}
                           ).status_code == 302
        assert client.get(f"/B/{target.badge_token}").status_code == 200  # connected now
        assert hub_client.get("/followup").status_code == 200

    pages(0)
    compiled = []

    def keep(_conn, _cursor, statement, _parameters, context, _executemany):
        if context.cache_hit is not CacheStats.CACHE_HIT:
            compiled.append((context.cache_hit.name, " ".join(statement.split())[:80]))
    sa_event.listen(db.engine, "before_cursor_execute", keep)
    try:
        pages(1)
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", keep)
    assert compiled == []


def test_a_first_connect_with_words_writes_them_with_the_encounter_it_makes(
        make_event, make_person, signed_in, count_queries):
    from kithmeet.connections.models import Encounter
    from kithmeet.extensions import db

    event = make_event()
    bo, ada = make_person("Bo", event=event), make_person("Ada", event=event)
    client = signed_in(bo)
    token = csrf_of(client.get(f"/B/{ada.badge_token}").get_data(as_text=True))
    with count_queries() as statements:
        response = client.post(f"/B/{ada.badge_token}", data={"csrf_token": token, "client_id": "worded",
                                                                "talked_about": "Bikes <b>and</b> 🚲"})
    assert response.status_code == 302
    # No read and rewrite of the encounter just made: the same statements as a connect without words.
    assert len(statements) == CONNECT_STATEMENTS, summary(statements)
    assert db.session.scalars(db.select(Encounter.talked_about)).all() == ["Bikes <b>and</b> 🚲"]
