"""What a connect writes, now that its writes are statements built once and run past the ORM
(connections.services._writes): a meeting touches both sides and moves the pair's latest meeting
up, never back; a connection an Undo took back since the scan read it is made anew; and the
objects the caller holds stay true after the commit, which keeps them loaded."""
from datetime import timedelta

from sqlalchemy import select, update

from kithmeet.connections import scans
from kithmeet.connections import services as connections
from kithmeet.connections.models import Connection, ConnectionSide, Encounter, Scan
from kithmeet.database import utcnow
from kithmeet.extensions import db

from ..postgres import BOTH_DATABASES
from .test_sync import backdate


def touched(connection_id):
    db.session.expire_all()
    return dict(db.session.execute(select(ConnectionSide.person_id, ConnectionSide.touched_at)
                                   .where(ConnectionSide.connection_id == connection_id)).all())


def night(make_event, make_person):
    event = make_event()
    ada, bo = make_person("Ada", event=event), make_person("Bo", event=event)
    backdate(event, checked_in=utcnow() - timedelta(hours=3))
    return event, ada, bo


@BOTH_DATABASES
def test_a_meeting_again_touches_both_sides_and_a_late_one_moves_nothing_back(make_event, make_person):
    _, ada, bo = night(make_event, make_person)
    connection, created = connections.connect(ada, bo.badge_token)
    assert created and set(touched(connection.id)) == {ada.id, bo.id}
    long_ago = utcnow() - timedelta(days=40)
    db.session.execute(update(ConnectionSide).values(touched_at=long_ago))
    db.session.commit()
    before = utcnow()
    again, created = connections.connect(bo, ada.badge_token, talked_about="Tea")  # the other way round
    assert not created and again.id == connection.id
    assert all(when >= before for when in touched(connection.id).values())  # both, not only the scanner's
    now_touched = touched(connection.id)
    # A scan queued an hour ago syncs now: it counts then, and moves neither side nor the pair back.
    connections.connect(ada, bo.badge_token, client_id="late", scanned_at=utcnow() - timedelta(hours=1))
    assert touched(connection.id) == now_touched
    db.session.expire_all()
    assert db.session.get(Connection, connection.id).last_met_at == max(now_touched.values())


@BOTH_DATABASES
def test_a_connection_taken_back_after_the_scan_read_it_is_made_anew(make_event, make_person, monkeypatch):
    event, ada, bo = night(make_event, make_person)
    connections.connect(ada, bo.badge_token, client_id="first")
    read = connections._where_and_when

    def undone_meanwhile(*args, **kwargs):
        found = read(*args, **kwargs)  # the pair's connection, read before the write
        scans.undo(ada, "first")  # and taken back (by the same phone's Undo) before it writes
        return found
    monkeypatch.setattr(connections, "_where_and_when", undone_meanwhile)
    done = connections.connect_scan(ada, bo.badge_token, client_id="second")
    assert done.created and not done.repeat
    db.session.expire_all()
    (connection,) = db.session.scalars(select(Connection)).all()
    assert done.connection.id == connection.id == db.session.scalar(
        select(Scan.connection_id).where(Scan.client_id == "second"))
    assert len(touched(connection.id)) == 2 and db.session.scalar(
        select(Encounter.event_id).where(Encounter.connection_id == connection.id)) == event.id


def test_what_the_caller_holds_stays_true_after_the_commit(make_event, make_person):
    # The commit keeps loaded objects (transaction(expire=False)): what the connect changed of
    # them it expires itself, so reading them after it is reading the database.
    _, ada, bo = night(make_event, make_person)
    first, _ = connections.connect(ada, bo.badge_token)
    held = db.session.get(Connection, first.id)
    old = held.last_met_at
    connections.connect(bo, ada.badge_token)
    assert held.last_met_at > old
    assert held.last_met_at == db.session.execute(
        select(Connection.__table__.c.last_met_at).where(Connection.__table__.c.id == first.id)).scalar_one()
