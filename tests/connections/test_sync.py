"""Scans that sync late (an offline queue sent after the Wi-Fi came back, maybe after the event
closed): they count at the event where they were made, and each records exactly once, however
often and however concurrently it is sent."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from kithmeet.connections import scans
from kithmeet.connections import services as connections
from kithmeet.connections.models import Connection, ConnectionSide, Encounter, Scan
from kithmeet.database import utcnow
from kithmeet.errors import DomainError
from kithmeet.events import scan_places
from kithmeet.events.models import CheckIn, Event
from kithmeet.extensions import db
from kithmeet.people import services as people
from kithmeet.people.models import Person
from kithmeet.people.profile import Profile

from ..postgres import BOTH_DATABASES
from .test_concurrency import at_once


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def person(person_id):
    return db.session.get(Person, person_id)


def backdate(event, *, checked_in=None, closed=None):
    """Move an event's check-ins (and its opening, an hour before them) and closing into the past,
    as if the night had gone by."""
    if checked_in is not None:
        db.session.execute(update(CheckIn).where(CheckIn.event_id == event.id).values(created_at=checked_in))
        db.session.execute(update(Event).where(Event.id == event.id).values(opened_at=checked_in - timedelta(hours=1)))
    if closed is not None:
        db.session.execute(update(Event).where(Event.id == event.id).values(status="closed", closed_at=closed))
    db.session.commit()
    db.session.expire_all()


def refused(call):
    with pytest.raises(DomainError) as error:
        call()
    return error.value


@pytest.fixture
def night(make_organizer, make_event, make_person):
    """Ada and Bo checked in at Week 1 three hours ago; it is still open."""
    organizer = make_organizer()
    week1 = make_event(organizer, name="Week 1")
    ada, bo = make_person("Ada", event=week1), make_person("Bo", event=week1)
    backdate(week1, checked_in=utcnow() - timedelta(hours=3))
    return organizer, week1, ada, bo


def week2_with(organizer, make_event, *attendees):
    week2 = make_event(organizer, name="Week 2")
    for attendee in attendees:
        people.join_event(week2, Profile(name=attendee.name), person=attendee)
    return week2


def test_a_scan_made_before_closing_counts_there_when_it_syncs_after(night):
    organizer, week1, ada, bo = night
    made = utcnow() - timedelta(hours=2)
    backdate(week1, closed=utcnow() - timedelta(hours=1))
    connection, created = connections.connect(ada, bo.badge_token, talked_about="Offline", client_id="q-1",
                                              scanned_at=made)
    assert created and connection.first_event_id == week1.id
    scan = scans.scan_result(ada, "q-1")
    assert (scan.event_id, scan.scanned_at, scan.made_connection, scan.made_encounter) == (week1.id, made, True, True)
    assert scan.scanned_at < scan.created_at
    # The meeting is dated when it happened, not when the phone found a network.
    (encounter,) = connections.encounters_of(connection)
    assert (encounter.event_id, encounter.created_at, encounter.talked_about) == (week1.id, made, "Offline")
    assert connection.created_at == connection.last_met_at == made


def test_a_scan_made_after_the_event_closed_is_refused_and_writes_nothing(night, db_state):
    _, week1, ada, bo = night
    backdate(week1, closed=utcnow() - timedelta(hours=1))
    before = db_state()
    error = refused(lambda: connections.connect(ada, bo.badge_token, client_id="q-late",
                                                scanned_at=utcnow() - timedelta(minutes=30)))
    assert error.code == "event_closed"
    db.session.commit()
    assert db_state() == before


def test_a_device_clock_ahead_is_clamped_to_now(night):
    _, week1, ada, bo = night
    before = utcnow()
    connections.connect(ada, bo.badge_token, client_id="q-future", scanned_at=utcnow() + timedelta(days=400))
    scan = scans.scan_result(ada, "q-future")
    assert before <= scan.scanned_at <= scan.created_at and scan.event_id == week1.id


def test_a_future_time_cannot_reach_past_a_closing(night):
    """Clamped to now, a time after the closing is still after it."""
    _, week1, ada, bo = night
    backdate(week1, closed=utcnow() - timedelta(minutes=5))
    error = refused(lambda: connections.connect(ada, bo.badge_token, scanned_at=utcnow() + timedelta(days=1)))
    assert error.code == "event_closed"


@pytest.mark.parametrize("closed_days_ago,counts", [(6, True), (8, False)])
def test_a_closed_event_takes_late_scans_for_the_grace_period_only(night, closed_days_ago, counts):
    _, week1, ada, bo = night
    closed = utcnow() - timedelta(days=closed_days_ago)
    backdate(week1, checked_in=closed - timedelta(hours=3), closed=closed)
    call = lambda: connections.connect(ada, bo.badge_token, scanned_at=closed - timedelta(hours=1))  # noqa: E731
    if counts:
        assert call()[1]
    else:
        assert refused(call).code == "event_closed" and count(Scan) == 0


def test_last_weeks_scan_syncing_at_this_weeks_event_counts_at_last_weeks(night, make_event):
    organizer, week1, ada, bo = night
    made = utcnow() - timedelta(hours=2)
    backdate(week1, closed=utcnow() - timedelta(hours=1))
    week2 = week2_with(organizer, make_event, ada, bo)
    # They meet again at Week 2, online, before Ada's queue from Week 1 gets through.
    connections.connect(bo, ada.badge_token, talked_about="This week", client_id="now-1")
    met_now = scans.scan_result(bo, "now-1").created_at
    connection, created = connections.connect(ada, bo.badge_token, talked_about="Last week", client_id="q-1",
                                              scanned_at=made)
    assert not created
    assert [(e.event_id, e.talked_about) for e in connections.encounters_of(connection)] == [
        (week2.id, "This week"), (week1.id, "Last week")]
    db.session.refresh(connection)
    assert connection.last_met_at == met_now  # a late scan never moves the latest meeting back
    assert scans.scan_result(ada, "q-1").made_encounter


def test_the_meeting_rules_hold_at_the_event_of_the_scan(night, make_event, make_person):
    """Cy checked in only at Week 2: a scan of Cy made during Week 1 is not a meeting there."""
    organizer, week1, ada, _ = night
    made = utcnow() - timedelta(hours=2)
    backdate(week1, closed=utcnow() - timedelta(hours=1))
    week2 = week2_with(organizer, make_event, ada)
    cy = make_person("Cy", event=week2)
    error = refused(lambda: connections.connect(ada, cy.badge_token, scanned_at=made))
    assert error.code == "not_at_event"
    assert connections.connect(ada, cy.badge_token)[0].first_event_id == week2.id  # made now, it counts


def test_hidden_from_the_event_of_the_scan_is_refused_even_when_late(night):
    organizer, week1, ada, bo = night
    from kithmeet.events import attendees

    attendees.hide(organizer, week1.public_id, attendees.attendee_key(week1, bo.id))
    made = utcnow() - timedelta(hours=2)
    backdate(week1, closed=utcnow() - timedelta(hours=1))
    assert refused(lambda: connections.connect(ada, bo.badge_token, scanned_at=made)).code == "not_at_event"


def test_a_scan_from_before_the_check_in_still_counts_at_the_open_event(night, make_event):
    """A device clock a little behind: the scan reads as made before its own check-in."""
    organizer, week1, ada, bo = night
    backdate(week1, closed=utcnow() - timedelta(days=2))
    week2 = week2_with(organizer, make_event, ada, bo)
    connection, created = connections.connect(ada, bo.badge_token, scanned_at=utcnow() - timedelta(minutes=3))
    assert created and connection.first_event_id == week2.id


# A device's clock is not checked: a time before the scanner was there counts as when they came.

def opened(event):
    return db.session.get(Event, event.id).opened_at


@pytest.mark.parametrize("claimed", [timedelta(days=365 * 57), timedelta(days=365 * 2025)])  # 1970, year 1
def test_a_scan_claimed_before_the_check_in_counts_as_the_check_in(night, claimed):
    _, week1, ada, bo = night
    checked_in = utcnow() - timedelta(hours=3)  # the night fixture's check-ins; the event opened before
    connection, created = connections.connect(ada, bo.badge_token, client_id="q-old",
                                              scanned_at=utcnow() - claimed)
    assert created and connection.first_event_id == week1.id
    scan = scans.scan_result(ada, "q-old")
    assert abs(scan.scanned_at - checked_in) < timedelta(seconds=5)
    (encounter,) = connections.encounters_of(connection)
    sides = db.session.scalars(select(ConnectionSide.touched_at)).all()
    for when in (connection.created_at, connection.last_met_at, encounter.created_at, *sides):
        assert when == scan.scanned_at >= opened(week1)


def test_a_scan_claimed_before_the_event_opened_counts_as_its_opening(night):
    """Checked in earlier (an event opened, closed and opened again), the opening is the later bound."""
    _, week1, ada, bo = night
    reopened = utcnow() - timedelta(hours=1)
    db.session.execute(update(Event).where(Event.id == week1.id).values(opened_at=reopened))
    db.session.commit()
    connections.connect(ada, bo.badge_token, client_id="q-old", scanned_at=utcnow().replace(year=1990))
    assert scans.scan_result(ada, "q-old").scanned_at == reopened


def test_a_past_time_reaches_a_closed_event_only_from_a_check_in_before_its_closing(night, db_state):
    """Clamped to the check-in, a claimed past time counts at a closed event only for someone who
    was there before it closed: it cannot carry a later check-in's scan past the closing."""
    _, week1, ada, bo = night
    closed = utcnow() - timedelta(days=2)
    # Ada checked in (3 hours ago) after Week 1 closed: only by the database, as the service refuses it.
    backdate(week1, closed=closed)
    before = db_state()
    error = refused(lambda: connections.connect(ada, bo.badge_token, scanned_at=utcnow() - timedelta(days=5 * 365)))
    assert error.code == "event_closed"
    db.session.commit()
    assert db_state() == before
    # Checked in while it was open: the same claim is clamped to that check-in, before the closing.
    backdate(week1, checked_in=closed - timedelta(hours=2))
    connection, created = connections.connect(ada, bo.badge_token, client_id="q-old",
                                              scanned_at=utcnow() - timedelta(days=5 * 365))
    assert created and connection.first_event_id == week1.id
    assert connection.created_at == closed - timedelta(hours=2) == scans.scan_result(ada, "q-old").scanned_at


