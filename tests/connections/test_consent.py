"""Consent over a connection, at the service: who may connect where, being told, the sharing
choice, keeping, confirming, removing and blocking, and what a later scan brings back."""
import re

import pytest
from sqlalchemy import select

from kithmeet import signals
from kithmeet.connections import consent, contacts
from kithmeet.connections import services as connections
from kithmeet.connections.models import Connection, ConnectionSide, Encounter
from kithmeet.errors import DomainError
from kithmeet.events import services as events
from kithmeet.extensions import db
from kithmeet.people import services as people
from kithmeet.people.profile import Profile

from ..plans import plan, statements_run
from ..postgres import BOTH_DATABASES


@pytest.fixture
def pair(make_event, make_person):
    """Ada and Bo checked in at one open event, each sharing an email."""
    event = make_event()
    ada = make_person("Ada", event=event, contacts={"email": "ada@example.org"})
    bo = make_person("Bo", event=event, contacts={"email": "bo@example.org"})
    return ada, bo, event


def side(person, connection):
    db.session.expire_all()
    return db.session.scalar(select(ConnectionSide).where(ConnectionSide.connection_id == connection.id,
                                                          ConnectionSide.person_id == person.id))


def seen(viewer, person):
    return [c.value for c in contacts.visible_contacts(viewer, person)]


def share_after_confirming(person):
    people.join_event(events.open_event_or_none(person.id), Profile(
        name=person.name, contacts={c.kind: c.value for c in person.contacts},
        shared={c.kind: c.shared for c in person.contacts}, share_on_connect=False), person=person)


# Connecting needs both people at the event (or a meeting before).

def test_a_badge_of_someone_not_checked_in_here_cannot_be_connected(make_organizer, make_event, make_person,
                                                                    db_state):
    organizer = make_organizer()
    here, elsewhere = make_event(organizer, name="Here"), make_event(organizer, name="Elsewhere")
    ada, bo = make_person("Ada", event=here), make_person("Bo", event=elsewhere)
    before = db_state()
    with pytest.raises(DomainError) as error:
        connections.connect(ada, bo.badge_token, talked_about="from a photo of a badge")
    assert error.value.code == "not_at_event"
    db.session.commit()
    assert db_state() == before
    # Once Bo checks in here too, the same scan connects.
    people.join_event(here, Profile(name="Bo"), person=bo)
    assert connections.connect(ada, bo.badge_token)[1]


def test_people_who_met_before_connect_again_wherever_they_are(make_organizer, make_event, make_person):
    organizer = make_organizer()
    week1 = make_event(organizer, name="Week 1")
    ada, bo = make_person("Ada", event=week1), make_person("Bo", event=week1)
    connections.connect(ada, bo.badge_token)
    events.set_status(organizer, week1.public_id, "closed")
    week2 = make_event(organizer, name="Week 2")
    people.join_event(week2, Profile(name="Ada"), person=ada)  # Bo has not checked in at week 2
    connection, created = connections.connect(ada, bo.badge_token, talked_about="week two")
    assert not created and [e.event.name for e in connections.encounters_of(connection)] == ["Week 2", "Week 1"]


# Being told, and the sharing choice.

def test_the_scanned_side_is_told_and_the_scanners_is_not(pair):
    ada, bo, _ = pair
    connection, _ = connections.connect(ada, bo.badge_token)
    assert side(ada, connection).acknowledged_at is not None
    assert side(bo, connection).acknowledged_at is None
    assert (consent.pending_count(ada), consent.pending_count(bo)) == (0, 1)
    # Bo scanning back shows he knows of it.
    connections.connect(bo, ada.badge_token)
    assert consent.pending_count(bo) == 0


def test_new_sides_copy_each_persons_sharing_choice(pair):
    ada, bo, _ = pair
    share_after_confirming(bo)
    connection, _ = connections.connect(ada, bo.badge_token)
    assert (side(ada, connection).shares_contacts, side(bo, connection).shares_contacts) == (True, False)
    assert seen(ada, bo) == [] and seen(bo, ada) == ["ada@example.org"]
    consent.confirm(bo, connection.public_id)
    assert seen(ada, bo) == ["bo@example.org"]
    assert side(bo, connection).acknowledged_at is not None and consent.pending_count(bo) == 0


def test_keep_acknowledges_and_changes_nothing_else(pair):
    ada, bo, _ = pair
    share_after_confirming(bo)
    connection, _ = connections.connect(ada, bo.badge_token)
    assert consent.keep(bo, connection.public_id).changed
    assert not consent.keep(bo, connection.public_id).changed  # a double tap
    assert side(bo, connection).acknowledged_at is not None and not side(bo, connection).shares_contacts
    assert seen(ada, bo) == []


