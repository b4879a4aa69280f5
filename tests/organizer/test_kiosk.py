"""The door kiosk: its services (search, both lanes, the hand-off, leaving with the password)
and its pages (the lock, one-time hand-off screen, reset)."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from kithmeet.database import utcnow
from kithmeet.errors import DomainError, NotFound
from kithmeet.events import services as events
from kithmeet.events.models import CheckIn, EventRemoval, SeriesMember
from kithmeet.extensions import db
from kithmeet.guests.models import Guest
from kithmeet.organizer import kiosk
from kithmeet.organizer.models import Organizer
from kithmeet.people import handoff
from kithmeet.people.models import KioskHandoff, Person

from ..pages import error_codes, field_error
from ..postgres import BOTH_DATABASES
from .conftest import PASSWORD, log_in

SECRET = "kiosk-handoff-secret-for-tests-0"


def guest(event, name, email, headline=""):
    """An imported guest of the event's series: a person with a badge they have not claimed."""
    person = Person(name=name, headline=headline, email=email)
    db.session.add(person)
    db.session.flush()
    # Not in the INSERT: the ORM would take a None there as "use the default".
    db.session.execute(update(Person).where(Person.id == person.id).values(claimed_at=None))
    db.session.add(Guest(series_id=event.series_id, person_id=person.id, email=email))
    db.session.commit()
    assert person.claimed_at is None
    return person


@pytest.fixture
def event(organizer, make_event):
    return make_event(organizer)


@pytest.fixture
def kiosk_client(app, event, organizer):
    """A browser signed in as the organizer, in kiosk mode for `event`."""
    client = app.test_client()
    log_in(client)
    response = client.submit(f"/organizer/events/{event.public_id}/kiosk", page=f"/organizer/events/{event.public_id}")
    assert response.status_code == 302 and response.location == "/kiosk"
    return client


@pytest.fixture
def fixed_secret(monkeypatch):
    monkeypatch.setattr(handoff, "new_secret", lambda: SECRET)
    return SECRET


def names(matches):
    return [match.name for match in matches.people]


# The search ------------------------------------------------------------------------------------

def test_search_finds_the_series_guests_and_earlier_check_ins_by_any_part_of_the_name(
        organizer, event, make_event, make_person):
    earlier = make_event(organizer, name="Last week", status="closed")
    ada = guest(event, "Ada Okafor", "ada@example.org")
    events.set_status(organizer, earlier.public_id, "open")
    bea = make_person("Beatrice Adams", event=earlier)
    make_person("Adalbert Elsewhere", event=make_event(name="Other", series_name="Another series"))
    assert names(kiosk.search(organizer, event.public_id, "ad")) == ["Ada Okafor", "Beatrice Adams"]
    assert names(kiosk.search(organizer, event.public_id, " OKAF ")) == ["Ada Okafor"]
    assert [m.person_id for m in kiosk.search(organizer, event.public_id, "adams").people] == [bea.id]
    assert ada.id in [m.person_id for m in kiosk.search(organizer, event.public_id, "ada").people]


def test_search_needs_two_letters_and_treats_wildcards_as_letters(organizer, event):
    guest(event, "Ada Okafor", "ada@example.org")
    for text in ("", " a ", "a"):
        with pytest.raises(DomainError) as refused:
            kiosk.search(organizer, event.public_id, text)
        assert refused.value.code == "too_short"
    assert names(kiosk.search(organizer, event.public_id, "%%")) == []
    assert names(kiosk.search(organizer, event.public_id, "__")) == []


def test_search_leaves_out_people_removed_from_the_series_or_hidden_from_the_event(organizer, event, make_person):
    gone = guest(event, "Ada Gone", "gone@example.org")  # on the list: removal must still keep them out
    hidden = make_person("Ada Hidden", event=event)
    make_person("Ada Here", event=event)
    events.remove_from_series(organizer, event.series_id, gone.id)
    db.session.add(EventRemoval(event_id=event.id, person_id=hidden.id))
    db.session.commit()
    assert names(kiosk.search(organizer, event.public_id, "ada")) == ["Ada Here"]


def test_two_people_of_one_name_are_told_apart_by_the_start_of_the_headline_only(organizer, event):
    guest(event, "Sam Lee", "sam1@example.org", headline="Backend developer at a bank")
    guest(event, "Sam Lee", "sam2@example.org", headline="Designer")
    guest(event, "Sam Park", "sam3@example.org", headline="Never shown")
    found = kiosk.search(organizer, event.public_id, "sam").people
    assert sorted(m.hint for m in found if m.name == "Sam Lee") == ["Backend deve…", "Designer"]
    assert [m.hint for m in found if m.name == "Sam Park"] == [""]


