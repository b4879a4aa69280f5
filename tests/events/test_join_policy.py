"""Who may join an event: an open link, a code announced at the venue, or the guest list only;
and an optional capacity that holds when two phones take the last place at once."""
from datetime import datetime

import pytest
from sqlalchemy import func, select

from kithmeet.database import transaction
from kithmeet.errors import DomainError
from kithmeet.events import join_policy
from kithmeet.events import services as events
from kithmeet.events.models import CheckIn, Event
from kithmeet.extensions import db
from kithmeet.guests.models import Guest
from kithmeet.organizer.models import Organizer
from kithmeet.people import services as people
from kithmeet.people.models import Person
from kithmeet.people.profile import Profile

from ..pages import field_error, form_error_codes
from ..connections.test_concurrency import at_once
from ..postgres import BOTH_DATABASES

PASSWORD = "a long enough password"


def organizer_of(event):
    return db.session.get(Organizer, event.series.organizer_id)


def set_policy(event, policy="open", entry_code="", capacity=None):
    """Through the organizer's own edit of the event, as the event form does."""
    return events.update_event(organizer_of(event), event.public_id, name=event.name,
                               starts_at=datetime(2026, 11, 26, 19, 0), venue=event.venue,
                               prompts=event.prompt_labels, join_policy=policy, entry_code=entry_code,
                               capacity=capacity)


def profile(name="Ada Okafor", email=None):
    return Profile(name=name, contacts={"email": email} if email else {}, shared={"email": True} if email else {})


def checkins(event):
    return db.session.scalar(select(func.count(CheckIn.id)).where(CheckIn.event_id == event.id))


def people_count():
    return db.session.scalar(select(func.count(Person.id)))


def refused(call):
    with pytest.raises(DomainError) as error:
        call()
    return error.value.code


# The event's settings ---------------------------------------------------------------------

def test_the_policy_is_checked_and_stored(make_event):
    event = make_event()
    assert refused(lambda: set_policy(event, "everyone")) == "bad_join_policy"
    for capacity in (0, -1, True, 100_001, "12"):
        assert refused(lambda: set_policy(event, capacity=capacity)) == "bad_capacity"
    for code in ("abc", "ÄÖÜ-1234", "pizza!", "X" * 17):
        assert refused(lambda: set_policy(event, "code", entry_code=code)) == "bad_entry_code_format"
    set_policy(event, "code", entry_code="  Pizza-42 ", capacity=80)
    db.session.expire_all()
    event = db.session.get(Event, event.id)
    assert (event.join_policy, event.entry_code, event.capacity) == ("code", "Pizza-42", 80)
    # An edit that says nothing of joining keeps it as it is.
    events.update_event(organizer_of(event), event.public_id, name="Renamed", starts_at=datetime(2026, 11, 26, 19, 0),
                        prompts=event.prompt_labels)
    assert (event.join_policy, event.entry_code, event.capacity) == ("code", "Pizza-42", 80)
    set_policy(event, "open")
    assert (event.join_policy, event.entry_code, event.capacity) == ("open", "", None)


def test_choosing_a_code_without_typing_one_makes_a_readable_one(make_event):
    event = set_policy(make_event(), "code")
    code = event.entry_code
    assert len(code) == 7 and code[3] == "-"
    assert all(ch in join_policy.ENTRY_CODE_ALPHABET for ch in code.replace("-", ""))


def test_a_new_event_takes_its_policy_from_the_start(make_organizer):
    event = events.create_event(make_organizer(), name="Launch", starts_at=datetime(2026, 12, 3, 19, 0),
                                join_policy="guests", capacity=40)
    assert (event.join_policy, event.capacity) == ("guests", 40)
    assert refused(lambda: events.create_event(make_organizer(), name="X", starts_at=datetime(2026, 12, 3, 19, 0),
                                               capacity=0)) == "bad_capacity"


# An open link ------------------------------------------------------------------------------

def test_an_open_event_takes_anyone_with_the_link(make_event):
    event = make_event()
    people.join_event(event, profile())
    assert checkins(event) == 1


# A code announced at the venue -------------------------------------------------------------

