"""Undo a scan: it takes back exactly what the scan made, only what the scanned person has not
made their own, only for the scanner, only for a few minutes; and the card a scan shows."""
import logging
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kithmeet.connections import consent, notes, rotation, scans
from kithmeet.connections import services as connections
from kithmeet.connections.models import Connection, ConnectionSide, Encounter, Scan
from kithmeet.database import utcnow
from kithmeet.errors import DomainError
from kithmeet.events import services as events
from kithmeet.extensions import db
from kithmeet.people import export
from kithmeet.people import services as people
from kithmeet.people.models import Person
from kithmeet.people.profile import Profile

from ..postgres import BOTH_DATABASES, SQLITE_ONLY
from .test_concurrency import at_once


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def refused(call):
    with pytest.raises(DomainError) as error:
        call()
    return error.value


@pytest.fixture
def pair(make_event, make_person):
    event = make_event()
    return make_person("Ada", event=event), make_person("Bo", event=event), event


@pytest.fixture
def met_before(make_organizer, make_event, make_person):
    """Ada and Bo met at Week 1 (closed); both are checked in at Week 2, open."""
    organizer = make_organizer()
    week1 = make_event(organizer, name="Week 1")
    ada, bo = make_person("Ada", event=week1), make_person("Bo", event=week1)
    connection, _ = connections.connect(ada, bo.badge_token, talked_about="Week one", client_id="w1")
    events.set_status(organizer, week1.public_id, "closed")
    week2 = make_event(organizer, name="Week 2")
    for person in (ada, bo):
        people.join_event(week2, Profile(name=person.name), person=person)
    return ada, bo, connection, week2


def test_undo_of_a_new_connection_takes_it_all_back_and_keeps_a_tombstone(pair):
    ada, bo, _ = pair
    connection, _ = connections.connect(ada, bo.badge_token, talked_about="Wrong badge", private_note="mine",
                                        client_id="scan-1")
    assert consent.pending_count(bo) == 1
    scan = scans.undo(ada, "scan-1")
    assert scan.undone_at is not None and scan.connection_id is None and scan.client_id == "scan-1"
    assert (count(Connection), count(ConnectionSide), count(Encounter), count(Scan)) == (0, 0, 0, 1)
    assert consent.pending_count(bo) == 0  # Bo is no longer told of it
    assert connections.connection_between(ada.id, bo.id) is None
    assert connections.sides_page(bo.id, 0, 50) == ([], 0)


def test_undo_twice_is_fine(pair, db_state):
    ada, bo, _ = pair
    connections.connect(ada, bo.badge_token, client_id="scan-1")
    first = scans.undo(ada, "scan-1").undone_at
    before = db_state()
    assert scans.undo(ada, "scan-1").undone_at == first
    # Even after the window: it was undone in time.
    assert scans.undo(ada, "scan-1", now=utcnow() + timedelta(hours=1)).undone_at == first
    db.session.commit()
    assert db_state() == before


def test_undo_is_only_for_a_few_minutes(pair, db_state):
    ada, bo, _ = pair
    connections.connect(ada, bo.badge_token, client_id="scan-1")
    recorded = scans.scan_result(ada, "scan-1").created_at
    before = db_state()
    error = refused(lambda: scans.undo(ada, "scan-1", now=recorded + scans.UNDO_WINDOW + timedelta(seconds=1)))
    assert error.code == "undo_too_late"
    db.session.commit()
    assert db_state() == before
    assert scans.undo(ada, "scan-1", now=recorded + scans.UNDO_WINDOW).undone_at is not None


def test_only_the_scanner_can_undo_or_see_a_scan(pair, make_person, db_state):
    ada, bo, event = pair
    connections.connect(ada, bo.badge_token, client_id="scan-1")
    cy = make_person("Cy", event=event)
    before = db_state()
    for stranger in (bo, cy):  # the person scanned, and anyone else
        for call in (lambda: scans.undo(stranger, "scan-1"), lambda: scans.scan_result(stranger, "scan-1")):
            error = refused(call)
            assert (error.code, error.status) == ("unknown_scan", 404)
    db.session.commit()
    assert db_state() == before
    assert refused(lambda: scans.undo(ada, "no-such-scan")).code == "unknown_scan"


def keep(person, connection):
    consent.keep(person, connection.public_id)


def note(person, connection):
    notes.edit(person, connection.public_id, private_note="Call him")


