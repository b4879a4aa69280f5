"""The attendee list, hiding someone from an event, removing them from the series, and the
check-in CSV (events/attendees.py), with the refusals a hidden badge meets."""
import csv
import io
from datetime import datetime

import pytest
from sqlalchemy import func, select

from kithmeet.audit.models import AuditEntry
from kithmeet.connections import services as connections
from kithmeet.errors import DomainError, NotFound
from kithmeet.events import attendees, timezones
from kithmeet.events import services as events
from kithmeet.events.models import CheckIn, EventRemoval, SeriesMember
from kithmeet.extensions import db
from kithmeet.people import services as people
from kithmeet.people.profile import Profile

from ..postgres import BOTH_DATABASES


@pytest.fixture
def organizer(make_organizer):
    return make_organizer("org@example.org")


def key(event, person):
    return attendees.attendee_key(event, person.id)


def names(listing):
    return [row.name for row in listing.attendees]


def test_the_list_shows_name_headline_time_and_how_never_contacts(organizer, make_event, make_person):
    event = make_event(organizer)
    make_person("Ada", event=event, headline="Data engineer", contacts={"email": "ada@example.org"})
    make_person("Bo", event=event)
    _, listing = attendees.listing(organizer, event.public_id)
    assert names(listing) == ["Ada", "Bo"] and listing.total == 2 and listing.off_list == 0
    ada = listing.attendees[0]
    assert (ada.headline, ada.via, ada.checked_in_at.tzname()) == ("Data engineer", "join", "UTC")
    assert not hasattr(ada, "email") and "ada@example.org" not in repr(listing)


def test_search_and_pages(organizer, make_event, make_person, monkeypatch):
    monkeypatch.setattr(attendees, "PAGE_SIZE", 2)
    event = make_event(organizer)
    for name, headline in [("Ada", "Flask"), ("Bo", ""), ("Cy", "flask and more"), ("Di", "100%_sure")]:
        make_person(name, event=event, headline=headline)
    _, first = attendees.listing(organizer, event.public_id)
    _, second = attendees.listing(organizer, event.public_id, page=2)
    assert (names(first), names(second), first.pages) == (["Ada", "Bo"], ["Cy", "Di"], 2)
    assert names(attendees.listing(organizer, event.public_id, page=99)[1]) == ["Cy", "Di"]  # the last page
    assert names(attendees.listing(organizer, event.public_id, search=" FLASK ")[1]) == ["Ada", "Cy"]
    assert names(attendees.listing(organizer, event.public_id, search="%_")[1]) == ["Di"]  # not wildcards
    assert names(attendees.listing(organizer, event.public_id, search="%")[1]) == ["Di"]


@BOTH_DATABASES
def test_hiding_takes_them_off_the_list_and_their_badge_stops_connecting_there(organizer, make_event, make_person):
    event = make_event(organizer)
    ada, bo, cy = (make_person(name, event=event) for name in ("Ada", "Bo", "Cy"))
    connections.connect(ada, bo.badge_token)
    attendees.hide(organizer, event.public_id, key(event, bo))
    _, listing = attendees.listing(organizer, event.public_id)
    assert names(listing) == ["Ada", "Cy"] and listing.off_list == 1
    assert db.session.scalar(select(func.count(EventRemoval.id))) == 1
    assert db.session.scalar(select(AuditEntry.action).order_by(AuditEntry.id.desc())) == "person.hidden_from_event"
    with pytest.raises(DomainError) as refused:  # Bo scanning someone
        connections.connect(bo, cy.badge_token)
    assert refused.value.code == "hidden_from_event"
    with pytest.raises(DomainError) as refused:  # someone scanning Bo, even someone Bo met before
        connections.connect(ada, bo.badge_token)
    assert refused.value.code == "not_at_event"
    with pytest.raises(DomainError) as refused:  # checking in again
        events.check_in(bo.id, event)
    assert refused.value.code == "hidden_from_event"
    with pytest.raises(DomainError) as refused:  # joining again through the join form
        people.join_event(event, Profile(name="Bo", answers=()), person=bo)
    assert refused.value.code == "hidden_from_event"
    # Another event of the series is untouched.
    week_2 = make_event(organizer, name="Week 2")
    events.check_in(bo.id, week_2)
    events.check_in(cy.id, week_2)
    db.session.commit()
    assert connections.connect(bo, cy.badge_token)[1] is True


