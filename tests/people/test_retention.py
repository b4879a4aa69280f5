"""Retention: a person's data expires once, in every series they came to, their last event
started more than that series' retention ago (12 months after joining for someone who never
checked in); the purge deletes them through the erasure service, batch by batch, in a
constant number of statements per batch. Tested with a frozen clock (`now` passed in)."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from kithmeet.connections import services as connections
from kithmeet.connections.models import Connection, ConnectionSide
from kithmeet.events import series as series_service
from kithmeet.events import services as events
from kithmeet.events.models import CheckIn
from kithmeet.extensions import db
from kithmeet.people import retention
from kithmeet.people import services as people
from kithmeet.people.models import Person
from kithmeet.people.profile import Profile
from kithmeet.people.retention import Counts, months_before

from ..postgres import BOTH_DATABASES

NOV_26 = datetime(2026, 11, 26, 19, 0)


@pytest.mark.parametrize("moment,months,expected", [
    (datetime(2027, 11, 26, 19, 0), 12, datetime(2026, 11, 26, 19, 0)),
    (datetime(2027, 3, 31, 8, 30), 1, datetime(2027, 2, 28, 8, 30)),
    (datetime(2028, 3, 31), 1, datetime(2028, 2, 29)),  # a leap year
    (datetime(2027, 1, 15), 1, datetime(2026, 12, 15)),
    (datetime(2027, 1, 15), 120, datetime(2017, 1, 15)),
])
def test_months_before_counts_calendar_months(moment, months, expected):
    assert months_before(moment, months) == expected


@pytest.fixture
def organizer(make_organizer):
    return make_organizer()


@pytest.fixture
def event_at(organizer):
    """An open event of `organizer` starting at `starts_at` in the named series (made if new)."""
    def make(starts_at, series="Thursday Gathering", retention_months=None, by=None):
        owner = by or organizer
        event = events.create_event(owner, name=f"{series} {starts_at:%Y-%m-%d}", starts_at=starts_at,
                                    series_name=series)
        event = events.set_status(owner, event.public_id, "open")
        if retention_months is not None:
            series_service.update_settings(owner, event.series.public_id, retention_months=retention_months,
                                           code_of_conduct_url="")
        return event
    return make


def attend(name, *events_attended):
    person = None
    for event in events_attended:
        person = people.join_event(event, Profile(name=name), person=person)
    return person


def expired(now):
    return set(db.session.scalars(select(Person.name).where(Person.id.in_(retention.expired_ids(now)))))


@pytest.mark.parametrize("now,gone", [
    (NOV_26 + timedelta(days=365 - 1), False),  # the day before: 25 November 2027
    (datetime(2027, 11, 26, 19, 0), False),  # twelve months to the minute: not *more* than that ago
    (datetime(2027, 11, 26, 19, 0, 1), True),
    (datetime(2027, 11, 27, 19, 0), True),  # the day after
])
def test_data_expires_the_moment_the_last_event_is_more_than_the_retention_ago(event_at, now, gone):
    ada_id = attend("Ada", event_at(NOV_26, retention_months=12)).id
    assert expired(now) == ({"Ada"} if gone else set())
    assert retention.purge(now) == (Counts(people=1, check_ins=1) if gone else Counts())
    assert (db.session.get(Person, ada_id) is None) is gone


def test_the_last_event_in_a_series_counts(event_at):
    attend("Ada", event_at(datetime(2026, 1, 15, 19, 0), retention_months=6), event_at(NOV_26))
    assert expired(datetime(2027, 5, 26, 19, 0)) == set()
    assert expired(datetime(2027, 5, 27, 19, 0)) == {"Ada"}


def test_every_series_a_person_came_to_must_have_let_go(event_at, make_organizer):
    short = event_at(datetime(2026, 1, 15, 19, 0), series="Short", retention_months=1)
    other = make_organizer()
    long = event_at(datetime(2026, 1, 15, 19, 0), series="Long", retention_months=24, by=other)
    attend("Ada", short, long)
    attend("Bo", short)
    assert expired(datetime(2026, 3, 1)) == {"Bo"}
    assert expired(datetime(2028, 1, 15, 19, 0, 1)) == {"Ada", "Bo"}
    series_service.update_settings(other, long.series.public_id, retention_months=1, code_of_conduct_url="")
    assert expired(datetime(2026, 3, 1)) == {"Ada", "Bo"}


def test_someone_who_never_checked_in_expires_twelve_months_after_joining(app):
    joined = datetime(2026, 2, 10, 12, 0)
    db.session.add(Person(name="Guest", created_at=joined))  # no service makes this yet (a guest list import will)
    db.session.commit()
    assert expired(datetime(2027, 2, 10, 12, 0)) == set()
    assert expired(datetime(2027, 2, 10, 12, 0, 1)) == {"Guest"}


@BOTH_DATABASES
def test_the_purge_deletes_through_the_erasure_service(event_at):
    old = event_at(datetime(2025, 6, 5, 19, 0), retention_months=3)
    recent = event_at(NOV_26)
    ada = attend("Ada", old)
    bo = attend("Bo", old, recent)
    ada_id, bo_id = ada.id, bo.id
    connections.connect(ada, bo.badge_token, talked_about="kilns", private_note="Ada's note")
    side = db.session.scalar(select(ConnectionSide).where(ConnectionSide.person_id == bo_id))
    side_id = side.id
    now = datetime(2026, 12, 1)
    assert retention.expiring(now) == Counts(people=1, connections=1, check_ins=1)
    assert retention.purge(now) == Counts(people=1, connections=1, check_ins=1)
    assert db.session.get(Person, ada_id) is None and db.session.get(Person, bo_id) is not None
    assert db.session.get(ConnectionSide, side_id) is not None  # Bo keeps his entry
    assert db.session.scalar(select(func.count(ConnectionSide.id))) == 1
    assert retention.purge(now) == Counts()  # nothing left to do


def test_someone_who_checks_in_while_the_purge_runs_is_kept(event_at, monkeypatch):
    attend("Ada", event_at(datetime(2025, 1, 9, 19, 0)))
    attend("Bo", event_at(NOV_26, series="Weekly"))
    # The list was drawn before Bo's check-in: each batch checks again inside its transaction.
    monkeypatch.setattr(retention, "expired_ids", lambda now: db.session.scalars(select(Person.id)).all())
    assert retention.purge(datetime(2026, 12, 1)).people == 1
    assert db.session.scalars(select(Person.name)).all() == ["Bo"]


def test_many_people_go_in_one_run_with_the_same_statements_per_batch(event_at, monkeypatch, count_queries):
    monkeypatch.setattr(retention, "BATCH", 6)
    old = event_at(datetime(2025, 1, 9, 19, 0))
    now = datetime(2026, 12, 1)
    statements = []
    for batches in (1, 2, 3):
        crowd = [attend(f"Batch {batches} person {i}", old) for i in range(6 * batches)]
        for i, person in enumerate(crowd):  # more rows per person in each run: they must not count
            for other in crowd[i + 1:i + 1 + batches]:
                connections.connect(person, other.badge_token, talked_about="hello", private_note="note")
        with count_queries() as run:
            assert retention.purge(now).people == 6 * batches
        statements.append(len(run))
        assert db.session.scalar(select(func.count(Person.id))) == 0
        assert db.session.scalar(select(func.count(Connection.id))) == 0
    per_batch = statements[1] - statements[0]
    assert statements[2] - statements[1] == per_batch and per_batch <= 12, statements


def test_many_people_in_one_run_with_the_default_batch(event_at, count_queries):
    old = event_at(datetime(2025, 1, 9, 19, 0))
    for i in range(retention.BATCH + 30):
        attend(f"Person {i}", old)
    keeper = attend("Keeper", event_at(NOV_26, series="Weekly"))
    assert retention.purge(datetime(2026, 12, 1)) == Counts(people=retention.BATCH + 30, check_ins=retention.BATCH + 30)
    assert db.session.scalars(select(Person.id)).all() == [keeper.id]
    assert db.session.scalar(select(func.count(CheckIn.id))) == 1


def test_preview_counts_only_this_series_attendees_and_what_happened_there(event_at, make_organizer):
    ours = event_at(datetime(2025, 1, 9, 19, 0), retention_months=6)
    other = make_organizer()
    theirs_old = event_at(datetime(2025, 1, 9, 19, 0), series="Theirs", by=other)
    theirs_new = event_at(NOV_26, series="Theirs", by=other)
    ada = attend("Ada", ours)  # expired everywhere she went: counted
    bo = attend("Bo", ours, theirs_new)  # came back elsewhere: kept, so not counted
    connections.connect(ada, bo.badge_token)  # met at ours
    people.join_event(theirs_old, Profile(name="Ada"), person=ada)
    cy = attend("Cy", theirs_old)  # expired, but never came to ours
    connections.connect(cy, ada.badge_token)  # met at theirs: not ours to count
    now = datetime(2026, 12, 1)
    assert retention.preview(ours.series, now) == Counts(people=1, connections=1, check_ins=1)
    assert retention.preview(theirs_old.series, now) == Counts(people=2, connections=1, check_ins=2)
    assert retention.preview(ours.series, datetime(2025, 2, 1)) == Counts()
