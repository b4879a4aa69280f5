"""The live dashboard's numbers (events/live.py): aggregates only, a web that leads to no one,
and a constant number of queries however many people and connections."""
import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import update

from kithmeet.connections import services as connections
from kithmeet.connections.models import Encounter
from kithmeet.database import utcnow
from kithmeet.errors import DomainError, NotFound
from kithmeet.events import attendees, live
from kithmeet.events import services as events
from kithmeet.events.models import SeriesMember
from kithmeet.extensions import db

from ..postgres import BOTH_DATABASES


def crowd(make_person, event, count, prefix="P"):
    return [make_person(f"{prefix}{i}", event=event) for i in range(count)]


def ring(people):
    """Each person connects with the next: len(people) connections (a ring) when more than two."""
    for scanner, target in zip(people, people[1:] + people[:1]):
        connections.connect(scanner, target.badge_token)


@pytest.fixture
def app_config():
    # A web of one-person batches, for the tests of what it draws; the batches' own tests set 10.
    return {"LIVE_WEB_BATCH": 1}


@pytest.fixture
def organizer(make_organizer):
    return make_organizer("org@example.org")


def test_counts_check_ins_connections_and_who_came_back(organizer, make_event, make_person):
    earlier = events.create_event(organizer, name="Week 1", starts_at=datetime(2026, 11, 19, 19, 0),
                                  series_name="Thursday Gathering")
    events.set_status(organizer, earlier.public_id, "open")
    regulars = crowd(make_person, earlier, 2, "Regular")
    elsewhere = events.create_event(organizer, name="Other series", starts_at=datetime(2026, 11, 1, 19, 0),
                                    series_name="Another series")
    events.set_status(organizer, elsewhere.public_id, "open")
    stranger = make_person("Only elsewhere", event=elsewhere)
    events.set_status(organizer, earlier.public_id, "closed")
    events.set_status(organizer, elsewhere.public_id, "closed")

    tonight = make_event(organizer)  # same series, a week later
    newcomers = crowd(make_person, tonight, 3, "New")
    for person in regulars + [stranger]:
        events.check_in(person.id, tonight)
    db.session.commit()
    ring(newcomers)  # 3 connections
    connections.connect(regulars[0], regulars[1].badge_token)  # met at week 1: a 4th meeting tonight

    numbers = live.live(tonight)
    assert (numbers.checked_in, numbers.connections, numbers.new, numbers.returning) == (6, 4, 4, 2)
    # Week 1 is not counted with tonight's, and someone who came later is not "returning" there.
    assert (live.live(earlier).checked_in, live.live(earlier).returning, live.live(earlier).connections) == (2, 0, 0)


def test_the_web_has_a_dot_per_attendee_and_a_line_per_pair_and_nothing_that_names_them(
        organizer, make_event, make_person):
    event = make_event(organizer)
    people = crowd(make_person, event, 5)
    ring(people[:4])
    numbers = live.live(event)
    assert len(numbers.dots) == 5 and len(set(numbers.dots)) == 5
    assert len(numbers.lines) == 4 and all(i < j < 5 for i, j in numbers.lines)
    assert list(numbers.dots) == sorted(numbers.dots)  # ordered by place, not by id or check-in
    # The same places on every refresh of one state, so the picture holds still.
    assert live.live(event).dots == numbers.dots
    text = json.dumps(numbers.as_json())
    for person in people:
        assert person.name not in text and person.badge_token not in text
        assert attendees.attendee_key(event, person.id) not in text


def test_a_persons_dot_is_not_where_it_was_at_another_event_or_under_another_key(
        app, organizer, make_event, make_person):
    first = make_event(organizer)
    ada = make_person("Ada", event=first)
    second = make_event(organizer, name="Week 2")
    events.check_in(ada.id, second)
    db.session.commit()
    assert live.live(first).dots != live.live(second).dots
    place = live.live(first).dots
    app.config["SECRET_KEY"] = "another secret key"
    assert live.live(first).dots != place  # positions need the app's secret to recompute


def test_two_people_on_one_point_are_still_two_dots(organizer, make_event, make_person, monkeypatch):
    event = make_event(organizer)
    ada, bo = crowd(make_person, event, 2)
    connections.connect(ada, bo.badge_token)
    monkeypatch.setattr(live, "_place", lambda key, person_id: (500, 500, bytes([person_id])))
    numbers = live.live(event)
    assert numbers.dots == ((500, 500), (500, 500)) and numbers.lines == ((0, 1),)


def test_a_hidden_attendee_still_counts(organizer, make_event, make_person):
    event = make_event(organizer)
    ada, bo = crowd(make_person, event, 2)
    connections.connect(ada, bo.badge_token)
    attendees.hide(organizer, event.public_id, attendees.attendee_key(event, bo.id))
    numbers = live.live(event)
    assert (numbers.checked_in, numbers.connections, len(numbers.dots), len(numbers.lines)) == (2, 1, 2, 1)