def test_search_shows_a_screenful_and_says_there_are_more_in_one_query(organizer, event, count_queries):
    for i in range(kiosk.MAX_MATCHES + 3):
        guest(event, f"Alex {i:02d}", f"alex{i}@example.org")
    db.session.expire_all()
    kiosk.kiosk_event(organizer, event.public_id)
    with count_queries() as statements:
        found = kiosk.search(organizer, event.public_id, "alex")
    assert len(found.people) == kiosk.MAX_MATCHES and found.more
    assert len(statements) == 2  # the event (access) and the people, whatever their number


def test_only_members_of_the_series_may_use_the_kiosk_and_a_door_volunteer_may(
        organizer, event, make_organizer):
    stranger, volunteer = make_organizer(), make_organizer()
    db.session.add(SeriesMember(series_id=event.series_id, organizer_id=volunteer.id, role="door"))
    db.session.commit()
    with pytest.raises(NotFound):
        kiosk.open_kiosk(stranger, event.public_id)
    with pytest.raises(NotFound):
        kiosk.search(stranger, event.public_id, "ada")
    assert kiosk.open_kiosk(volunteer, event.public_id) == event
    assert kiosk.search(volunteer, event.public_id, "ada").people == []


def test_the_kiosk_opens_only_for_an_open_event(organizer, make_event):
    for status, code in (("draft", "event_not_open"), ("closed", "event_closed")):
        with pytest.raises(DomainError) as refused:
            kiosk.open_kiosk(organizer, make_event(organizer, status=status).public_id)
        assert refused.value.code == code


# "I registered" ----------------------------------------------------------------------------------

def test_checking_in_a_guest_records_the_kiosk_and_claims_their_badge(organizer, event, db_state):
    ada = guest(event, "Ada Okafor", "ada@example.org")
    kiosk.check_in_registered(organizer, event.public_id, ada.id)
    db.session.expire_all()
    check_in = db.session.scalar(select(CheckIn).where(CheckIn.person_id == ada.id))
    assert check_in.event_id == event.id and check_in.via == "kiosk"
    assert db.session.get(Person, ada.id).claimed_at is not None
    before = db_state()
    kiosk.check_in_registered(organizer, event.public_id, ada.id)  # a second tap changes no check-in
    after = db_state()
    assert before["check_in"] == after["check_in"] and before["person"] == after["person"]


def test_the_kiosk_checks_in_only_people_its_search_could_find(organizer, event, make_event, make_person, db_state):
    elsewhere = make_person("Ada Elsewhere", event=make_event(name="Other", series_name="Another series"))
    before = db_state()
    for person_id in (elsewhere.id, 10_000, "1"):
        with pytest.raises(NotFound) as refused:
            kiosk.check_in_registered(organizer, event.public_id, person_id)
        assert refused.value.code == "unknown_person"
    assert db_state() == before


# "I'm new here" --------------------------------------------------------------------------------

def test_joining_at_the_kiosk_makes_a_person_checked_in_there_with_an_unshared_email(organizer, event):
    person = kiosk.join_new(organizer, event.public_id, name="New Person", answer="Rust", email="New@Example.org")
    db.session.expire_all()
    person = db.session.get(Person, person.id)
    assert person.email == "new@example.org"
    assert [(c.kind, c.shared) for c in person.contacts] == [("email", False)]
    assert [(a.prompt, a.answer) for a in person.answers] == [(event.prompt_labels[0], "Rust")]
    assert db.session.scalar(select(CheckIn.via).where(CheckIn.person_id == person.id)) == "kiosk"


def test_joining_at_the_kiosk_is_refused_whole(organizer, event, make_person, db_state):
    make_person("Ada", event=event, contacts={"email": "ada@example.org"})
    before = db_state()
    for fields, code in (({"name": " "}, "name_required"), ({"name": "Ada", "email": "ada@example.org"}, "email_known"),
                         ({"name": "Ada", "email": "not an address"}, "bad_email")):
        with pytest.raises(DomainError) as refused:
            kiosk.join_new(organizer, event.public_id, **fields)
        assert refused.value.code == code
    assert db_state() == before


# The hand-off ------------------------------------------------------------------------------------