def test_event_for_scan_is_one_query(night, count_queries):
    _, week1, ada, _ = night
    ada_id, week1_id = ada.id, week1.id
    with count_queries() as statements:
        assert scan_places.event_for_scan(ada_id, utcnow() - timedelta(hours=1))[0].id == week1_id
    assert len(statements) == 1


def test_not_checked_in_anywhere(make_event):
    loner = people.join_event(make_event(status="open"), Profile(name="Loner"))
    db.session.execute(CheckIn.__table__.delete().where(CheckIn.person_id == loner.id))
    db.session.commit()
    assert refused(lambda: scan_places.event_for_scan(loner.id, utcnow())).code == "not_checked_in"


# Exactly once.

@BOTH_DATABASES
def test_eight_identical_sends_at_once_record_one_scan(app, night):
    _, _, ada, bo = night
    ada_id, token = ada.id, bo.badge_token
    made = utcnow() - timedelta(minutes=1)

    def send():
        done = connections.connect_scan(person(ada_id), token, talked_about="Rust", client_id="q-8", scanned_at=made)
        return done.connection.id, done.created, done.repeat
    results = at_once(app, [send] * 8)
    assert not [r for r in results if isinstance(r, Exception)], results
    # One send recorded the scan and made the connection; the seven others know they repeated it.
    assert sorted((created, repeat) for _, created, repeat in results) == [(False, True)] * 7 + [(True, False)]
    assert len({connection_id for connection_id, _, _ in results}) == 1
    db.session.expire_all()
    assert (count(Scan), count(Connection), count(ConnectionSide), count(Encounter)) == (1, 1, 2, 1)
    assert db.session.scalar(select(Encounter.talked_about)) == "Rust"
    scan = db.session.scalar(select(Scan))
    assert (scan.client_id, scan.made_connection, scan.made_encounter) == ("q-8", True, True)
    assert scan.connection_id == results[0][0]