@pytest.mark.parametrize("typed", [None, "", "PIZZA-43", "PIZZ"])
def test_a_missing_or_wrong_code_is_refused_and_nothing_is_saved(make_event, typed):
    event = set_policy(make_event(), "code", entry_code="PIZZA-42")
    before = people_count()
    assert refused(lambda: people.join_event(event, profile(), entry_code=typed)) == "bad_entry_code"
    assert people_count() == before and checkins(event) == 0


@pytest.mark.parametrize("typed", ["PIZZA-42", "pizza42", " Pizza 42 ", "p-i-z-z-a-4-2"])
def test_the_code_is_compared_ignoring_case_spaces_and_dashes(make_event, typed):
    event = set_policy(make_event(), "code", entry_code="PIZZA-42")
    people.join_event(event, profile(), entry_code=typed)
    assert checkins(event) == 1


def test_someone_already_checked_in_is_back_in_without_the_code(make_event):
    event = make_event()
    ada = people.join_event(event, profile())
    set_policy(event, "code", entry_code="PIZZA-42")
    people.join_event(event, profile("Ada O."), person=ada)  # saving their profile again from the join page
    assert db.session.get(Person, ada.id).name == "Ada O."


def test_the_door_kiosk_checks_people_in_without_the_code(make_event, make_person):
    event = make_event()
    other = make_event(name="Last week", series_name="Elsewhere")
    ada = make_person(event=other)
    set_policy(event, "code", entry_code="PIZZA-42")
    with db.session.begin_nested():
        events.check_in(ada.id, event, via="kiosk")
    db.session.commit()
    assert checkins(event) == 1


# The guest list only -----------------------------------------------------------------------

def guest_list(event, make_person, email):
    guest = make_person("Imported Guest", event=event)
    db.session.add(Guest(series_id=event.series_id, person_id=guest.id, email=email))
    db.session.commit()


def test_only_addresses_on_the_guest_list_get_in(make_event, make_person):
    event = make_event()
    guest_list(event, make_person, "bo@example.org")
    set_policy(event, "guests")
    before = people_count()
    assert refused(lambda: people.join_event(event, profile("Cy", "cy@example.org"))) == "not_on_guest_list"
    assert refused(lambda: people.join_event(event, profile("Cy"))) == "not_on_guest_list"  # no address at all
    assert people_count() == before
    people.join_event(event, profile("Bo", " Bo@Example.org "))
    assert db.session.scalar(select(Person.name).join(CheckIn, CheckIn.person_id == Person.id)
                             .where(CheckIn.event_id == event.id, Person.name == "Bo")) == "Bo"


def test_another_series_guest_list_does_not_count(make_event, make_person):
    event = make_event()
    elsewhere = make_event(name="Other meetup", series_name="Other meetup")
    guest_list(elsewhere, make_person, "bo@example.org")
    set_policy(event, "guests")
    assert refused(lambda: people.join_event(event, profile("Bo", "bo@example.org"))) == "not_on_guest_list"


# Capacity ------------------------------------------------------------------------------------

def test_a_full_event_refuses_newcomers_but_takes_back_who_is_in(make_event, make_person):
    event = make_event()
    set_policy(event, capacity=2)
    ada = people.join_event(event, profile("Ada"))
    people.join_event(event, profile("Bo"))
    before = people_count()
    assert refused(lambda: people.join_event(event, profile("Cy"))) == "event_full"
    assert people_count() == before and checkins(event) == 2
    people.join_event(event, profile("Ada again"), person=ada)  # already in: always gets back in
    assert checkins(event) == 2
    assert join_policy.is_full(event) and not join_policy.is_full(event, ada.id)


def test_the_kiosk_keeps_to_the_capacity_too(make_event, make_person):
    event = make_event()
    dee = make_person("Dee", event=make_event(name="Before", series_name="Before"))
    people.join_event(event, profile("Ada"))
    set_policy(event, capacity=1)
    with pytest.raises(DomainError) as error:
        events.check_in(dee.id, event, via="kiosk")
    db.session.rollback()
    assert error.value.code == "event_full" and checkins(event) == 1