def test_a_handoff_signs_in_once_within_five_minutes(organizer, event, make_person):
    ada = make_person("Ada", event=event)
    now = utcnow()
    secret = handoff.issue(ada.id, event.id, now=now)
    assert db.session.scalar(select(KioskHandoff.token_hash)) not in (None, secret)  # only its hash is kept
    assert handoff.person_by_secret(secret, now=now + timedelta(minutes=4)).id == ada.id
    with pytest.raises(NotFound):
        handoff.redeem(secret, now=now + timedelta(minutes=5, seconds=1))
    assert handoff.redeem(secret, now=now + timedelta(minutes=4)).id == ada.id
    for check in (handoff.redeem, handoff.person_by_secret):
        with pytest.raises(NotFound) as refused:
            check(secret, now=now + timedelta(minutes=4))
        assert refused.value.code == "bad_handoff"
    with pytest.raises(NotFound):
        handoff.redeem("x" * 200)


@BOTH_DATABASES
def test_a_handoff_sent_many_times_at_once_signs_in_exactly_once(organizer, event, make_person, at_once):
    secret = handoff.issue(make_person("Ada", event=event).id, event.id)
    outcomes = at_once(6, lambda i: handoff.redeem(secret))
    assert sorted(outcomes) == ["bad_handoff"] * 5 + ["ok"]


def test_the_handoff_is_only_for_someone_checked_in_at_the_kiosk_event(organizer, event, make_event, make_person):
    other = make_person("Bo", event=make_event(organizer, name="Other night"))
    with pytest.raises(NotFound) as refused:
        kiosk.start_handoff(organizer, event.public_id, other.id, allowed=True)
    assert refused.value.code == "not_checked_in"


# Leaving ---------------------------------------------------------------------------------------

def reload(organizer):
    db.session.expire_all()
    return db.session.get(Organizer, organizer.id)


def test_leaving_needs_the_password_and_wrong_ones_count_like_failed_sign_ins(organizer, event, clock):
    for attempt in range(4):
        with pytest.raises(DomainError) as refused:
            kiosk.leave_kiosk(organizer, "wrong password", event_id=event.id)
        assert refused.value.code == "bad_password"
    assert reload(organizer).failed_sign_ins == 4
    with pytest.raises(DomainError) as refused:
        kiosk.leave_kiosk(reload(organizer), "wrong password")
    assert refused.value.code == "locked"
    with pytest.raises(DomainError) as refused:  # locked: the right password waits too
        kiosk.leave_kiosk(reload(organizer), PASSWORD)
    assert refused.value.code == "locked"
    clock.advance(minutes=2)
    kiosk.leave_kiosk(reload(organizer), PASSWORD, event_id=event.id)
    assert reload(organizer).failed_sign_ins == 5  # a kiosk is no sign-in: the count stays


# The pages ---------------------------------------------------------------------------------------

def test_in_kiosk_mode_every_other_page_leads_back_to_the_kiosk(kiosk_client, event, make_person):
    for path in ("/organizer/", f"/organizer/events/{event.public_id}", "/badge", "/followup",
                 f"/J/{event.join_code}", "/", "/organizer/account", "/no-such-page"):
        response = kiosk_client.get(path)
        assert (response.status_code, response.location) == (302, "/kiosk"), path
    response = kiosk_client.submit("/organizer/logout", page="/kiosk/registered")  # not even signing out: the password is asked
    assert (response.status_code, response.location) == (302, "/kiosk")
    assert kiosk_client.get("/kiosk").status_code == 200


def test_kiosk_pages_are_for_a_browser_in_kiosk_mode_only(app, client, organizer, event, make_person, signed_in):
    ada = make_person("Ada", event=event)
    log_in(client)
    assert client.get("/kiosk").location == "/organizer/"
    token = client.csrf_token("/organizer/")
    for path in ("/kiosk/registered", "/kiosk/check-in"):
        response = client.post(path, data={"csrf_token": token, "name": "ada", "person": str(ada.id)})
        assert response.status_code == 409 and error_codes(response.get_data(as_text=True)) == ["no_kiosk"]
    attendee = signed_in(ada)
    assert attendee.get("/kiosk/registered").location == "/organizer/login?next=/kiosk/registered"


def test_leaving_the_kiosk_asks_the_organizers_password(kiosk_client, organizer, event):
    response = kiosk_client.submit("/kiosk/leave", data={"password": "not it"})
    assert field_error(response.get_data(as_text=True), "password") == "bad_password"
    assert kiosk_client.get("/organizer/").location == "/kiosk"
    response = kiosk_client.submit("/kiosk/leave", data={"password": PASSWORD})
    assert response.location == "/organizer/"
    assert kiosk_client.get("/organizer/").status_code == 200
    assert kiosk_client.get("/kiosk").location == "/organizer/"