# Removing.

def test_remove_hides_contacts_both_ways_and_leaves_the_other_their_words(pair, app):
    ada, bo, _ = pair
    connection, _ = connections.connect(ada, bo.badge_token, talked_about="Rust", private_note="Ada's note")
    connections.connect(bo, ada.badge_token, private_note="Bo's note")
    assert seen(ada, bo) and seen(bo, ada)
    heard = []

    def receiver(sender, **ids):
        heard.append((sender, ids, db.session.info.get("transaction_depth")))
    signals.connection_removed.connect(receiver)
    try:
        consent.remove(bo, connection.public_id)
        consent.remove(bo, connection.public_id)  # again: nothing more happens
    finally:
        signals.connection_removed.disconnect(receiver)
    assert heard == [(app, {"connection_id": connection.id, "person_ids": (connection.person_a_id,
                                                                          connection.person_b_id),
                            "removed_by": bo.id}, 1)]  # once, inside the transaction
    assert seen(ada, bo) == [] and seen(bo, ada) == []
    assert side(bo, connection).removed_at is not None
    assert side(ada, connection).private_note == "Ada's note"
    assert connections.encounters_of(connection)[0].talked_about == "Rust"
    rows, total = connections.sides_page(bo.id, 0, 10)
    assert (rows, total) == ([], 0)  # off the remover's list
    rows, _ = connections.sides_page(ada.id, 0, 10)
    assert [consent.state(row[1], row[2]) for row in rows] == [consent.NO_LONGER_CONNECTED]


def test_a_scan_after_a_removal_reconnects_only_as_far_as_the_remover_confirms(pair):
    ada, bo, _ = pair
    connection, _ = connections.connect(ada, bo.badge_token)
    consent.remove(bo, connection.public_id)
    connections.connect(ada, bo.badge_token, talked_about="again")
    bos = side(bo, connection)
    assert bos.removed_at is None and bos.shares_contacts is False and bos.acknowledged_at is None
    assert consent.pending_count(bo) == 1  # told again
    assert seen(ada, bo) == [] and seen(bo, ada) == ["ada@example.org"]
    rows, _ = connections.sides_page(ada.id, 0, 10)
    assert [consent.state(row[1], row[2]) for row in rows] == [consent.CONNECTED]
    consent.confirm(bo, connection.public_id)
    assert seen(ada, bo) == ["bo@example.org"]


def test_the_remover_scanning_again_reconnects_on_their_own_terms(pair):
    ada, bo, _ = pair
    connection, _ = connections.connect(ada, bo.badge_token)
    consent.keep(bo, connection.public_id)
    consent.remove(ada, connection.public_id)
    connections.connect(ada, bo.badge_token)
    adas, bos = side(ada, connection), side(bo, connection)
    assert adas.removed_at is None and adas.shares_contacts and adas.acknowledged_at is not None
    assert bos.acknowledged_at is not None  # Bo removed nothing: nothing to tell him again
    assert seen(ada, bo) and seen(bo, ada)


# Blocking.

def test_block_removes_and_a_later_scan_by_the_blocked_person_changes_nothing_for_the_blocker(pair, db_state):
    ada, bo, _ = pair
    connection, _ = connections.connect(ada, bo.badge_token)
    consent.block(bo, connection.public_id)
    blocked = side(bo, connection)
    assert blocked.removed_at is not None and blocked.blocked_at is not None and seen(ada, bo) == []
    _, created = connections.connect(ada, bo.badge_token, talked_about="hello again")
    assert not created
    after = side(bo, connection)
    assert (after.removed_at, after.blocked_at, after.acknowledged_at) == (blocked.removed_at, blocked.blocked_at,
                                                                            blocked.acknowledged_at)
    assert consent.pending_count(bo) == 0 and connections.sides_page(bo.id, 0, 10) == ([], 0)
    assert seen(ada, bo) == [] and seen(bo, ada) == []
    # To Ada it is a connection whose other side has not confirmed: connected, no contacts.
    rows, _ = connections.sides_page(ada.id, 0, 10)
    assert [consent.state(row[1], row[2]) for row in rows] == [consent.CONNECTED]


def test_block_after_remove_still_blocks(pair):
    ada, bo, _ = pair
    connection, _ = connections.connect(ada, bo.badge_token)
    consent.remove(bo, connection.public_id)
    assert consent.block(bo, connection.public_id).changed
    connections.connect(ada, bo.badge_token)
    assert side(bo, connection).removed_at is not None and consent.pending_count(bo) == 0