def line(person, connection):
    seen = connections.encounters_of(connection)[0].talked_about
    result = notes.edit(person, connection.public_id, talked_about="Bikes, not bakes",
                        talked_about_fingerprint=notes.fingerprint(seen))
    assert not result.conflict


def status(person, connection):
    notes.edit(person, connection.public_id, status="followed_up")


def remove(person, connection):
    consent.remove(person, connection.public_id)


def done(person, connection):
    rotation.done(person, connection.public_id)


def scan_back(person, connection):
    connections.connect(person, db.session.get(Person, connection.other_id(person.id)).badge_token)


def late_scan_back(person, connection):
    """Their scan back, made offline before the scanner's and synced after it."""
    connections.connect(person, db.session.get(Person, connection.other_id(person.id)).badge_token,
                        talked_about="From my queue", scanned_at=utcnow() - timedelta(minutes=5))


@pytest.mark.parametrize("theirs", [keep, note, line, status, remove, done, scan_back, late_scan_back])
def test_a_connection_the_scanned_person_made_their_own_stays(pair, theirs):
    ada, bo, _ = pair
    connection, _ = connections.connect(ada, bo.badge_token, talked_about="Bikes", client_id="scan-1")
    theirs(bo, connection)
    scan = scans.undo(ada, "scan-1")
    assert scan.undone_at is not None and scan.connection_id == connection.id
    assert count(Connection) == 1 and count(ConnectionSide) == 2 and count(Encounter) == 1


def test_their_words_stay_even_when_a_later_scan_touched_their_side_again(pair):
    """Bo wrote on the line, then Ada scanned him again: the later meeting moves Bo's touched_at
    past his edit, so the connection is no longer Ada's first scan's alone."""
    ada, bo, _ = pair
    connection, _ = connections.connect(ada, bo.badge_token, talked_about="Bikes", client_id="scan-1")
    line(bo, connection)
    connections.connect(ada, bo.badge_token, client_id="scan-2")
    scans.undo(ada, "scan-1")
    assert [e.talked_about for e in connections.encounters_of(connection)] == ["Bikes, not bakes"]


def test_the_scanners_own_words_after_the_scan_go_with_it(pair):
    ada, bo, _ = pair
    connection, _ = connections.connect(ada, bo.badge_token, client_id="scan-1")
    connections.connect(ada, bo.badge_token, talked_about="Added in the one-line box", client_id="scan-1")
    notes.edit(ada, connection.public_id, private_note="my own")
    scans.undo(ada, "scan-1")
    assert count(Connection) == 0


def test_undo_of_a_meeting_again_takes_back_that_nights_encounter_only(met_before):
    ada, bo, connection, week2 = met_before
    week1_met = connection.last_met_at
    connections.connect(ada, bo.badge_token, talked_about="Week two", client_id="w2")
    scan = scans.undo(ada, "w2")
    assert scan.undone_at is not None and scan.connection_id == connection.id
    assert [(e.event.name, e.talked_about) for e in connections.encounters_of(connection)] == [("Week 1", "Week one")]
    db.session.refresh(connection)
    assert connection.last_met_at == week1_met  # the latest meeting is Week 1's again
    assert count(ConnectionSide) == 2


@pytest.mark.parametrize("theirs", [line, scan_back, late_scan_back])
def test_an_encounter_the_scanned_person_wrote_on_stays(met_before, theirs):
    ada, bo, connection, week2 = met_before
    connections.connect(ada, bo.badge_token, talked_about="Week two", client_id="w2")
    theirs(bo, connection)
    scans.undo(ada, "w2")
    assert [e.event.name for e in connections.encounters_of(connection)] == ["Week 2", "Week 1"]


def test_undo_of_a_scan_that_made_nothing_only_marks_it(met_before, db_state):
    ada, bo, connection, _ = met_before
    connections.connect(ada, bo.badge_token, talked_about="Week two", client_id="w2-a")
    connections.connect(ada, bo.badge_token, talked_about="Again", client_id="w2-b")  # the same night, again
    scan = scans.undo(ada, "w2-b")
    assert scan.undone_at is not None and not scan.made_encounter
    assert [e.talked_about for e in connections.encounters_of(connection)] == ["Week two\nAgain", "Week one"]


