"""Memory across events: scanning someone you met before shows, above the connect form, each
earlier encounter (event, date, its own line), newest first; meeting again is an encounter of
its own; and every meeting marks both sides touched (what reconnect today starts from)."""
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from kithmeet.connections import services as connections
from kithmeet.connections.models import ConnectionSide, Encounter
from kithmeet.database import utcnow
from kithmeet.errors import DomainError
from kithmeet.events import services as events
from kithmeet.extensions import db
from kithmeet.people import services as people
from kithmeet.people.profile import Profile


@pytest.fixture
def weekly(make_organizer, make_event, make_person):
    """Ada and Bo met at Week 1 ("your pets"); Week 1 closed; Bo checked in at Week 2.
    next_week(n) closes the current week and checks Bo in at Week n."""
    organizer = make_organizer()
    current = {"event": make_event(organizer, name="Week 1")}
    ada, bo = make_person("Ada", event=current["event"]), make_person("Bo", event=current["event"])
    connections.connect(ada, bo.badge_token, talked_about="your pets")

    def next_week(number):
        events.set_status(organizer, current["event"].public_id, "closed")
        current["event"] = make_event(organizer, name=f"Week {number}")
        people.join_event(current["event"], Profile(name="Bo"), person=bo)
        return current["event"]
    next_week(2)
    return ada, bo, next_week


def memory(html):
    """[(event name, date, line or None)] as the scan page's memory lists them, in order."""
    section = re.search(r'<section class="card memory".*?</section>', html, re.DOTALL)
    if section is None:
        return []
    return [(name, day, line) for name, day, line in (
        (m.group(1), m.group(2), m.group(3))
        for m in re.finditer(r'<li class="memory-encounter"><p class="meta"><bdi>([^<]*)</bdi> · '
                             r'<time datetime="([\d-]+)">.*?</p>\s*(?:<p class="prewrap talked-about" dir="auto">'
                             r'<span class="visually-hidden">You talked about: </span>([^<]*)</p>|<p class="meta '
                             r'talked-about-empty">)', section.group(0), re.DOTALL))]


def test_meeting_again_is_its_own_encounter_with_its_own_line(weekly):
    ada, bo, _ = weekly
    connection, created = connections.connect(bo, ada.badge_token, talked_about="your new job")
    assert not created
    encounters = connections.encounters_of(connection)
    assert [(e.event.name, e.talked_about) for e in encounters] == [("Week 2", "your new job"),
                                                                     ("Week 1", "your pets")]
    assert db.session.scalar(select(db.func.count(Encounter.id))) == 2


def test_the_scan_page_remembers_above_the_connect_form(weekly, signed_in):
    ada, bo, _ = weekly
    client = signed_in(bo)
    html = client.get(f"/B/{ada.badge_token}").get_data(as_text=True)
    remembered = memory(html)
    assert [(name, line) for name, _, line in remembered] == [("Week 1", "your pets")]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", remembered[0][1])
    assert html.index('class="card memory"') < html.index('<form method="post"')
    # Tonight's meeting, with its own line: newest first, each line on its own.
    response = client.submit(f"/B/{ada.badge_token}", data={"talked_about": "your new job", "client_id": "w2"})
    assert response.status_code == 302
    html = client.get(f"/B/{ada.badge_token}").get_data(as_text=True)
    assert [(name, line) for name, _, line in memory(html)] == [("Week 2", "your new job"), ("Week 1", "your pets")]
    assert "(tonight)" in html.split("Week 1")[0]  # Week 2 is tonight, Week 1 is not


def test_an_encounter_without_words_says_so(weekly, signed_in):
    ada, bo, _ = weekly
    connections.connect(bo, ada.badge_token)
    html = signed_in(bo).get(f"/B/{ada.badge_token}").get_data(as_text=True)
    assert [(name, line) for name, _, line in memory(html)] == [("Week 2", None), ("Week 1", "your pets")]


def test_someone_never_met_has_no_memory(make_event, make_person, signed_in):
    event = make_event()
    ada, bo = make_person("Ada", event=event), make_person("Bo", event=event)
    html = signed_in(bo).get(f"/B/{ada.badge_token}").get_data(as_text=True)
    assert memory(html) == [] and 'class="card memory"' not in html


def test_the_scan_page_is_a_fixed_number_of_queries_however_often_they_met(weekly, signed_in, count_queries):
    ada, bo, next_week = weekly
    client, page = signed_in(bo), f"/B/{ada.badge_token}"
    client.get(page)
    with count_queries() as once:
        html = client.get(page).get_data(as_text=True)
    assert len(memory(html)) == 1
    for number in range(2, 6):
        if number > 2:
            next_week(number)
        connections.connect(bo, ada.badge_token, talked_about=f"week {number}")
    with count_queries() as often:
        html = client.get(page).get_data(as_text=True)
    assert len(memory(html)) == 5
    assert len(once) == len(often)


def sides(connection):
    db.session.expire_all()
    return {side.person_id: side for side in db.session.scalars(
        select(ConnectionSide).where(ConnectionSide.connection_id == connection.id))}


def a_week_on():
    """A week on from today: a fixed date would one day fall before the events the fixture opens now."""
    return utcnow().replace(microsecond=0) + timedelta(days=7)


def test_every_meeting_touches_both_sides(weekly, monkeypatch):
    ada, bo, _ = weekly
    connection = connections.connection_between(ada.id, bo.id)
    # Untouched for long, on both sides (set directly: only a meeting, an edit or Done touches).
    db.session.execute(db.update(ConnectionSide).where(ConnectionSide.connection_id == connection.id)
                       .values(touched_at=datetime(2026, 1, 1)))
    db.session.commit()
    met_again = a_week_on()
    monkeypatch.setattr(connections, "utcnow", lambda: met_again)
    connections.connect(bo, ada.badge_token, talked_about="week two")
    assert {side.touched_at for side in sides(connection).values()} == {met_again}


def test_a_refused_meeting_touches_nothing(weekly, monkeypatch):
    ada, bo, _ = weekly
    connection = connections.connection_between(ada.id, bo.id)
    before = {person_id: side.touched_at for person_id, side in sides(connection).items()}
    later = a_week_on()
    monkeypatch.setattr(connections, "utcnow", lambda: later)
    with pytest.raises(DomainError) as error:
        connections.connect(bo, ada.badge_token, talked_about="x" * 1001)
    assert error.value.code == "too_long"
    assert {person_id: side.touched_at for person_id, side in sides(connection).items()} == before
