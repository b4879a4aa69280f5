"""Failed sign-ins lock an organizer out with backoff; an unknown email looks and costs the
same as a wrong password; parallel guesses all count."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kithmeet.audit.models import AuditEntry
from kithmeet.errors import DomainError
from kithmeet.extensions import db
from kithmeet.organizer import lockout
from kithmeet.organizer import services as organizers
from kithmeet.organizer.models import Organizer

from ..pages import form_error_codes
from ..postgres import BOTH_DATABASES
from .conftest import EMAIL, PASSWORD, log_in


def attempt(password, email=EMAIL):
    try:
        organizers.authenticate(email, password)
    except DomainError as error:
        return error.code
    return "ok"


def stored(organizer_id):
    db.session.expire_all()
    return db.session.get(Organizer, organizer_id)


def actions(organizer_id, action):
    return db.session.scalar(select(func.count(AuditEntry.id)).where(
        AuditEntry.organizer_id == organizer_id, AuditEntry.action == action))


def test_lock_lengths_double_from_the_fifth_failure_up_to_an_hour():
    assert [lockout.lock_length(n) for n in range(1, 5)] == [timedelta(0)] * 4
    assert [lockout.lock_length(n) / timedelta(minutes=1) for n in range(5, 13)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert lockout.lock_length(10_000) == timedelta(hours=1)


def test_the_fifth_failure_in_a_row_locks_and_each_later_one_doubles(organizer, clock):
    assert [attempt("wrong password") for _ in range(4)] == ["bad_credentials"] * 4
    assert stored(organizer.id).locked_until is None
    assert attempt("wrong password") == "locked"
    assert stored(organizer.id).locked_until == clock.utc + timedelta(minutes=1)
    # Locked: even the right password is refused, and a guess now is not counted.
    assert attempt(PASSWORD) == "locked" and attempt("wrong password") == "locked"
    assert stored(organizer.id).failed_sign_ins == 5
    clock.advance(minutes=1, seconds=1)
    assert attempt("wrong password") == "locked"  # the sixth: two minutes
    assert stored(organizer.id).locked_until == clock.utc + timedelta(minutes=2)
    clock.advance(minutes=2, seconds=1)
    assert attempt("wrong password") == "locked"
    assert stored(organizer.id).locked_until == clock.utc + timedelta(minutes=4)
    assert actions(organizer.id, "organizer.sign_in_failed") == 7 and actions(organizer.id, "organizer.locked") == 3


def test_a_success_resets_the_count(organizer, clock):
    for _ in range(4):
        attempt("wrong password")
    assert attempt(PASSWORD) == "ok"
    assert stored(organizer.id).failed_sign_ins == 0
    assert [attempt("wrong password") for _ in range(4)] == ["bad_credentials"] * 4  # four again, not locked
    for _ in range(6):
        attempt("wrong password")
    clock.advance(hours=1, seconds=1)
    assert attempt(PASSWORD) == "ok"
    assert stored(organizer.id).failed_sign_ins == 0 and stored(organizer.id).locked_until is None


def test_an_unknown_email_costs_one_hash_check_and_answers_as_a_wrong_password(organizer, monkeypatch):
    checked = []
    real = organizers.check_password_hash

    def counting(stored_hash, password):
        checked.append(stored_hash.split("$")[0])  # the method and its cost parameters
        return real(stored_hash, password)
    monkeypatch.setattr(organizers, "check_password_hash", counting)
    assert attempt("wrong password") == attempt("wrong password", email="nobody@example.org") == "bad_credentials"
    assert len(checked) == 2 and checked[0] == checked[1]  # the same work, at the same cost
    # Locked, the answer is the same whatever the password, after the same work again.
    for _ in range(4):
        attempt("wrong password")
    checked.clear()
    assert attempt(PASSWORD) == attempt("wrong password") == "locked"
    assert len(checked) == 2


def test_the_sign_in_page_looks_the_same_for_an_unknown_email_and_a_wrong_password(client, organizer):
    def seen(email):
        html = log_in(client, "wrong password", email=email).get_data(as_text=True)
        return re.sub(r'value="[^"]*"', "", html.replace(email, "EMAIL"))  # the typed email and the CSRF token
    assert seen(EMAIL) == seen("nobody@example.org")
    assert form_error_codes(log_in(client, "x", email="nobody@example.org").get_data(as_text=True)) == [
        "bad_credentials"]


def test_a_locked_account_refuses_the_right_password_on_the_page(client, organizer, clock):
    for _ in range(5):
        log_in(client, "wrong password")
    response = log_in(client)
    assert response.status_code == 200 and form_error_codes(response.get_data(as_text=True)) == ["locked"]
    assert client.get("/organizer/").status_code == 302
    clock.advance(minutes=1, seconds=1)
    assert log_in(client).location == "/organizer/"


@BOTH_DATABASES
def test_wrong_guesses_sent_at_once_all_count(organizer, at_once):
    count = 10
    outcomes = at_once(count, lambda i: organizers.authenticate(EMAIL, f"wrong password {i}"))
    assert set(outcomes) <= {"bad_credentials", "locked"}, outcomes
    assert outcomes.count("locked") >= count - 4  # every failure from the fifth on reports the lock
    after = stored(organizer.id)
    assert after.failed_sign_ins == count
    assert after.locked_until is not None
    assert actions(organizer.id, "organizer.sign_in_failed") == count
    assert attempt(PASSWORD) == "locked"


def test_a_lock_that_begins_after_the_check_still_refuses_the_sign_in(organizer, monkeypatch):
    # A parallel guess locks the account between the check and the reset of the count.
    real = lockout.refuse_if_locked

    def then_lock(found):
        real(found)
        for _ in range(5):
            lockout.count_failure(found.id, "organizer.sign_in_failed")
        db.session.commit()
    monkeypatch.setattr(lockout, "refuse_if_locked", then_lock)
    with pytest.raises(DomainError) as error:
        organizers.authenticate(EMAIL, PASSWORD)
    assert error.value.code == "locked"
    assert actions(organizer.id, "organizer.signed_in") == 0
