"""Domain events other domains react to: each sent once, by the service that owns the change,
with plain ids, inside its transaction."""
from contextlib import contextmanager

import pytest

from kithmeet import signals
from kithmeet.connections import services as connections
from kithmeet.events import services as events
from kithmeet.people import services as people
from kithmeet.people.profile import Profile

ALL = ("person_joined", "checked_in", "connection_made", "connection_removed", "event_opened", "event_closed",
       "person_deleted")


@pytest.fixture
def heard(app):
    """Every signal sent while the test runs, as (name, {ids})."""
    received = []
    receivers = []
    for name in ALL:
        def receiver(sender, _name=name, **ids):
            assert sender is app
            received.append((_name, ids))
        getattr(signals, name).connect(receiver)
        receivers.append((name, receiver))
    yield received
    for name, receiver in receivers:
        getattr(signals, name).disconnect(receiver)


@contextmanager
def only(heard):
    start = len(heard)
    new = []
    yield new
    new.extend(heard[start:])


def test_the_loop_sends_each_domain_event_once(make_organizer, make_event, heard):
    organizer = make_organizer()
    with only(heard) as sent:
        event = make_event(organizer)
    assert sent == [("event_opened", {"event_id": event.id, "organizer_id": organizer.id})]

    with only(heard) as sent:
        ada = people.join_event(event, Profile(name="Ada"))
    assert sent == [("person_joined", {"person_id": ada.id, "event_id": event.id}),
                    ("checked_in", {"person_id": ada.id, "event_id": event.id})]
    with only(heard) as sent:
        people.join_event(event, Profile(name="Ada again"), person=ada)
    assert sent == []  # already checked in: nothing new happened

    bo = people.join_event(event, Profile(name="Bo"))
    with only(heard) as sent:
        connection, _ = connections.connect(ada, bo.badge_token, talked_about="Rust")
    assert sent == [("connection_made", {"connection_id": connection.id, "person_ids": tuple(sorted((ada.id, bo.id))),
                                         "event_id": event.id, "scanner_id": ada.id})]
    with only(heard) as sent:
        connections.connect(bo, ada.badge_token)  # the reverse scan: the same connection
    assert sent == []

    with only(heard) as sent:
        events.set_status(organizer, event.public_id, "closed")
        events.set_status(organizer, event.public_id, "closed")  # already closed: no second signal
    assert sent == [("event_closed", {"event_id": event.id, "organizer_id": organizer.id})]


def test_a_refused_change_sends_nothing(make_event, make_person, heard):
    event = make_event(status="closed")
    with only(heard) as sent:
        with pytest.raises(Exception):
            people.join_event(event, Profile(name="Late"))
    assert sent == []