@BOTH_DATABASES
def test_phones_racing_for_the_last_place_let_exactly_one_in(app, make_event):
    event = make_event()
    set_policy(event, capacity=3)
    people.join_event(event, profile("Ada"))
    people.join_event(event, profile("Bo"))
    event_id = event.id
    db.session.remove()

    def join(i):
        return lambda: people.join_event(db.session.get(Event, event_id), profile(f"Racer {i}")).id

    results = at_once(app, [join(i) for i in range(8)])
    winners = [r for r in results if isinstance(r, int)]
    losers = [r for r in results if not isinstance(r, int)]
    assert len(winners) == 1, results
    assert all(isinstance(r, DomainError) and r.code == "event_full" for r in losers), results
    assert db.session.scalar(select(func.count(CheckIn.id)).where(CheckIn.event_id == event_id)) == 3
    # The losers' profiles rolled back with their check-ins: nobody is left half-joined.
    assert db.session.scalar(select(func.count(Person.id))) == 3


@BOTH_DATABASES
def test_people_checked_in_at_the_door_at_once_never_pass_the_capacity(app, make_event, make_person):
    # A check-in that is the transaction's first write (the kiosk, for someone already known).
    event = make_event()
    before = make_event(name="Last week", series_name="Last week")
    ids = [make_person(f"Regular {i}", event=before).id for i in range(8)]
    set_policy(event, capacity=2)
    event_id = event.id
    db.session.remove()

    def door(person_id):
        def run():
            with transaction():
                events.check_in(person_id, db.session.get(Event, event_id), via="kiosk")
            return person_id
        return run

    results = at_once(app, [door(person_id) for person_id in ids])
    assert len([r for r in results if isinstance(r, int)]) == 2, results
    assert all(isinstance(r, DomainError) and r.code == "event_full" for r in results if not isinstance(r, int))
    assert db.session.scalar(select(func.count(CheckIn.id)).where(CheckIn.event_id == event_id)) == 2


# The join page ---------------------------------------------------------------------------------

def test_the_join_page_asks_for_the_code_and_keeps_what_was_typed(make_event, client):
    event = set_policy(make_event(), "code", entry_code="PIZZA-42")
    page = client.get(f"/J/{event.join_code}").get_data(as_text=True)
    assert 'name="entry_code"' in page
    response = client.submit(f"/J/{event.join_code}", data={"name": "Ada Okafor", "headline": "Backend dev",
                                                            "prompt_0": "Flask", "entry_code": "PIZZA-41"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and field_error(html, "entry_code") == "bad_entry_code"
    assert 'value="Ada Okafor"' in html and 'value="Backend dev"' in html and 'value="PIZZA-41"' in html
    empty = client.submit(f"/J/{event.join_code}", data={"name": "Ada Okafor", "prompt_0": "Flask"})
    assert field_error(empty.get_data(as_text=True), "entry_code") == "required"
    joined = client.submit(f"/J/{event.join_code}", data={"name": "Ada Okafor", "prompt_0": "Flask",
                                                          "entry_code": "pizza 42"})
    assert joined.status_code == 302 and checkins(event) == 1
    # Back on the join page, checked in: no code asked again.
    assert 'name="entry_code"' not in client.get(f"/J/{event.join_code}").get_data(as_text=True)


def test_an_open_event_asks_no_code(make_event, client):
    event = make_event()
    assert 'name="entry_code"' not in client.get(f"/J/{event.join_code}").get_data(as_text=True)


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://",
                                         "RATELIMIT_ENTRY_CODE": "3 per minute"}])
def test_guessing_the_code_is_rate_limited_and_then_even_the_right_code_waits(make_event, client):
    event = set_policy(make_event(), "code", entry_code="PIZZA-42")

    def send(code):
        html = client.submit(f"/J/{event.join_code}", data={"name": "Ada", "entry_code": code}).get_data(as_text=True)
        return field_error(html, "entry_code")

    assert [send("WRONG-1"), send("WRONG-2"), send("WRONG-3")] == ["bad_entry_code"] * 3
    assert send("PIZZA-42") == "too_many_guesses"
    assert checkins(event) == 0


def test_a_full_event_says_so_before_the_form_is_filled_in(make_event, client, make_client):
    event = make_event()
    set_policy(event, capacity=1)
    people.join_event(event, profile("Ada"))
    assert form_error_codes(client.get(f"/J/{event.join_code}").get_data(as_text=True)) == ["event_full"]
    response = client.submit(f"/J/{event.join_code}", data={"name": "Bo", "prompt_0": "Flask"})
    assert response.status_code == 200 and "event_full" in form_error_codes(response.get_data(as_text=True))