@pytest.mark.parametrize("app_config", [{}])
def test_the_web_changes_only_in_whole_batches_each_placing_every_dot_afresh(organizer, make_event, make_person):
    event = make_event(organizer)
    first = crowd(make_person, event, 9)
    connections.connect(first[0], first[1].badge_token)
    numbers = live.live(event)
    assert (numbers.checked_in, numbers.connections, numbers.dots, numbers.lines) == (9, 1, (), ())
    first += crowd(make_person, event, 1, "Tenth")
    drawn = live.live(event)
    assert len(drawn.dots) == 10 and drawn.lines == ()  # one pair is not yet a batch of lines
    arrivals = []
    for person in crowd(make_person, event, 8, "Q"):  # arrivals a poller could match to the attendee list
        arrivals.append(person)
        connections.connect(person, first[2].badge_token)
        numbers = live.live(event)
        assert (numbers.dots, numbers.lines) == (drawn.dots, drawn.lines)
    assert (numbers.checked_in, numbers.connections) == (18, 9)  # the numbers stay live
    crowd(make_person, event, 2, "R")
    grown = live.live(event)
    assert len(grown.dots) == 20 and grown.lines == ()
    assert not set(grown.dots) & set(drawn.dots)  # nobody's dot stayed where it was
    connections.connect(arrivals[0], first[3].badge_token)  # the tenth pair: a batch of lines
    lined = live.live(event)
    assert len(lined.dots) == 20 and len(lined.lines) == 10 and not set(lined.dots) & set(grown.dots)
    crowd(make_person, event, 1, "Spare")
    assert live.live(event).dots == lined.dots  # 21 in: still two batches
    db.session.delete(first[9])  # someone erased: the next arrival takes their place in the batch
    db.session.commit()
    after = live.live(event)
    assert len(after.dots) == 20 and not set(after.dots) & set(lined.dots)  # and every dot moved


def test_connections_per_quarter_hour_in_the_series_zone(organizer, make_person):
    event = events.create_event(organizer, name="Berlin night", starts_at=datetime(2026, 11, 26, 19, 0),
                                series_name="Berlin meetup", time_zone="Europe/Berlin")
    events.set_status(organizer, event.public_id, "open")
    people = crowd(make_person, event, 4)
    ring(people)  # 4 encounters, moved below to known times
    opened = datetime(2026, 11, 26, 18, 2)  # 19:02 in Berlin (UTC+1)
    event.opened_at = opened
    moments = [datetime(2026, 11, 26, 18, 5), datetime(2026, 11, 26, 18, 14), datetime(2026, 11, 26, 18, 31),
               datetime(2026, 11, 26, 18, 59)]
    for encounter, moment in zip(db.session.scalars(db.select(Encounter).order_by(Encounter.id)), moments):
        encounter.created_at = moment
    event.status, event.closed_at = "closed", datetime(2026, 11, 26, 19, 10)
    db.session.commit()
    bars = live.live(event).bars
    assert [(bar.label, bar.count) for bar in bars] == [("19:00", 2), ("19:15", 0), ("19:30", 1), ("19:45", 1),
                                                         ("20:00", 0)]
    tallest = max(bars, key=lambda bar: bar.count)
    assert tallest.height == live.CHART_HEIGHT and all(bar.y + bar.height == live.CHART_HEIGHT for bar in bars)
    # Five quarter hours take five slots of twelve: early in the night the bars are not a wall.
    slot = live.CHART_WIDTH / live.MIN_SLOTS
    assert all(bar.width <= slot and bar.x + bar.width <= (index + 1) * slot for index, bar in enumerate(bars))


def test_a_long_night_shows_its_last_eight_hours(organizer, make_event):
    event = make_event(organizer)
    event.opened_at = utcnow() - timedelta(days=2)
    db.session.commit()
    assert len(live.live(event).bars) == live.MAX_BUCKETS
    draft = make_event(organizer, status="draft", name="Not yet")
    assert live.live(draft).bars == ()


def test_only_the_events_organizers_see_it(organizer, make_organizer, make_event):
    event = make_event(organizer)
    assert live.for_organizer(organizer, event.public_id)[0].id == event.id
    other = make_organizer()
    with pytest.raises(NotFound) as refused:
        live.for_organizer(other, event.public_id)
    assert refused.value.code == "unknown_event"
    db.session.add(SeriesMember(series_id=event.series_id, organizer_id=other.id, role="door"))
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        live.for_organizer(other, event.public_id)
    assert refused.value.code == "role_too_low"


@BOTH_DATABASES
def test_the_number_of_queries_does_not_grow_with_the_crowd(organizer, make_event, make_person, count_queries):
    def statements(size):
        event = make_event(organizer, name=f"Night of {size}")
        ring(crowd(make_person, event, size, f"N{size}-"))
        public_id = event.public_id
        db.session.expire_all()
        with count_queries() as seen:
            numbers = live.for_organizer(organizer, public_id)[1]
        assert numbers.connections == size
        return len(seen)

    # The organizer (reloaded after expire_all), the event with their role, its series, the
    # check-ins, and the pairs that met (each with its moment, which the chart counts).
    assert statements(3) == statements(24) == 5