def test_the_kiosk_ends_with_the_sign_in_that_opened_it(kiosk_client, organizer, make_client):
    from kithmeet.organizer import passwords

    passwords.change_password(reload(organizer), PASSWORD, "a brand new password")  # signs other devices out
    response = kiosk_client.get("/organizer/")
    assert response.location.startswith("/organizer/login")


def search(client, text):
    return client.submit("/kiosk/registered", data={"name": text}).get_data(as_text=True)


def pick(client, html):
    person = re.search(r'name="person" value="(\d+)"', html).group(1)
    return client.submit("/kiosk/check-in", data={"person": person}, page="/kiosk/registered")


def test_i_registered_then_the_handoff_signs_in_on_the_persons_own_phone(
        kiosk_client, make_client, event, fixed_secret):
    ada = guest(event, "Ada Okafor", "ada@example.org")
    page = search(kiosk_client, "oka")
    assert "Ada Okafor" in page and "ada@example.org" not in page
    response = pick(kiosk_client, page)
    assert (response.status_code, response.location) == (302, "/kiosk/welcome")
    welcome = kiosk_client.get("/kiosk/welcome")
    html = welcome.get_data(as_text=True)
    assert "Ada Okafor" in html and 'src="data:image/svg+xml;base64,' in html
    assert welcome.headers["Cache-Control"] == "no-store"
    assert fixed_secret not in html  # only inside the QR image
    assert kiosk_client.get("/kiosk/welcome/status").get_json() == {"done": False}

    phone = make_client()
    link = f"/signin/kiosk/{fixed_secret}"
    assert "Ada Okafor" in phone.get(link).get_data(as_text=True)
    assert phone.submit(link).location == "/badge"
    assert "Ada Okafor" in phone.get("/badge").get_data(as_text=True)
    assert make_client().submit(link, page="/").status_code == 404  # once only
    assert kiosk_client.get("/kiosk/welcome/status").get_json() == {"done": True}
    db.session.expire_all()
    assert db.session.get(Person, ada.id).claimed_at is not None


def test_the_handoff_screen_shows_once_and_the_back_button_finds_nobody(kiosk_client, event, fixed_secret):
    guest(event, "Ada Okafor", "ada@example.org")
    response = pick(kiosk_client, search(kiosk_client, "ada"))
    assert "Ada" not in response.location
    assert "Ada Okafor" in kiosk_client.get("/kiosk/welcome").get_data(as_text=True)
    for path in ("/kiosk/welcome", "/kiosk/welcome"):  # a reload, the back button, history
        assert kiosk_client.get(path).location == "/kiosk"
    assert "Ada" not in kiosk_client.get("/kiosk").get_data(as_text=True)


def test_the_kiosk_forgets_the_person_once_the_idle_time_is_over(app, kiosk_client, event):
    guest(event, "Ada Okafor", "ada@example.org")
    pick(kiosk_client, search(kiosk_client, "ada"))
    app.config["KIOSK_IDLE_SECONDS"] = -1  # already over
    assert kiosk_client.get("/kiosk/welcome").location == "/kiosk"
    app.config["KIOSK_IDLE_SECONDS"] = 30
    assert kiosk_client.get("/kiosk/welcome").location == "/kiosk"  # forgotten, not only hidden
    assert db.session.scalar(select(func.count(KioskHandoff.id))) == 0


def test_the_start_page_forgets_whoever_was_on_screen(kiosk_client, event):
    guest(event, "Ada Okafor", "ada@example.org")
    pick(kiosk_client, search(kiosk_client, "ada"))
    kiosk_client.get("/kiosk")
    assert kiosk_client.get("/kiosk/welcome").location == "/kiosk"


def test_im_new_here_joins_without_signing_the_kiosk_in(kiosk_client, event, fixed_secret):
    page = kiosk_client.get("/kiosk/new").get_data(as_text=True)
    assert 'autocomplete="off"' in page and event.prompt_labels[0] in page
    response = kiosk_client.submit("/kiosk/new", data={"name": "Nia New", "answer": "Go", "email": ""})
    assert response.location == "/kiosk/welcome"
    assert "Nia New" in kiosk_client.get("/kiosk/welcome").get_data(as_text=True)
    person = db.session.scalar(select(Person).where(Person.name == "Nia New"))
    assert db.session.scalar(select(CheckIn.via).where(CheckIn.person_id == person.id)) == "kiosk"
    with kiosk_client.session_transaction() as session:
        assert "person" not in session