def queue_of(ada, *others):
    made = utcnow() - timedelta(minutes=30)
    return [dict(badge_token=other.badge_token, client_id=f"q-{other.name}", talked_about=f"About {other.name}",
                 scanned_at=made + timedelta(minutes=i)) for i, other in enumerate(others)]


def send(ada_id, queue):
    return [connections.connect(person(ada_id), **entry)[1] for entry in queue]


def stored():
    return (count(Scan), count(Connection), count(Encounter),
            sorted(db.session.scalars(select(Encounter.talked_about))))


@BOTH_DATABASES
def test_the_same_queue_sent_twice_records_once(app, night, make_person):
    _, week1, ada, bo = night
    cy, dee = make_person("Cy", event=week1), make_person("Dee", event=week1)
    queue = queue_of(ada, bo, cy, dee)
    assert send(ada.id, queue) == [True, True, True]
    first = stored()
    assert send(ada.id, queue) == [False, False, False]
    assert stored() == first == (3, 3, 3, ["About Bo", "About Cy", "About Dee"])


@BOTH_DATABASES
def test_two_tabs_sending_the_same_queue_at_once_record_once(app, night, make_person):
    _, week1, ada, bo = night
    cy, dee = make_person("Cy", event=week1), make_person("Dee", event=week1)
    queue, ada_id = queue_of(ada, bo, cy, dee), ada.id
    results = at_once(app, [lambda: send(ada_id, queue), lambda: send(ada_id, queue)])
    assert not [r for r in results if isinstance(r, Exception)], results
    # Each scan was made by exactly one of the two tabs.
    assert [a + b for a, b in zip(*results)] == [1, 1, 1]
    db.session.expire_all()
    assert stored() == (3, 3, 3, ["About Bo", "About Cy", "About Dee"])


