"""Every error a service raises leaves nothing behind: call it so it fails, commit the
session anyway (as an offline sync or an API batch would go on to do), and the database
is exactly as it was. One case per error code each service can raise."""
from datetime import datetime

import pytest

from kithmeet import signals
from kithmeet.connections import notes
from kithmeet.connections import services as connections
from kithmeet.errors import DomainError
from kithmeet.events import attendees, members
from kithmeet.events import series as series_settings
from kithmeet.events import services as events
from kithmeet.extensions import db
from kithmeet.followup import drafts
from kithmeet.guests import services as guests
from kithmeet.organizer import passwords, twofactor
from kithmeet.organizer import services as organizers
from kithmeet.people import identity
from kithmeet.people import services as people
from kithmeet.people.profile import Profile


@pytest.fixture
def world(make_organizer, make_event, make_person):
    """An organizer's open, draft and closed events; Ada and Bo connected with notes; Cy
    checked in nowhere open; Dee whose badge was replaced."""
    organizer = make_organizer("org@example.org", "a long enough password")
    event = make_event(organizer)
    draft, closed = make_event(organizer, status="draft", name="Draft"), make_event(organizer, status="closed",
                                                                                    name="Closed")
    ada, bo = make_person("Ada", event=event), make_person("Bo", event=event)
    cy = make_person("Cy", event=make_event(organizer, name="Gone"))
    events.set_status(organizer, cy_event_id(cy), "closed")
    dee = make_person("Dee", event=event)
    old_dee = dee.badge_token
    people.replace_badge(dee)
    connection, _ = connections.connect(ada, bo.badge_token, talked_about="Rust", private_note="p" * 600,
                                        client_id="scan-1")
    organizers.setup_code()
    return {"organizer": organizer, "event": event, "draft": draft, "closed": closed, "ada": ada, "bo": bo,
            "cy": cy, "old_dee": old_dee, "connection": connection.public_id}


def own_membership(world):
    """The id of the organizer's series_member row in their open event's series."""
    from kithmeet.events.models import SeriesMember

    return db.session.scalar(db.select(SeriesMember.id).where(
        SeriesMember.series_id == world["event"].series_id, SeriesMember.organizer_id == world["organizer"].id))


def cy_event_id(person):
    from kithmeet.events.models import CheckIn, Event

    return db.session.scalar(db.select(Event.public_id).join(CheckIn).where(CheckIn.person_id == person.id))


