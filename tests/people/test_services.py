"""Joining an event: profiles, check-ins, badge tokens, sign-in links."""
import pytest
from sqlalchemy import func, select

from kithmeet.errors import DomainError, NotFound
from kithmeet.events.models import CheckIn, Event
from kithmeet.extensions import db
from kithmeet.people import services as people
from kithmeet.people.models import Person
from kithmeet.people.profile import Profile
from kithmeet.tokens import ALPHABET, BADGE_TOKEN_LENGTH

from ..postgres import BOTH_DATABASES


def profile(name="Ada", **extra):
    return Profile(**{"name": name, **extra})


def test_join_creates_person_with_badge_token_and_check_in(make_event):
    event = make_event()
    person = people.join_event(event, profile(answers=(("Ask me about", "Rust"),)))
    assert len(person.badge_token) == BADGE_TOKEN_LENGTH
    assert set(person.badge_token) <= set(ALPHABET)
    assert not set(person.badge_token) & set("01ILO")
    assert person.first_answer.answer == "Rust"
    assert db.session.scalar(select(func.count(CheckIn.id)).where(CheckIn.person_id == person.id)) == 1


def test_badge_tokens_are_distinct(make_event):
    event = make_event()
    tokens = {people.join_event(event, profile(f"P{i}")).badge_token for i in range(50)}
    assert len(tokens) == 50


def test_join_again_updates_profile_and_checks_in_once(make_event):
    event = make_event()
    person = people.join_event(event, profile(headline="first"))
    token = person.badge_token
    again = people.join_event(event, profile(headline="second"), person=person)
    assert again.id == person.id and again.badge_token == token and again.headline == "second"
    assert db.session.scalar(select(func.count(CheckIn.id))) == 1


def test_same_join_form_sent_twice_makes_one_person(make_event):
    event = make_event()
    first = people.join_event(event, profile(), nonce="form-1", issued_nonce="form-1")
    second = people.join_event(event, profile(), nonce="form-1", issued_nonce="form-1")
    assert first.id == second.id
    assert db.session.scalar(select(func.count(Person.id))) == 1


@pytest.mark.parametrize("status,code", [("draft", "event_not_open"), ("closed", "event_closed")])
def test_cannot_join_event_that_is_not_open(make_event, status, code):
    event = make_event(status=status)
    with pytest.raises(DomainError) as error:
        people.join_event(event, profile())
    assert error.value.code == code
    assert db.session.scalar(select(func.count(Person.id))) == 0  # nothing half-saved


def test_removing_a_contact_value_deletes_it(make_event, make_person):
    event = make_event()
    person = make_person(event=event, contacts={"email": "ada@example.org", "phone": "+44 1"})
    people.join_event(event, profile(contacts={"email": "", "phone": "+44 1"}, shared={"phone": True}),
                      person=person)
    assert [c.kind for c in person.contacts] == ["phone"]


@pytest.mark.parametrize("lookup", [people.person_by_badge, people.badge_owner], ids=["person", "owner"])
def test_unknown_and_revoked_badges_are_told_apart_by_either_lookup(make_person, lookup):
    person = make_person()
    old = person.badge_token
    people.replace_badge(person)
    assert person.badge_token != old
    assert lookup(person.badge_token.lower()).id == person.id
    with pytest.raises(NotFound) as revoked:
        lookup(old)
    assert revoked.value.code == "revoked_badge"
    for bad in ("ZZZZZZZZZZZ", "", "x" * 500, "<script>", "K7QM4XTR9P\x00"):
        with pytest.raises(NotFound) as unknown:
            lookup(bad)
        assert unknown.value.code == "unknown_badge"


