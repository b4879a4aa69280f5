"""Getting back in by e-mail, through the services: asking for a link, using it once within
30 minutes, confirming the address, freeing a squatted one, the per-address limits, and
joining with a known address."""
import hashlib
import hmac
import re
import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from kithmeet.database import transaction
from kithmeet.errors import DomainError, NotFound
from kithmeet.events.models import Event
from kithmeet.extensions import db
from kithmeet.mail.models import OutgoingMail
from kithmeet.people import email_signin, identity
from kithmeet.people import services as people
from kithmeet.people.models import EmailSignin, Person
from kithmeet.people.profile import Profile
from kithmeet.ratelimit_storage import RateLimitCounter

from ..postgres import BOTH_DATABASES
from .test_services import run_at_once

NOW = datetime(2026, 11, 27, 9, 0)
LINK = re.compile(r"https://meet\.example\.org/signin/email/([A-Za-z0-9_-]+)")


@pytest.fixture
def app_config():
    # Outside a request, absolute links are built on PUBLIC_URL.
    return {"PUBLIC_URL": "https://meet.example.org"}


@pytest.fixture
def ada(make_person):
    return make_person("Ada Okafor", contacts={"email": "Ada@Example.org"})


def mails():
    return db.session.scalars(select(OutgoingMail).order_by(OutgoingMail.id)).all()


def secret_of(mail):
    return LINK.search(mail.text_body).group(1)


def ask(address, now=NOW):
    """Ask for a link; return the secret of the mail it queued (None if none was)."""
    before = len(mails())
    assert email_signin.request_link(address, now=now) is None
    after = mails()
    return secret_of(after[-1]) if len(after) > before else None


def test_joining_with_a_free_address_makes_it_the_unconfirmed_identity(ada):
    assert ada.email == "ada@example.org" and ada.email_confirmed_at is None
    assert identity.person_by_email("ADA@example.org").id == ada.id


def test_a_known_address_gets_one_mail_with_the_link_and_only_its_hash_is_kept(app, ada):
    secret = ask("  ADA@example.ORG ")
    [mail] = mails()
    [row] = db.session.scalars(select(EmailSignin)).all()
    assert mail.to_address == "ada@example.org" and mail.subject == email_signin.SUBJECT
    assert (row.person_id, row.email, row.created_at, row.expires_at, row.used_at) == (
        ada.id, "ada@example.org", NOW, NOW + timedelta(minutes=30), None)
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in repr([tuple(r) for r in db.session.execute(select(EmailSignin.__table__)).all()])
    for body in (mail.text_body, mail.html_body):
        assert f"https://meet.example.org/signin/email/{secret}" in body
        assert "30 minutes" in body and "didn't ask" in body
    assert f'href="https://meet.example.org/signin/email/{secret}"' in mail.html_body


def test_an_unknown_address_writes_and_sends_nothing(app, ada, db_state):
    before = db_state()
    assert email_signin.request_link("nobody@example.org", now=NOW) is None
    assert db_state() == before


@pytest.mark.parametrize("bad", ["", "   ", "not an address", "ada@", "a" * 250 + "@example.org"])
def test_a_malformed_address_is_bad_email_and_writes_nothing(app, ada, db_state, bad):
    before = db_state()
    with pytest.raises(DomainError) as error:
        email_signin.request_link(bad, now=NOW)
    assert error.value.code == "bad_email"
    assert db_state() == before


def test_a_link_works_once_and_confirms_the_address(app, ada):
    secret = ask("ada@example.org")
    assert email_signin.person_by_link(secret, now=NOW).id == ada.id  # looking does not use it up
    assert email_signin.redeem(secret, now=NOW + timedelta(minutes=1)).id == ada.id
    db.session.expire_all()
    assert db.session.get(Person, ada.id).email_confirmed_at == NOW + timedelta(minutes=1)
    for attempt in (lambda: email_signin.redeem(secret, now=NOW + timedelta(minutes=2)),
                    lambda: email_signin.person_by_link(secret, now=NOW + timedelta(minutes=2))):
        with pytest.raises(NotFound) as error:
            attempt()
        assert error.value.code == "bad_email_link"