CASES = {
    # people
    "join: event_not_open": (lambda w: people.join_event(w["draft"], Profile(name="New")), "event_not_open"),
    "join: event_closed": (lambda w: people.join_event(w["closed"], Profile(name="New")), "event_closed"),
    "join: name_required": (lambda w: people.join_event(w["event"], Profile(name="  ")), "name_required"),
    "join: too_long": (lambda w: people.join_event(w["event"], Profile(name="N", headline="h" * 121)), "too_long"),
    "join: bad_contact": (lambda w: people.join_event(w["event"], Profile(name="N", contacts={"fax": "1"})),
                          "bad_contact"),
    "rejoin: too_long keeps the old profile": (
        lambda w: people.join_event(w["event"], Profile(name="Ada 2", answers=(("Ask me about", "a" * 201),)),
                                    person=w["ada"]), "too_long"),
    "badge: unknown_badge": (lambda w: people.person_by_badge("ZZZZZZZZZZZ"), "unknown_badge"),
    "badge: revoked_badge": (lambda w: people.person_by_badge(w["old_dee"]), "revoked_badge"),
    "sign-in link: bad_signin_link": (lambda w: people.redeem_signin_secret("not-a-secret"), "bad_signin_link"),
    "identity: bad_email": (lambda w: identity.set_email(w["ada"], "not an address"), "bad_email"),
    # events
    "event: name_required": (lambda w: events.create_event(w["organizer"], name=" ", starts_at=datetime(2026, 12, 3),
                                                           series_name="New series"), "name_required"),
    "event: starts_at_required": (lambda w: events.create_event(w["organizer"], name="E", starts_at=None,
                                                                series_name="New series"), "starts_at_required"),
    "event: too_long": (lambda w: events.create_event(w["organizer"], name="E", starts_at=datetime(2026, 12, 3),
                                                      venue="v" * 201, series_name="New series"), "too_long"),
    "event: no_prompt": (lambda w: events.create_event(w["organizer"], name="E", starts_at=datetime(2026, 12, 3),
                                                       prompts=["", " "], series_name="New series"), "no_prompt"),
    "event: duplicate_prompt": (lambda w: events.create_event(w["organizer"], name="E",
                                                              starts_at=datetime(2026, 12, 3),
                                                              prompts=["Ask me", "ask me"], series_name="New"),
                                "duplicate_prompt"),
    "status: bad_status": (lambda w: events.set_status(w["organizer"], w["event"].public_id, "deleted"),
                           "bad_status"),
    "status: unknown_event": (lambda w: events.set_status(w["organizer"], "NOSUCHEVNT", "closed"), "unknown_event"),
    # Time zones (events/timezones.py): a new series' zone, and a time its clocks skip.
    "event: bad_time_zone": (lambda w: events.create_event(w["organizer"], name="E", series_name="New",
                                                           starts_at=datetime(2026, 12, 3), time_zone="Mars/Olympus"),
                             "bad_time_zone"),
    "event: nonexistent_time": (lambda w: events.create_event(w["organizer"], name="E", series_name="New",
                                                              starts_at=datetime(2026, 3, 29, 1, 30),
                                                              time_zone="Europe/London"), "nonexistent_time"),
    "series settings: bad_time_zone": (lambda w: series_settings.update_settings(
        w["organizer"], w["event"].series.public_id, retention_months=6, code_of_conduct_url="",
        time_zone="Nowhere/At_All"), "bad_time_zone"),
    # who helps run a series (events/members.py): last_owner is found after the write, and undoes it
    "members: last_owner after demoting": (lambda w: members.change_role(
        w["organizer"], w["event"].series.public_id, own_membership(w), "door"), "last_owner"),
    "members: last_owner after leaving": (lambda w: members.leave(w["organizer"], w["event"].series.public_id),
                                          "last_owner"),
    "members: bad_role": (lambda w: members.invite(w["organizer"], w["event"].series.public_id, role="owner"),
                          "bad_role"),
    "members: unknown_invite": (lambda w: members.accept(w["organizer"], "no-such-token"), "unknown_invite"),
    # guest-list import (guests/services.py): a bad file or someone else's series writes nothing
    "guests: empty_file": (lambda w: guests.upload(w["organizer"], w["event"].series.public_id, "l.csv", b""),
                           "empty_file"),
    "guests: not_a_text_file": (lambda w: guests.upload(w["organizer"], w["event"].series.public_id, "l.xlsx",
                                                        b"PK\x03\x04rest"), "not_a_text_file"),
    "guests: broken_file": (lambda w: guests.upload(w["organizer"], w["event"].series.public_id, "l.csv",
                                                    b'Name,Email\n"Ada,ada@example.org\n'), "broken_file"),
    "guests: unknown_series": (lambda w: guests.upload(w["organizer"], "NOSUCHSERS", "l.csv", b"Name,Email\nA,a@b.c\n"),
                               "unknown_series"),
    "guests: unknown_import": (lambda w: guests.run_import(w["organizer"], "NOSUCHIMPT", {"name": 0, "email": 1}),
                               "unknown_import"),
    "guests: unknown_person": (lambda w: guests.claim(10_000), "unknown_person"),
    # the attendee list (events/attendees.py): a key not on the event's list hides or removes no one
    "attendees: hide unknown_attendee": (lambda w: attendees.hide(w["organizer"], w["event"].public_id, "nokey"),
                                         "unknown_attendee"),
    "attendees: remove unknown_attendee": (lambda w: attendees.remove_from_series(
        w["organizer"], w["event"].public_id, "nokey"), "unknown_attendee"),
    # organizers
    "organizer: bad_email": (lambda w: organizers.create_organizer("nope", "a long enough password"), "bad_email"),
    "organizer: weak_password": (lambda w: organizers.create_organizer("new@example.org", "short"), "weak_password"),
    "organizer: organizer_exists": (lambda w: organizers.create_organizer("ORG@example.org", "a long enough pw"),
                                    "organizer_exists"),
    "setup: setup_done": (lambda w: organizers.complete_setup(organizers.setup_code(), "x@example.org",
                                                              "a long enough password"), "setup_done"),
    # An unknown email: a wrong password for a real account is counted on purpose (lockout.py).
    "sign-in: bad_credentials": (lambda w: organizers.authenticate("nobody@example.org", "wrong password"),
                                 "bad_credentials"),
    "change password: weak_password": (lambda w: passwords.change_password(w["organizer"], "a long enough password",
                                                                           "short"), "weak_password"),
    "reset: bad_reset_link": (lambda w: passwords.reset_password("not-a-secret", "a long enough password"),
                              "bad_reset_link"),
    "two-factor: two_factor_not_started": (lambda w: twofactor.turn_on(w["organizer"], "a long enough password",
                                                                       "123456"), "two_factor_not_started"),
    "two-factor: two_factor_off": (lambda w: twofactor.turn_off(w["organizer"], "a long enough password", "123456"),
                                   "two_factor_off"),
    "two-factor: sign_in_expired": (lambda w: twofactor.complete_sign_in(w["organizer"].id, 0, 1, True, "123456"),
                                    "sign_in_expired"),
    # connections
    "connect: self_scan": (lambda w: connections.connect(w["ada"], w["ada"].badge_token), "self_scan"),
    "connect: unknown_badge": (lambda w: connections.connect(w["ada"], "ZZZZZZZZZZZ"), "unknown_badge"),
    "connect: revoked_badge": (lambda w: connections.connect(w["ada"], w["old_dee"]), "revoked_badge"),
    "connect: too_long": (lambda w: connections.connect(w["bo"], w["ada"].badge_token, talked_about="t" * 1001),
                          "too_long"),
    "connect: not_checked_in": (lambda w: connections.connect(w["cy"], w["ada"].badge_token), "event_closed"),
    # The case: a resent scan whose shared words fit but whose private note does not.
    "resent scan: too_long after the shared line merged": (
        lambda w: connections.connect(w["ada"], w["bo"].badge_token, talked_about="New line", private_note="q" * 500,
                                      client_id="scan-1"), "too_long"),
    "new scan: too_long after the pair's rows": (
        lambda w: connections.connect(w["ada"], w["bo"].badge_token, talked_about="x" * 999), "too_long"),
    "edit: unknown_connection": (lambda w: notes.edit(w["cy"], w["connection"], private_note="x"),
                                 "unknown_connection"),
    "edit: bad_status, with a note that would have been saved": (
        lambda w: notes.edit(w["ada"], w["connection"], status="sold", private_note="changed"), "bad_status"),
    "save entry: bad_status, with a conflicting line that would have left a draft": (
        lambda w: drafts.save_entry(w["ada"], w["connection"], status="sold", talked_about="Mine",
                                    talked_about_fingerprint=notes.fingerprint("stale")), "bad_status"),
    "edit: too_long, with a status that would have been saved": (
        lambda w: notes.edit(w["ada"], w["connection"], status="followed_up", private_note="n" * 1001), "too_long"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_failed_service_call_leaves_nothing_behind(world, db_state, case):
    call, code = CASES[case]
    before = db_state()
    with pytest.raises(DomainError) as error:
        call(world)
    assert error.value.code == code
    db.session.commit()  # whatever the failed call left in the session would be saved now
    assert db_state() == before


def test_not_checked_in_anywhere(make_event, make_person, db_state):
    from kithmeet.people.models import Person

    ada = make_person("Ada", event=make_event())
    loner = Person(name="Loner")  # made outside joining: checked in nowhere
    db.session.add(loner)
    db.session.commit()
    before = db_state()
    with pytest.raises(DomainError) as error:
        connections.connect(loner, ada.badge_token)
    assert error.value.code == "not_checked_in"
    db.session.commit()
    assert db_state() == before


def test_a_failing_signal_receiver_rolls_the_whole_change_back(app, world, db_state):
    def refuse(_sender, **_ids):
        raise RuntimeError("receiver failed")

    eve = people.join_event(world["event"], Profile(name="Eve"))
    before = db_state()
    signals.connection_made.connect(refuse)
    try:
        with pytest.raises(RuntimeError):
            connections.connect(world["bo"], eve.badge_token, talked_about="Lost with the scan")
    finally:
        signals.connection_made.disconnect(refuse)
    db.session.commit()
    assert db_state() == before