# A client id another scan holds.

@BOTH_DATABASES
@pytest.mark.parametrize("race", [False, True])
def test_a_client_id_another_scan_holds_is_refused_or_renewed_as_the_caller_asks(night, make_person, monkeypatch,
                                                                                 db_state, race):
    """Checked before anything is read and again where the id is claimed: with `race`, Cy's scan
    takes the id after the first check (while the event is looked up)."""
    _, week1, ada, bo = night
    cy = make_person("Cy", event=week1)
    where = connections._where_and_when
    if race:
        def racing(*args):
            monkeypatch.setattr(connections, "_where_and_when", where)
            connections.connect(cy, ada.badge_token, client_id="q-1")
            return where(*args)
        monkeypatch.setattr(connections, "_where_and_when", racing)
    else:
        connections.connect(cy, ada.badge_token, client_id="q-1")
    error = refused(lambda: connections.connect_scan(ada, bo.badge_token, talked_about="Bikes", client_id="q-1",
                                                     client_id_taken="refuse"))
    assert (error.code, error.status) == ("client_id_taken", 409)
    db.session.commit()
    assert (count(Scan), count(Connection)) == (1, 1)  # Cy's alone
    if race:  # again, for the renewing caller
        db.session.execute(Scan.__table__.delete())
        db.session.execute(Connection.__table__.delete())
        db.session.commit()
        monkeypatch.setattr(connections, "_where_and_when", racing)
    # The page's own id only stops a double send: the scan records under a new one.
    done = connections.connect_scan(ada, bo.badge_token, talked_about="Bikes", client_id="q-1")
    assert done.created and not done.repeat
    mine = db.session.scalar(select(Scan).where(Scan.scanner_id == ada.id))
    assert mine.client_id != "q-1" and mine.connection_id == done.connection.id
    assert db.session.scalar(select(Scan.scanner_id).where(Scan.client_id == "q-1")) == cy.id


@BOTH_DATABASES
def test_a_replay_of_an_undone_scan_records_nothing(night, db_state):
    _, _, ada, bo = night
    connections.connect(ada, bo.badge_token, talked_about="Oops", client_id="q-undo",
                        scanned_at=utcnow() - timedelta(minutes=2))
    scans.undo(ada, "q-undo")
    before = db_state()
    for words in ("Oops", "", "and more"):
        error = refused(lambda: connections.connect(ada, bo.badge_token, talked_about=words, client_id="q-undo"))
        assert (error.code, error.status) == ("scan_undone", 409)
        db.session.commit()
        assert db_state() == before
    # A new scan of the same badge connects again.
    assert connections.connect(ada, bo.badge_token, client_id="q-again")[1]


def test_a_replay_of_a_scan_undone_without_taking_anything_adds_no_words(night, db_state):
    _, _, ada, bo = night
    connection, _ = connections.connect(ada, bo.badge_token, talked_about="Kept", client_id="q-1")
    connections.connect(bo, ada.badge_token, client_id="bo-1")  # Bo scanned back: the connection is his too
    scans.undo(ada, "q-1")
    assert db.session.get(Connection, connection.id) is not None
    error = refused(lambda: connections.connect(ada, bo.badge_token, talked_about="More", client_id="q-1"))
    assert error.code == "scan_undone"
    assert [e.talked_about for e in connections.encounters_of(connection)] == ["Kept"]