def test_a_badge_owner_is_what_the_person_row_holds_with_answers_in_profile_order(make_event):
    """The scan page's read-only owner carries what the card, the claim offer and a connect read,
    equal to the Person's: answers in the profile's order (an empty one is not kept)."""
    event = make_event()
    person = people.join_event(event, profile(name="Zoë 🌱", pronouns="she/her", headline="<b>Rust</b> & rain",
                                              answers=(("Ask me about", "gardens"), ("I can help with", ""),
                                                       ("I'm looking for", "مرحبا"))))
    owner = people.badge_owner(person.badge_token)
    assert (owner.id, owner.badge_token, owner.name, owner.pronouns, owner.headline, owner.share_on_connect,
            owner.email, owner.claimed_at) == (person.id, person.badge_token, person.name, person.pronouns,
                                               person.headline, person.share_on_connect, person.email,
                                               person.claimed_at)
    assert [(a.prompt, a.answer) for a in owner.answers] == [(a.prompt, a.answer) for a in person.answers]
    assert [a.answer for a in owner.answers] == ["gardens", "مرحبا"]
    bare = people.join_event(event, profile(name="Bo", answers=()))
    assert people.badge_owner(bare.badge_token).answers == ()


def test_a_new_signin_link_switches_the_old_one_off(make_person):
    person = make_person()
    first = people.issue_signin_secret(person)
    assert people.person_by_signin_secret(first).id == person.id
    second = people.issue_signin_secret(person)
    assert people.person_by_signin_secret(second).id == person.id
    with pytest.raises(NotFound) as error:
        people.person_by_signin_secret(first)
    assert error.value.code == "bad_signin_link"
    assert person.signin_secret_hash != second  # only a hash is stored


def test_a_badge_token_collision_is_a_conflict_and_changes_nothing(make_event, make_person, monkeypatch):
    """A unique column that loses (here: a new badge token that is already someone's) is the generic
    `conflict` code of database.transaction(), and the old badge keeps working."""
    event = make_event()
    ada, bo = make_person("Ada", event=event), make_person("Bo", event=event)
    old, taken = ada.badge_token, bo.badge_token
    monkeypatch.setattr(people, "new_code", lambda: taken)
    with pytest.raises(DomainError) as error:
        people.replace_badge(ada)
    assert error.value.code == "conflict"
    assert people.person_by_badge(old).id == ada.id  # not revoked
    assert people.person_by_badge(taken).id == bo.id


def run_at_once(app, count, call):
    """`call()` from `count` threads released together; returns each one's result or error code."""
    import threading

    barrier = threading.Barrier(count)
    outcomes = []

    def run():
        with app.app_context():
            try:
                barrier.wait()
                call()
                outcomes.append("ok")
            except DomainError as error:
                outcomes.append(error.code)
            except Exception as error:  # noqa: BLE001 - any other error fails the test
                outcomes.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return sorted(outcomes)


@BOTH_DATABASES
def test_a_sign_in_link_sent_many_times_at_once_signs_in_once(app, make_person):
    secret = people.issue_signin_secret(make_person())
    outcomes = run_at_once(app, 8, lambda: people.redeem_signin_secret(secret))
    assert outcomes == ["bad_signin_link"] * 7 + ["ok"]


@BOTH_DATABASES
@pytest.mark.parametrize("field", ["name", "headline", "contact", "answer"])
def test_the_service_refuses_hidden_characters_whoever_calls_it(make_event, field):
    event = make_event()
    nul = "Ada\x00Okafor"
    profile = {"name": Profile(name=nul), "headline": Profile(name="Ada", headline="a\u202eb"),
               "contact": Profile(name="Ada", contacts={"website": "https://ada.example/\x00"}),
               "answer": Profile(name="Ada", answers=(("Ask me about", "Rust\u200b"),))}[field]
    with pytest.raises(DomainError) as error:
        people.join_event(event, profile)
    assert error.value.code == "control_characters"
    assert db.session.scalar(select(func.count(Person.id))) == 0


@BOTH_DATABASES
def test_one_join_form_sent_many_times_at_once_makes_one_person(app, make_event):
    event_id = make_event().id  # each thread reads the event in its own session
    outcomes = run_at_once(app, 8, lambda: people.join_event(
        db.session.get(Event, event_id), profile("Ada"), nonce="form-7", issued_nonce="form-7"))
    assert outcomes == ["ok"] * 8
    assert db.session.scalar(select(func.count(Person.id))) == 1