@pytest.mark.parametrize("action", ["keep", "confirm", "remove", "block"])
def test_only_the_two_people_can_act_on_a_connection(make_event, make_person, action, db_state):
    event = make_event()
    ada, bo, cy = (make_person(name, event=event) for name in ("Ada", "Bo", "Cy"))
    connection, _ = connections.connect(ada, bo.badge_token)
    before = db_state()
    with pytest.raises(DomainError) as error:
        getattr(consent, action)(cy, connection.public_id)
    assert (error.value.code, error.value.status) == ("unknown_connection", 404)
    db.session.commit()
    assert db_state() == before


@pytest.mark.parametrize("action", ["keep", "confirm"])
def test_a_removed_connection_cannot_be_kept_or_confirmed(pair, action):
    ada, bo, _ = pair
    connection, _ = connections.connect(ada, bo.badge_token)
    consent.remove(bo, connection.public_id)
    with pytest.raises(DomainError) as error:
        getattr(consent, action)(bo, connection.public_id)
    assert error.value.code == "unknown_connection"


# The contact rule, in one query.

def test_the_contact_rule_is_one_query_for_many_people(make_event, make_person, count_queries):
    event = make_event()
    viewer = make_person("Viewer", event=event)
    others = [make_person(f"P{i}", event=event, contacts={"email": f"p{i}@example.org"}) for i in range(6)]
    for other in others[:4]:
        connections.connect(other, viewer.badge_token)
    share_after_confirming(others[4])
    connections.connect(viewer, others[4].badge_token)  # P4 shares only after confirming
    first = connections.connection_between(viewer.id, others[0].id)
    second = connections.connection_between(viewer.id, others[1].id)
    consent.remove(viewer, first.public_id)  # removed by the viewer
    consent.block(others[1], second.public_id)  # blocked by the owner
    db.session.expire_all()
    loaded = people.persons_with_details([other.id for other in others])
    db.session.refresh(viewer)
    with count_queries() as statements:
        visible = contacts.visible_to(viewer, loaded.values())
    assert len(statements) == 1
    assert {pid: [c.value for c in fields] for pid, fields in visible.items() if fields} == {
        others[2].id: ["p2@example.org"], others[3].id: ["p3@example.org"]}


@BOTH_DATABASES
def test_a_deleted_account_leaves_an_entry_that_breaks_nothing(pair):
    ada, bo, _ = pair
    connection, _ = connections.connect(ada, bo.badge_token, private_note="kept")
    # What account deletion leaves (built by another part): the connection with a NULL, their side gone.
    column = "person_a_id" if connection.person_a_id == bo.id else "person_b_id"
    db.session.execute(db.update(Connection).where(Connection.id == connection.id).values({column: None}))
    db.session.execute(db.delete(ConnectionSide).where(ConnectionSide.person_id == bo.id))
    db.session.commit()
    db.session.expire_all()
    rows, total = connections.sides_page(ada.id, 0, 10)
    assert total == 1 and rows[0][2] is None and consent.state(rows[0][1], rows[0][2]) == consent.ACCOUNT_DELETED
    assert contacts.visible_to(ada, [None]) == {}
    with pytest.raises(DomainError) as error:
        consent.remove(ada, connection.public_id)
    assert error.value.code == "account_deleted"
    assert db.session.scalar(select(Encounter.id).where(Encounter.connection_id == connection.id)) is not None


@BOTH_DATABASES
def test_the_banner_counts_from_an_index_alone(make_event, make_person):
    """pending_count runs on every page: it reads ix_connection_side_listed, never the sides."""
    event = make_event()
    ada, bo = make_person("Ada", event=event), make_person("Bo", event=event)
    connections.connect(ada, bo.badge_token)
    if db.engine.dialect.name == "postgresql":
        # As the banner meets it: someone with many sides already seen (each they scanned), and a
        # table vacuumed and counted. With a side or two, fresh, PostgreSQL rightly took either index.
        for i in range(40):
            connections.connect(bo, make_person(f"P{i}", event=event).badge_token)
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE connection_side")
        _ = bo.id  # read again after the commit, before counting
    with statements_run() as seen:
        assert consent.pending_count(bo) == 1
    [(statement, parameters)] = seen
    found = plan(statement, parameters)
    if db.engine.dialect.name == "sqlite":
        assert re.fullmatch(r"SEARCH connection_side USING COVERING INDEX ix_connection_side_listed "
                            r"\(person_id=\? AND removed_at=\?\)", found), found
    else:
        assert "ix_connection_side_listed" in found, found
    db.session.rollback()