def test_the_guest_list_refusal_sends_people_to_the_door(make_event, make_person, client):
    event = make_event()
    guest_list(event, make_person, "bo@example.org")
    set_policy(event, "guests")
    page = client.get(f"/J/{event.join_code}").get_data(as_text=True)
    assert 'data-state="guest-list"' in page
    response = client.submit(f"/J/{event.join_code}", data={"name": "Cy", "email": "cy@example.org"})
    assert form_error_codes(response.get_data(as_text=True)) == ["not_on_guest_list"]
    assert client.submit(f"/J/{event.join_code}", data={"name": "Bo", "email": "bo@example.org"}).status_code == 302


# The event form ----------------------------------------------------------------------------------

def signed_in_organizer(make_client, organizer):
    client = make_client()
    assert client.submit("/organizer/login", data={"email": organizer.email, "password": PASSWORD}).status_code == 302
    return client


def event_fields(**changes):
    return {"name": "Thursday Gathering", "starts_at": "2026-11-26T19:00", "venue": "The Corner Café",
            "description": "", "prompt_0": "Ask me about", "join_policy": "open", "entry_code": "", "capacity": "",
            **changes}


def test_the_event_form_sets_who_may_join_and_shows_the_code_to_announce(make_event, make_client, make_organizer):
    organizer = make_organizer(password=PASSWORD)
    event = make_event(organizer)
    client = signed_in_organizer(make_client, organizer)
    url = f"/organizer/events/{event.public_id}/edit"
    bad = client.submit(url, data=event_fields(join_policy="code", entry_code="no!", capacity="0"))
    html = bad.get_data(as_text=True)
    assert field_error(html, "capacity") == "bad_capacity"
    bad = client.submit(url, data=event_fields(join_policy="code", entry_code="no!", capacity="50"))
    html = bad.get_data(as_text=True)
    assert field_error(html, "entry_code") == "bad_entry_code_format" and 'value="no!"' in html
    assert client.submit(url, data=event_fields(join_policy="code", entry_code="Pizza-42",
                                                capacity="50")).status_code == 302
    page = client.get(f"/organizer/events/{event.public_id}").get_data(as_text=True)
    assert "Pizza-42" in page and 'data-state="join-policy"' in page
    db.session.expire_all()
    event = db.session.get(Event, event.id)
    assert (event.join_policy, event.entry_code, event.capacity) == ("code", "Pizza-42", 50)
    form = client.get(url).get_data(as_text=True)
    assert 'value="Pizza-42"' in form and 'value="50"' in form


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://",
                                         "RATELIMIT_ENTRY_CODE": "3 per minute",
                                         "RATELIMIT_ENTRY_CODE_ADDRESS": "8 per minute"}])
def test_a_venue_sharing_one_address_is_not_locked_out_by_joins_or_a_trolls_misses(make_event, make_client):
    event = set_policy(make_event(), "code", entry_code="PIZZA-42")

    def send(phone, code, name="Ada"):
        response = phone.submit(f"/J/{event.join_code}", data={"name": name, "entry_code": code})
        return response.status_code if response.status_code == 302 else field_error(
            response.get_data(as_text=True), "entry_code")

    # More right codes than either limit, each from its own phone behind the venue's address.
    assert [send(make_client(), "PIZZA-42", f"Person {i}") for i in range(10)] == [302] * 10
    troll = make_client()
    assert [send(troll, f"WRONG-{i}") for i in range(4)] == ["bad_entry_code"] * 3 + ["too_many_guesses"]
    assert send(troll, "PIZZA-42") == "too_many_guesses"  # that browser is over: even the right code waits
    assert send(make_client(), "PIZZA-42", "Grace") == 302  # everyone else still gets in
    # Dropping the cookie starts a browser afresh, so misses from one address have a cap too.
    assert [send(make_client(), "WRONG-X") for _ in range(5)] == ["bad_entry_code"] * 5
    assert send(make_client(), "PIZZA-42", "Late") == "too_many_guesses"
    assert checkins(event) == 11
