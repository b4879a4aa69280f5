"""connect(): the mutual handshake, its errors, and its idempotency under races."""
import threading

import pytest
from sqlalchemy import func, select

from kithmeet.connections import services as connections
from kithmeet.connections.models import Connection, ConnectionSide, Encounter, Scan
from kithmeet.errors import DomainError
from kithmeet.extensions import db
from kithmeet.people import services as people
from kithmeet.people.models import Person
from kithmeet.people.profile import Profile

from ..postgres import BOTH_DATABASES


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def pair(make_event, make_person):
    event = make_event()
    return make_person("Ada", event=event), make_person("Bo", event=event), event


def test_connect_is_mutual_with_shared_talked_about(pair):
    ada, bo, event = pair
    connection, created = connections.connect(ada, bo.badge_token, talked_about="Rust in prod")
    assert created
    assert {connection.person_a_id, connection.person_b_id} == {ada.id, bo.id}
    assert connection.first_event_id == event.id
    sides = db.session.scalars(select(ConnectionSide)).all()
    assert sorted(side.person_id for side in sides) == sorted([ada.id, bo.id])
    assert [e.talked_about for e in connections.encounters_of(connection)] == ["Rust in prod"]


def test_self_scan_is_refused(pair):
    ada, _, _ = pair
    with pytest.raises(DomainError) as error:
        connections.connect(ada, ada.badge_token)
    assert error.value.code == "self_scan"
    assert count(Connection) == 0


@pytest.mark.parametrize("token,code", [("AAAAAAAAAAA", "unknown_badge"), ("nonsense", "unknown_badge")])
def test_unknown_token_is_refused(pair, token, code):
    with pytest.raises(DomainError) as error:
        connections.connect(pair[0], token)
    assert error.value.code == code


def test_revoked_token_is_refused(pair):
    ada, bo, _ = pair
    old = bo.badge_token
    people.replace_badge(bo)
    with pytest.raises(DomainError) as error:
        connections.connect(ada, old)
    assert error.value.code == "revoked_badge"


def test_closed_event_is_refused(make_event, make_person, make_organizer):
    organizer = make_organizer()
    event = make_event(organizer)
    ada, bo = make_person("Ada", event=event), make_person("Bo", event=event)
    from kithmeet.events import services as events

    connections.connect(ada, bo.badge_token, client_id="scan-before-closing")
    events.set_status(organizer, event.public_id, "closed")
    with pytest.raises(DomainError) as error:
        connections.connect(bo, ada.badge_token)
    assert error.value.code == "event_closed"
    assert count(Scan) == 1
    # A scan made before closing and resent afterwards (an offline sync) still records once.
    connection, created = connections.connect(ada, bo.badge_token, talked_about="synced later",
                                              client_id="scan-before-closing")
    assert not created and count(Scan) == 1 and count(Connection) == 1
    assert connections.encounters_of(connection)[0].talked_about == "synced later"


@BOTH_DATABASES
def test_rescans_and_reverse_scans_keep_one_connection(pair):
    ada, bo, _ = pair
    first, created = connections.connect(ada, bo.badge_token, talked_about="Rust")
    again, created_again = connections.connect(ada, bo.badge_token, talked_about="Rust")
    back, created_back = connections.connect(bo, ada.badge_token, talked_about="Also Go")
    assert created and not created_again and not created_back
    assert first.id == again.id == back.id
    assert count(Connection) == 1 and count(ConnectionSide) == 2 and count(Encounter) == 1
    assert connections.encounters_of(first)[0].talked_about == "Rust\nAlso Go"


@BOTH_DATABASES
def test_same_client_id_records_one_scan_but_keeps_new_words(pair):
    ada, bo, _ = pair
    connections.connect(ada, bo.badge_token, talked_about="once", client_id="phone-1-scan-7")
    connections.connect(ada, bo.badge_token, talked_about="once", client_id="phone-1-scan-7")
    assert count(Scan) == 1
    assert connections.encounters_of(connection_of(ada, bo))[0].talked_about == "once"
    # The same scan resent after its notes were edited (a back button, an offline retry).
    connections.connect(ada, bo.badge_token, talked_about="and more", private_note="mine",
                        client_id="phone-1-scan-7")
    assert count(Scan) == 1
    assert connections.encounters_of(connection_of(ada, bo))[0].talked_about == "once\nand more"