def test_im_new_here_shows_errors_beside_the_fields(kiosk_client, event):
    html = kiosk_client.submit("/kiosk/new", data={"name": "", "email": "nope"}).get_data(as_text=True)
    assert field_error(html, "name") == "required" and field_error(html, "email") == "bad_email"


def test_kiosk_fields_never_autofill(kiosk_client):
    for path in ("/kiosk/registered", "/kiosk/new", "/kiosk/leave"):
        html = kiosk_client.get(path).get_data(as_text=True)
        inputs = re.findall(r"<input[^>]*>", html)
        visible = [i for i in inputs if 'type="hidden"' not in i]
        assert visible and all('autocomplete="off"' in i or 'autocomplete="new-password"' in i for i in visible), path


def test_print_my_badge_prints_the_person_on_screen_where_the_series_has_a_label_printer(
        app, kiosk_client, event):
    guest(event, "Ada Okafor", "ada@example.org")
    pick(kiosk_client, search(kiosk_client, "ada"))
    assert "kiosk-print" not in kiosk_client.get("/kiosk/welcome").get_data(as_text=True)
    assert kiosk_client.get("/kiosk/label.pdf").location == "/kiosk"  # no label printer here

    event.series.label_printer = True
    db.session.commit()
    pick(kiosk_client, search(kiosk_client, "ada"))
    html = kiosk_client.get("/kiosk/welcome").get_data(as_text=True)
    assert 'href="/kiosk/label.pdf"' in html  # nothing in the address says whose badge it is
    response = kiosk_client.get("/kiosk/label.pdf")
    assert response.mimetype == "application/pdf" and response.data.startswith(b"%PDF")
    assert response.headers["Cache-Control"] == "no-store"
    app.config["KIOSK_IDLE_SECONDS"] = -1  # left on screen past the idle time: forgotten
    assert kiosk_client.get("/kiosk/label.pdf").location == "/kiosk"
    app.config["KIOSK_IDLE_SECONDS"] = 30
    kiosk_client.get("/kiosk")  # the next person: the label is no longer reachable
    assert kiosk_client.get("/kiosk/label.pdf").location == "/kiosk"


def test_a_door_volunteer_opens_the_kiosk_from_the_dashboard(app, event, make_organizer):
    volunteer = make_organizer("door@example.org", PASSWORD)
    db.session.add(SeriesMember(series_id=event.series_id, organizer_id=volunteer.id, role="door"))
    db.session.commit()
    client = app.test_client()
    log_in(client, email="door@example.org")
    dashboard = client.get("/organizer/").get_data(as_text=True)
    assert f'action="/organizer/events/{event.public_id}/kiosk"' in dashboard
    response = client.submit(f"/organizer/events/{event.public_id}/kiosk", page="/organizer/")
    assert response.location == "/kiosk" and client.get("/kiosk").status_code == 200
    assert client.submit("/kiosk/leave", data={"password": PASSWORD}).location == "/organizer/"


def test_a_handoff_link_is_masked_in_logs():
    from kithmeet.security import mask_secrets

    assert mask_secrets("GET /signin/kiosk/AbC-123_x HTTP/1.1") == "GET /signin/kiosk/[hidden] HTTP/1.1"


def test_a_guest_list_only_event_takes_nobody_new_at_the_kiosk_but_its_guests_check_in(
        organizer, event, db_state):
    event.join_policy = "guests"
    db.session.commit()
    ada = guest(event, "Ada Okafor", "ada@example.org")
    before = db_state()
    with pytest.raises(DomainError) as refused:
        kiosk.join_new(organizer, event.public_id, name="Walk In", email="walk@example.org")
    assert refused.value.code == "not_on_guest_list" and db_state() == before
    kiosk.check_in_registered(organizer, event.public_id, ada.id)
    assert events.is_checked_in(ada.id, event.id)


def test_capacity_applies_at_the_kiosk(organizer, event, make_person, db_state):
    make_person("First In", event=event)
    event.capacity = 1
    db.session.commit()
    ada = guest(event, "Ada Okafor", "ada@example.org")
    before = db_state()
    for attempt in (lambda: kiosk.join_new(organizer, event.public_id, name="Walk In"),
                    lambda: kiosk.check_in_registered(organizer, event.public_id, ada.id)):
        with pytest.raises(DomainError) as refused:
            attempt()
        assert refused.value.code == "event_full"
    assert db_state() == before