def test_a_link_lasts_30_minutes(app, ada):
    first, second = ask("ada@example.org"), ask("ada@example.org")
    assert email_signin.redeem(first, now=NOW + timedelta(minutes=29, seconds=59)).id == ada.id
    for at in (NOW + timedelta(minutes=30), NOW + timedelta(days=1)):
        with pytest.raises(NotFound) as error:
            email_signin.redeem(second, now=at)
        assert error.value.code == "bad_email_link"
    assert db.session.scalar(select(EmailSignin.used_at).where(EmailSignin.token_hash == hashlib.sha256(
        second.encode()).hexdigest())) is None  # an expired try uses nothing up


@pytest.mark.parametrize("token", ["", "x", "unknown-token-0123456789abcdef", "a" * 5000])
def test_unknown_links_are_bad_email_link(app, ada, token):
    ask("ada@example.org")
    for call in (email_signin.redeem, email_signin.person_by_link):
        with pytest.raises(NotFound) as error:
            call(token, now=NOW)
        assert error.value.code == "bad_email_link"


def test_earlier_unused_links_stay_valid_until_used_or_expired(app, ada):
    first, second = ask("ada@example.org"), ask("ada@example.org")
    assert email_signin.redeem(second, now=NOW).id == ada.id
    assert email_signin.redeem(first, now=NOW).id == ada.id


def test_signing_out_everywhere_voids_links_waiting_in_the_mailbox(app, ada):
    secret = ask("ada@example.org")
    people.sign_out_everywhere(ada)
    with pytest.raises(NotFound):
        email_signin.redeem(secret)


@BOTH_DATABASES
def test_a_link_sent_many_times_at_once_signs_in_once(app, make_person):
    make_person("Ada Okafor", contacts={"email": "ada@example.org"})
    secret = ask("ada@example.org", now=None)
    outcomes = run_at_once(app, 8, lambda: email_signin.redeem(secret))
    assert outcomes == ["bad_email_link"] * 7 + ["ok"]
    assert db.session.scalar(select(func.count(EmailSignin.id)).where(EmailSignin.used_at.is_not(None))) == 1


# ---------------------------------------------------------------- confirmation follows the identity

def test_a_link_works_only_while_its_address_is_the_identity(app, ada, db_state):
    secret = ask("ada@example.org")
    identity.set_email(ada, "ada@home.example.org")
    before = db_state()
    for call in (email_signin.person_by_link, email_signin.redeem, email_signin.release):
        with pytest.raises(NotFound) as error:
            call(secret, now=NOW)
        assert error.value.code == "bad_email_link", call.__name__
    assert db_state() == before  # nothing used, confirmed, freed or signed out
    db.session.expire_all()
    assert db.session.get(Person, ada.id).email == "ada@home.example.org"


def test_a_link_stops_working_once_its_address_is_cleared(app, ada):
    secret = ask("ada@example.org")
    identity.set_email(ada, None)
    with pytest.raises(NotFound):
        email_signin.redeem(secret, now=NOW)


def test_changing_the_identity_clears_the_confirmation_and_keeping_it_does_not(app, ada):
    email_signin.redeem(ask("ada@example.org"), now=NOW)
    identity.set_email(ada, " ADA@example.org")  # the same address, typed differently
    assert ada.email_confirmed_at == NOW
    with transaction():
        identity.claim_email(ada, "ada@example.org")
    assert ada.email_confirmed_at == NOW
    with transaction():
        identity.claim_email(ada, "ada@work.example.org")
    assert ada.email_confirmed_at is None

    email_signin.redeem(ask("ada@work.example.org"), now=NOW)
    identity.set_email(ada, "ada@example.org")
    assert ada.email_confirmed_at is None
    email_signin.redeem(ask("ada@example.org"), now=NOW)
    identity.set_email(ada, None)
    db.session.expire_all()
    assert db.session.get(Person, ada.id).email_confirmed_at is None