def test_notes_merge_by_whole_lines(pair):
    ada, bo, _ = pair
    connections.connect(ada, bo.badge_token, talked_about="Rust study group ideas")
    connections.connect(bo, ada.badge_token, talked_about="Rust")
    connections.connect(bo, ada.badge_token, talked_about="Rust")
    assert connections.encounters_of(connection_of(ada, bo))[0].talked_about == "Rust study group ideas\nRust"


def test_merged_notes_stop_at_the_limit_the_form_can_edit(pair):
    ada, bo, _ = pair
    connections.connect(ada, bo.badge_token, talked_about="a" * 600)
    with pytest.raises(DomainError) as error:
        connections.connect(bo, ada.badge_token, talked_about="b" * 600)
    assert error.value.code == "too_long"
    assert connections.encounters_of(connection_of(ada, bo))[0].talked_about == "a" * 600


def connection_of(a, b):
    return connections.connection_between(a.id, b.id)


def test_meeting_again_at_the_next_event_is_a_new_encounter(make_organizer, make_event, make_person):
    organizer = make_organizer()
    week1 = make_event(organizer, name="Week 1")
    ada, bo = make_person("Ada", event=week1), make_person("Bo", event=week1)
    connections.connect(ada, bo.badge_token, talked_about="week one")
    from kithmeet.events import services as events

    events.set_status(organizer, week1.public_id, "closed")
    week2 = make_event(organizer, name="Week 2")
    people.join_event(week2, Profile(name="Ada"), person=ada)
    connections.connect(ada, bo.badge_token, talked_about="week two")
    encounters = connections.encounters_of(connection_of(ada, bo))
    assert count(Connection) == 1
    assert [(e.event.name, e.talked_about) for e in encounters] == [("Week 2", "week two"), ("Week 1", "week one")]


@BOTH_DATABASES
def test_pair_scanning_each_other_at_the_same_instant_makes_one_connection(app, make_event, make_person):
    """Two threads, two database sessions, a barrier so they collide: one connection, no error."""
    event = make_event()
    pairs = [(make_person(f"A{i}", event=event).id, make_person(f"B{i}", event=event).id) for i in range(12)]
    errors = []

    def scan(scanner_id, target_id, barrier):
        with app.app_context():
            try:
                scanner = db.session.get(Person, scanner_id)
                target = db.session.get(Person, target_id)
                token = target.badge_token
                barrier.wait()
                connections.connect(scanner, token, talked_about=f"from {scanner.name}")
            except Exception as error:  # noqa: BLE001 - any error at all fails the test
                errors.append(repr(error))
            finally:
                db.session.remove()

    for a, b in pairs:
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=scan, args=(a, b, barrier)),
                   threading.Thread(target=scan, args=(b, a, barrier))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    assert errors == []
    db.session.expire_all()
    assert count(Connection) == len(pairs)
    assert count(ConnectionSide) == 2 * len(pairs)
    assert count(Encounter) == len(pairs)
    assert count(Scan) == 2 * len(pairs)
    for encounter in db.session.scalars(select(Encounter)):
        lines = sorted(encounter.talked_about.split("\n"))
        assert len(lines) == 2 and all(line.startswith("from ") for line in lines)


def test_another_scans_client_id_never_carries_words_to_that_connection(make_event, make_person):
    event = make_event()
    ada, bo, dana = (make_person(name, event=event) for name in ("Ada", "Bo", "Dana"))
    connections.connect(dana, bo.badge_token, talked_about="bikes", client_id="dana-scan-1")
    # The same client id sent with Ada's badge (a copied form, a buggy device): a new scan of Ada.
    to_ada, created = connections.connect(dana, ada.badge_token, talked_about="meant for Ada only",
                                          client_id="dana-scan-1")
    assert created and {to_ada.person_a_id, to_ada.person_b_id} == {ada.id, dana.id}
    assert connections.encounters_of(connection_of(dana, bo))[0].talked_about == "bikes"
    assert connections.encounters_of(to_ada)[0].talked_about == "meant for Ada only"
    # And another scanner's id is never taken as a resend of theirs.
    connections.connect(ada, bo.badge_token, talked_about="Ada's own words", client_id="dana-scan-1")
    assert connections.encounters_of(connection_of(dana, bo))[0].talked_about == "bikes"
    assert count(Scan) == 3