# Picking a name proves nothing -----------------------------------------------------------------

def test_a_returning_attendees_name_checks_them_in_but_signs_no_phone_in(
        kiosk_client, organizer, make_event, make_person, event, fixed_secret):
    last_week = make_event(organizer, name="Last week")
    ada = make_person("Ada Okafor", event=last_week, contacts={"email": "ada@example.org"})
    response = pick(kiosk_client, search(kiosk_client, "oka"))
    assert response.location == "/kiosk/welcome" and events.is_checked_in(ada.id, event.id)
    html = kiosk_client.get("/kiosk/welcome").get_data(as_text=True)
    assert 'data-state="kiosk-checked-in"' in html and "data:image/svg" not in html
    assert db.session.scalar(select(func.count(KioskHandoff.id))) == 0
    assert make_client_free_of(kiosk_client, fixed_secret)
    with pytest.raises(DomainError) as refused:
        kiosk.start_handoff(organizer, event.public_id, ada.id, allowed=False)
    assert refused.value.code == "no_handoff"


def make_client_free_of(client, secret):
    """No hand-off exists to redeem: the secret signs nobody in."""
    return client.application.test_client().submit(f"/signin/kiosk/{secret}", page="/").status_code == 404


def test_only_the_visit_that_claims_a_badge_may_take_the_hand_off(organizer, event, make_event):
    ada = guest(event, "Ada Okafor", "ada@example.org")
    first = kiosk.check_in_registered(organizer, event.public_id, ada.id)
    assert first.person.id == ada.id and first.handoff is True
    tonight = make_event(organizer, name="Next week")
    assert kiosk.check_in_registered(organizer, tonight.public_id, ada.id).handoff is False  # claimed now


def test_a_guest_who_has_claimed_their_badge_gets_no_qr_but_may_print_it(app, kiosk_client, event):
    event.series.label_printer = True
    db.session.commit()
    ada = guest(event, "Ada Okafor", "ada@example.org")
    db.session.execute(update(Person).where(Person.id == ada.id).values(claimed_at=utcnow()))
    db.session.commit()
    pick(kiosk_client, search(kiosk_client, "ada"))
    html = kiosk_client.get("/kiosk/welcome").get_data(as_text=True)
    assert "data:image/svg" not in html and 'href="/kiosk/label.pdf"' in html
    assert kiosk_client.get("/kiosk/label.pdf").data.startswith(b"%PDF")


def test_someone_new_here_takes_the_hand_off(kiosk_client, make_client, event, fixed_secret):
    kiosk_client.submit("/kiosk/new", data={"name": "Nia New", "answer": "Go", "email": ""})
    assert "data:image/svg" in kiosk_client.get("/kiosk/welcome").get_data(as_text=True)
    assert make_client().submit(f"/signin/kiosk/{fixed_secret}").location == "/badge"


def test_another_series_listing_an_address_shows_nothing_of_its_holder_at_its_kiosk(
        make_organizer, make_event, make_person):
    from kithmeet.guests import services as guests

    victim = make_person("Victoria Secret", event=make_event(series_name="Theirs"), contacts={"email": "vic@example.org"})
    evil = make_organizer("evil@example.org", PASSWORD)
    night = make_event(evil, series_name="Mine")
    pending = guests.upload(evil, night.series.public_id, "l.csv", b"Name,Email\nV,vic@example.org\n")
    guests.run_import(evil, pending.public_id, {"name": 0, "email": 1})
    assert guests.is_guest(night.series_id, "vic@example.org")  # she may still join it with her own phone
    assert kiosk.search(evil, night.public_id, "Victoria").people == []
    with pytest.raises(NotFound) as refused:
        kiosk.check_in_registered(evil, night.public_id, victim.id)
    assert refused.value.code == "unknown_person"


def test_joining_at_the_kiosk_and_its_audit_entry_are_one_transaction(organizer, event, db_state, monkeypatch):
    from kithmeet.audit import services as audit

    def broken(*_args, **_kwargs):
        raise DomainError("audit down", "audit_down")

    monkeypatch.setattr(audit, "record", broken)
    before = db_state()
    with pytest.raises(DomainError):
        kiosk.join_new(organizer, event.public_id, name="Walk In")
    assert db_state() == before