def test_an_undone_connection_leaves_the_export_a_tombstone_only(pair):
    ada, bo, _ = pair
    connections.connect(ada, bo.badge_token, talked_about="Wrong badge", client_id="scan-1")
    scans.undo(ada, "scan-1")
    data = export.data(ada)
    assert data["connections"] == []
    assert [(s["scanned"], s["undone_at"] is not None) for s in data["scans"]] == [("Bo", True)]
    assert export.data(bo)["connections"] == []


def test_undo_is_logged_with_ids_only(pair, caplog):
    ada, bo, _ = pair
    connections.connect(ada, bo.badge_token, talked_about="Secret words", client_id="scan-1")
    with caplog.at_level(logging.INFO, logger="kithmeet.changes"):
        scans.undo(ada, "scan-1")
    (line,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("scan.undone")]
    assert f"actor=person:{ada.id}" in line and "took=connection" in line and "Secret" not in line


@BOTH_DATABASES
def test_undo_racing_a_resend_of_the_same_scan_ends_undone(app, pair):
    """The one-line box sends the scan again with words while Undo is tapped: either order is
    whole, and the scan ends undone, nothing of it left."""
    ada, bo, _ = pair
    connections.connect(ada, bo.badge_token, client_id="scan-1")
    ada_id, token = ada.id, bo.badge_token

    def resend():
        return connections.connect(db.session.get(Person, ada_id), token, talked_about="words", client_id="scan-1")[1]

    def undo():
        return scans.undo(db.session.get(Person, ada_id), "scan-1").undone_at is not None

    results = at_once(app, [resend, undo])
    assert results[1] is True
    assert results[0] is False or (isinstance(results[0], DomainError) and results[0].code == "scan_undone")
    db.session.expire_all()
    assert (count(Connection), count(ConnectionSide), count(Encounter), count(Scan)) == (0, 0, 0, 1)
    assert refused(resend).code == "scan_undone"


def undo_from_another_phone(app, person_id, client_id):
    """Undo, committed from another session (a thread of its own) while this one is mid-call."""
    done = []

    def run():
        with app.app_context():
            try:
                done.append(scans.undo(db.session.get(Person, person_id), client_id).undone_at)
            finally:
                db.session.remove()
    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    assert done and done[0] is not None


def resend_while_undone(app, pair, monkeypatch, module, name):
    """Ada's scan (Bo scanned back, so Undo only marks it) is resent with words, and her Undo
    commits when the resend reaches `module.name`: the words must not land."""
    ada, bo, _ = pair
    connection, _ = connections.connect(ada, bo.badge_token, talked_about="Bikes", client_id="scan-1")
    connections.connect(bo, ada.badge_token, client_id="bo-1")
    original, fired, ada_id = getattr(module, name), [], ada.id

    def hooked(*args, **kwargs):
        if not fired:
            fired.append(True)
            undo_from_another_phone(app, ada_id, "scan-1")
        return original(*args, **kwargs)
    monkeypatch.setattr(module, name, hooked)
    error = refused(lambda: connections.connect(ada, bo.badge_token, talked_about="Late words", client_id="scan-1"))
    assert fired and error.code == "scan_undone"
    db.session.expire_all()
    assert [e.talked_about for e in connections.encounters_of(connection)] == ["Bikes"]


@BOTH_DATABASES
def test_an_undo_landing_before_a_resends_transaction_keeps_its_words_out(app, pair, monkeypatch):
    resend_while_undone(app, pair, monkeypatch, events, "ensure_not_excluded")


@SQLITE_ONLY  # see the docstring
def test_an_undo_landing_between_a_resends_read_and_write_keeps_its_words_out(app, pair, monkeypatch):
    """SQLite only: a read there takes no lock, which is the window; on PostgreSQL the resend
    holds the scan's row lock and the Undo would wait for it."""
    resend_while_undone(app, pair, monkeypatch, notes, "_swap")


# The card a scan shows.

def test_card_shows_the_prompts_in_the_events_order_and_no_contacts(make_event, make_person):
    event = make_event(prompts=("Ask me about", "I'm looking for"))
    dee = make_person("Dee", event=event, headline="Baker", contacts={"email": "dee@example.org"},
                      answers=[("I'm looking for", "A co-founder"), ("Ask me about", "Sourdough")])
    assert scans.card(dee, event) == {"name": "Dee", "headline": "Baker", "prompts": [
        {"label": "Ask me about", "answer": "Sourdough"}, {"label": "I'm looking for", "answer": "A co-founder"}]}
    assert "dee@example.org" not in repr(scans.card(dee, None))