# ---------------------------------------------------------------- a squatted address

@pytest.fixture
def sam(make_person):
    """Sam, who joined with Ada's address (typed, never proven) and is signed in on his phone."""
    sam = make_person("Sam Squat", contacts={"email": "ada@example.org"})
    people.issue_signin_secret(sam)  # a personal link he could sign back in with
    with transaction():
        sam.join_nonce = "sams-join-form"
    return sam


def reloaded(person):
    db.session.expire_all()
    return db.session.get(Person, person.id)


def test_release_frees_an_unconfirmed_address_and_signs_no_one_in(app, make_event, sam):
    secret = ask("ada@example.org")
    generation = sam.session_generation
    assert email_signin.release(secret, now=NOW) is None
    sam = reloaded(sam)
    assert (sam.email, sam.email_confirmed_at, sam.session_generation) == (None, None, generation)
    assert identity.person_by_email("ada@example.org") is None
    assert db.session.scalar(select(EmailSignin.used_at)) == NOW  # the link is used up
    with pytest.raises(NotFound):
        email_signin.redeem(secret, now=NOW)
    ada = people.join_event(make_event(), profile("Ada Okafor", "ada@example.org"))  # the owner joins with it
    assert identity.person_by_email("ada@example.org").id == ada.id != sam.id


def test_a_confirmed_address_is_never_released(app, ada, db_state):
    email_signin.redeem(ask("ada@example.org"), now=NOW)
    secret = ask("ada@example.org")
    before = db_state()
    with pytest.raises(DomainError) as error:
        email_signin.release(secret, now=NOW)
    assert error.value.code == "email_confirmed"
    assert db_state() == before  # the link is not even used up
    assert email_signin.redeem(secret, now=NOW).id == ada.id


@pytest.mark.parametrize("token", ["", "unknown-token-0123456789abcdef", "a" * 5000])
def test_releasing_with_an_unknown_link_is_bad_email_link(app, sam, token, db_state):
    ask("ada@example.org")
    before = db_state()
    with pytest.raises(NotFound) as error:
        email_signin.release(token, now=NOW)
    assert error.value.code == "bad_email_link"
    assert db_state() == before


def test_release_needs_a_live_link(app, sam):
    used, expired = ask("ada@example.org"), ask("ada@example.org")
    email_signin.redeem(used, now=NOW)  # confirms: Sam's generation moves on, and it is his now
    for token, at in ((used, NOW), (expired, NOW + timedelta(minutes=30))):
        with pytest.raises(DomainError) as error:
            email_signin.release(token, now=at)
        assert error.value.code == "bad_email_link"


def test_a_first_confirmation_from_another_device_signs_every_other_device_out(app, sam, make_person):
    generation = sam.session_generation
    for current in (None, make_person("Cy Aalto")):  # a signed-out device, or someone else's
        with transaction():
            sam.email_confirmed_at = None
            sam.signin_secret_hash, sam.join_nonce = "x" * 64, "sams-join-form"
        person = email_signin.redeem(ask("ada@example.org"), current=current, now=NOW)
        # The returned person carries the new generation: the caller signs this device in with it.
        assert person.session_generation == generation + 1
        sam = reloaded(sam)
        assert (sam.session_generation, sam.email_confirmed_at) == (generation + 1, NOW)
        assert (sam.signin_secret_hash, sam.join_nonce) == (None, None)  # no way back in for the typist
        generation += 1


def test_confirming_on_a_device_already_signed_in_as_that_person_signs_no_one_out(app, sam):
    generation, personal = sam.session_generation, sam.signin_secret_hash
    person = email_signin.redeem(ask("ada@example.org"), current=sam, now=NOW)
    assert person.session_generation == generation
    sam = reloaded(sam)
    assert (sam.session_generation, sam.email_confirmed_at, sam.signin_secret_hash) == (generation, NOW, personal)