def test_a_hidden_person_cannot_be_hidden_twice_or_acted_on_again(organizer, make_event, make_person):
    event = make_event(organizer)
    bo = make_person("Bo", event=event)
    attendees.hide(organizer, event.public_id, key(event, bo))
    for action in (attendees.hide, attendees.remove_from_series):
        with pytest.raises(NotFound) as refused:
            action(organizer, event.public_id, key(event, bo))
        assert refused.value.code == "unknown_attendee"


def test_removing_from_the_series_from_the_list(organizer, make_event, make_person):
    event = make_event(organizer)
    ada, bo = make_person("Ada", event=event), make_person("Bo", event=event)
    attendees.remove_from_series(organizer, event.public_id, key(event, bo))
    _, listing = attendees.listing(organizer, event.public_id)
    assert names(listing) == ["Ada"]
    assert events.is_removed_from_series(bo.id, event.series_id)
    assert not events.is_checked_in(bo.id, event.id)  # the event is open: the check-in goes
    with pytest.raises(DomainError) as refused:
        events.check_in(bo.id, event)
    assert refused.value.code == "removed_from_series"
    assert db.session.scalar(select(AuditEntry.action).order_by(AuditEntry.id.desc())) == "person.removed_from_series"


def test_keys_are_per_event_and_unknown_keys_are_refused(organizer, make_event, make_person):
    event, other = make_event(organizer), make_event(organizer, name="Week 2")
    bo = make_person("Bo", event=event)
    assert key(event, bo) != key(other, bo) and str(bo.id) != key(event, bo)
    for bad in ("", "nonsense", key(other, bo), str(bo.id), "é" * 20, key(event, bo).upper()):
        with pytest.raises(NotFound) as refused:
            attendees.hide(organizer, event.public_id, bad)
        assert refused.value.code == "unknown_attendee"
    assert db.session.scalar(select(func.count(EventRemoval.id))) == 0


def test_only_the_events_organizers_may_see_or_act(organizer, make_organizer, make_event, make_person):
    event = make_event(organizer)
    bo = make_person("Bo", event=event)
    stranger, door = make_organizer(), make_organizer()
    db.session.add(SeriesMember(series_id=event.series_id, organizer_id=door.id, role="door"))
    db.session.commit()
    calls = [lambda who: attendees.listing(who, event.public_id), lambda who: attendees.checkins_csv(who, event.public_id),
             lambda who: attendees.hide(who, event.public_id, key(event, bo)),
             lambda who: attendees.remove_from_series(who, event.public_id, key(event, bo))]
    for call in calls:
        with pytest.raises(NotFound):
            call(stranger)
        with pytest.raises(DomainError) as refused:
            call(door)
        assert refused.value.code == "role_too_low"
    assert names(attendees.listing(organizer, event.public_id)[1]) == ["Bo"]


def test_the_csv_has_name_headline_local_time_and_via_and_runs_no_formulas(organizer, make_person):
    event = events.create_event(organizer, name="Night", starts_at=datetime(2026, 11, 26, 19),
                                series_name="Tokyo meetup", time_zone="Asia/Tokyo")
    events.set_status(organizer, event.public_id, "open")
    make_person("=HYPERLINK(\"http://example.org\")", event=event, headline="+1 555")
    make_person("Bo", event=event, headline="@everyone")
    hidden = make_person("Hidden", event=event)
    attendees.hide(organizer, event.public_id, key(event, hidden))
    _, text = attendees.checkins_csv(organizer, event.public_id)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["Name", "Headline", "Checked in (Asia/Tokyo)", "Via"]
    assert [row[0] for row in rows[1:]] == ["'=HYPERLINK(\"http://example.org\")", "Bo"]
    assert [row[1] for row in rows[1:]] == ["'+1 555", "'@everyone"]
    assert all(row[3] == "join" for row in rows[1:])
    checked_in = db.session.scalars(select(CheckIn.created_at).order_by(CheckIn.id)).first()
    assert rows[1][2] == timezones.to_local(checked_in, "Asia/Tokyo").strftime("%Y-%m-%d %H:%M")


@BOTH_DATABASES
def test_the_list_and_csv_take_the_same_queries_for_any_crowd(organizer, make_event, make_person, count_queries):
    def statements(size):
        event = make_event(organizer, name=f"Night of {size}")
        people = [make_person(f"P{size}-{i}", event=event) for i in range(size)]
        attendees.hide(organizer, event.public_id, key(event, people[0]))
        public_id = event.public_id
        db.session.expire_all()
        with count_queries() as seen:
            listing = attendees.listing(organizer, public_id, search="P")[1]
            attendees.checkins_csv(organizer, public_id)
        assert listing.total == size - 1
        return len(seen)

    assert statements(3) == statements(25)