def test_a_confirmed_address_signs_no_one_out_again(app, ada):
    email_signin.redeem(ask("ada@example.org"), now=NOW)
    generation = reloaded(ada).session_generation
    later = NOW + timedelta(minutes=5)
    assert email_signin.redeem(ask("ada@example.org"), now=later).session_generation == generation
    assert reloaded(ada).email_confirmed_at == later


@BOTH_DATABASES
def test_a_release_sent_many_times_at_once_frees_once(app, make_person):
    squatter = make_person("Sam Squat", contacts={"email": "ada@example.org"})
    secret = ask("ada@example.org", now=None)
    outcomes = run_at_once(app, 6, lambda: email_signin.release(secret))
    assert outcomes == ["bad_email_link"] * 5 + ["ok"]
    assert reloaded(squatter).email is None


def run_each_at_once(app, calls):
    """Each of `calls` in its own thread, released together; sorted (name, outcome) pairs."""
    calls = list(calls)
    barrier, outcomes = threading.Barrier(len(calls)), []

    def run(name, call):
        with app.app_context():
            try:
                barrier.wait()
                call()
                outcomes.append((name, "ok"))
            except DomainError as error:
                outcomes.append((name, error.code))
            except Exception as error:  # noqa: BLE001 - any other error fails the test
                outcomes.append((name, repr(error)))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=call) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return sorted(outcomes)


@BOTH_DATABASES
def test_a_release_racing_a_confirmation_leaves_one_of_them(app, make_person):
    """Two mails to one address, one freed and one confirmed at once: either the address was
    confirmed first (it stays, the release is refused) or freed first (the confirmation,
    no longer for the identity, is refused), never a freed address marked confirmed."""
    squatter = make_person("Sam Squat", contacts={"email": "ada@example.org"})
    free, confirm = ask("ada@example.org", now=None), ask("ada@example.org", now=None)
    outcomes = run_each_at_once(app, [("release", lambda: email_signin.release(free)),
                                      ("redeem", lambda: email_signin.redeem(confirm))])
    squatter = reloaded(squatter)
    if squatter.email is None:
        assert outcomes == [("redeem", "bad_email_link"), ("release", "ok")]
        assert squatter.email_confirmed_at is None
    else:
        assert outcomes == [("redeem", "ok"), ("release", "email_confirmed")]
        assert squatter.email == "ada@example.org" and squatter.email_confirmed_at is not None


# ---------------------------------------------------------------- the per-address limits

def hmac_of(*parts):
    return hmac.new(b"test-secret-key", "\n".join(parts).encode(), hashlib.sha256).hexdigest()


class TestPerAddressLimit:
    @pytest.fixture
    def app_config(self):
        # Counted in the database, the store that keeps its keys readable (the count file keeps digests).
        return {"PUBLIC_URL": "https://meet.example.org", "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "kithmeet+db://",
                "RATELIMIT_EMAIL_SIGNIN_ADDRESS": "2 per hour", "RATELIMIT_EMAIL_SIGNIN_ADDRESS_TOTAL": "3 per hour"}

    @staticmethod
    def ask_from(client, address):
        before = len(mails())
        assert email_signin.request_link(address, client=client, now=NOW) is None
        return len(mails()) > before

    def test_past_one_clients_limit_nothing_is_sent_to_it_and_the_answer_is_the_same(self, app, ada):
        sent = [self.ask_from("address:192.0.2.1", address)
                for address in ("ada@example.org", "ada@example.org", "ada@example.org", "ADA@example.org")]
        assert sent == [True, True, False, False]
        assert len(mails()) == 2

    def test_one_client_past_its_limit_does_not_keep_the_owners_mail_away(self, app, ada):
        attacker = [self.ask_from("address:192.0.2.66", "ada@example.org") for _ in range(10)]
        assert attacker == [True, True] + [False] * 8
        assert self.ask_from("address:198.51.100.7", "ada@example.org")  # Ada, at the venue
        # The total caps what many clients together can send: the third mail was the last.
        assert not self.ask_from("address:203.0.113.5", "ada@example.org")
        assert len(mails()) == 3

    def test_unknown_addresses_are_counted_too(self, app, ada):
        assert ask("grace@example.org") is None
        assert db.session.scalar(select(func.count(RateLimitCounter.key))) == 2  # its pair and its total

    def test_counts_are_kept_under_an_hmac_keyed_with_the_secret_not_the_address(self, app, ada):
        self.ask_from("address:192.0.2.1", "ada@example.org")
        self.ask_from("address:192.0.2.1", "nobody@example.org")
        keys = db.session.scalars(select(RateLimitCounter.key)).all()
        assert len(keys) == 4
        assert not any("example.org" in key or "192.0.2.1" in key for key in keys)
        for digest in (hmac_of("nobody@example.org"), hmac_of("nobody@example.org", "address:192.0.2.1")):
            assert sum(digest in key for key in keys) == 1
        plain = hashlib.sha256(b"nobody@example.org").hexdigest()
        assert not any(plain in key for key in keys)  # a guessed address cannot be tested against them


# ---------------------------------------------------------------- joining with an address

def profile(name, email):
    return Profile(name=name, contacts={"email": email}, shared={"email": True})


def test_joining_with_someone_elses_address_is_email_known_and_makes_no_second_person(app, make_event, ada,
                                                                                      db_state):
    event = make_event(name="Next Thursday")
    before = db_state()
    for address in ("ada@example.org", " ADA@EXAMPLE.ORG"):
        with pytest.raises(DomainError) as error:
            people.join_event(event, profile("Ada again", address))
        assert error.value.code == "email_known"
    assert db_state() == before


def test_a_bad_address_at_join_is_bad_email(app, make_event, db_state):
    event = make_event()
    before = db_state()
    with pytest.raises(DomainError) as error:
        people.join_event(event, profile("Ada", "not an address"))
    assert error.value.code == "bad_email"
    assert db_state() == before


def test_the_same_join_form_sent_again_returns_its_person_not_email_known(app, make_event):
    event = make_event()
    first = people.join_event(event, profile("Ada", "ada@example.org"), nonce="form-1", issued_nonce="form-1")
    again = people.join_event(event, profile("Ada", "ada@example.org"), nonce="form-1", issued_nonce="form-1")
    assert again.id == first.id
    assert db.session.scalar(select(func.count(Person.id))) == 1


@BOTH_DATABASES
def test_joins_racing_for_one_address_make_one_person(app, make_event):
    event_id = make_event().id  # each thread reads the event in its own session
    outcomes = run_at_once(app, 6, lambda: people.join_event(db.session.get(Event, event_id),
                                                             profile("Ada", "ada@example.org")))
    assert outcomes == ["email_known"] * 5 + ["ok"]
    assert db.session.scalar(select(func.count(Person.id))) == 1


@BOTH_DATABASES
def test_one_join_form_with_an_address_sent_many_times_at_once_makes_one_person(app, make_event):
    event_id = make_event().id  # each thread reads the event in its own session
    outcomes = run_at_once(app, 6, lambda: people.join_event(db.session.get(Event, event_id),
                                                             profile("Ada", "ada@example.org"),
                                                             nonce="form-9", issued_nonce="form-9"))
    assert outcomes == ["ok"] * 6
    assert db.session.scalar(select(func.count(Person.id))) == 1


def test_a_signed_in_person_keeps_their_identity_and_never_takes_anothers(app, make_event, make_person, ada):
    event = make_event(name="Next Thursday")
    bo = make_person("Bo", event=event)  # no address, no identity
    people.join_event(event, profile("Bo", "ada@example.org"), person=bo)  # Ada's: only Bo's contact field
    assert bo.email is None and identity.person_by_email("ada@example.org").id == ada.id
    people.join_event(event, profile("Bo", "bo@example.org"), person=bo)  # free: becomes his
    assert bo.email == "bo@example.org"
    people.join_event(event, profile("Bo", "bo@work.example.org"), person=bo)  # he has one: the profile page changes it
    assert bo.email == "bo@example.org"
