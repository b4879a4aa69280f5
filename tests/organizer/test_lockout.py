"""Failed sign-ins lock an organizer out with backoff; an unknown email looks and costs the
same as a wrong password; parallel guesses all count. With two-factor on, a lock set by wrong
passwords does not keep out the owner's right password and code."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kithmeet.audit.models import AuditEntry
from kithmeet.errors import DomainError
from kithmeet.extensions import db
from kithmeet.organizer import lockout, twofactor
from kithmeet.organizer import services as organizers
from kithmeet.organizer.models import Organizer

from ..pages import field_error, form_error_codes
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


# With two-factor on: a lock anyone can set (five wrong passwords) does not keep the owner out.

def lock_with_wrong_passwords():
    assert [attempt("wrong password") for _ in range(5)] == ["bad_credentials"] * 4 + ["locked"]


def code_step(organizer, code):
    """The second step, straight after a right password."""
    try:
        twofactor.complete_sign_in(*twofactor.pending_sign_in(stored(organizer.id)), code)
    except DomainError as error:
        return error.code
    return "ok"


def test_with_two_factor_a_right_password_and_code_sign_in_during_a_lock(organizer, two_factor, clock):
    secret, _ = two_factor
    lock_with_wrong_passwords()
    assert organizers.authenticate(EMAIL, PASSWORD).needs_code  # locked, yet on to the code
    assert stored(organizer.id).failed_sign_ins == 5  # the password alone clears nothing
    assert code_step(organizer, clock.code(secret)) == "ok"
    after = stored(organizer.id)
    assert after.failed_sign_ins == 0 and after.locked_until is None
    assert actions(organizer.id, "organizer.signed_in") == 1
    assert [attempt("wrong password") for _ in range(4)] == ["bad_credentials"] * 4  # counting from zero again


def test_with_two_factor_a_recovery_code_also_signs_in_during_a_lock(organizer, two_factor, clock):
    _, codes = two_factor
    lock_with_wrong_passwords()
    assert organizers.authenticate(EMAIL, PASSWORD).needs_code
    assert code_step(organizer, codes[0]) == "ok" and stored(organizer.id).locked_until is None


def test_a_wrong_code_during_a_lock_counts_and_closes_the_code_step_until_the_lock_ends(organizer, two_factor, clock):
    secret, _ = two_factor
    lock_with_wrong_passwords()
    assert organizers.authenticate(EMAIL, PASSWORD).needs_code
    assert code_step(organizer, "000000" if clock.code(secret) != "000000" else "111111") == "locked"
    after = stored(organizer.id)
    assert after.failed_sign_ins == 6 and after.locked_until == clock.utc + timedelta(minutes=2)
    assert actions(organizer.id, "organizer.code_failed") == 1
    # Only someone with the password gets a code wrong: from now on codes are guessed one per
    # lock again, so the right code waits too, and the right password no longer goes on.
    assert code_step(organizer, clock.code(secret)) == "locked"
    assert attempt(PASSWORD) == "locked"
    assert stored(organizer.id).failed_sign_ins == 6 and twofactor.recovery_codes_left(organizer) == 10
    clock.advance(minutes=2, seconds=1)
    assert organizers.authenticate(EMAIL, PASSWORD).needs_code
    assert code_step(organizer, clock.code(secret)) == "ok" and stored(organizer.id).failed_sign_ins == 0


def test_with_two_factor_a_wrong_password_during_a_lock_looks_like_a_right_one_and_signs_no_one_in(
        client, organizer, two_factor, clock):
    secret, _ = two_factor
    lock_with_wrong_passwords()
    # Right or wrong, the password leads to the code page: a guesser learns nothing from it.
    assert log_in(client, "another wrong password").location == "/organizer/login/code"
    refused = client.submit("/organizer/login/code", data={"code": clock.code(secret)})  # even the right code
    assert refused.status_code == 200 and form_error_codes(refused.get_data(as_text=True)) == ["locked"]
    assert client.get("/organizer/").status_code == 302
    assert stored(organizer.id).failed_sign_ins == 5
    assert actions(organizer.id, "organizer.sign_in_failed") == 5
    # The right one goes on to the code page, which signs in.
    assert log_in(client).location == "/organizer/login/code"
    secret, _ = two_factor
    assert client.submit("/organizer/login/code", data={"code": clock.code(secret)}).location == "/organizer/"
    assert client.get("/organizer/").status_code == 200


def test_with_two_factor_a_wrong_code_on_the_page_during_a_lock_shows_locked(client, organizer, two_factor, clock):
    secret, _ = two_factor
    lock_with_wrong_passwords()
    assert log_in(client).location == "/organizer/login/code"
    html = client.submit("/organizer/login/code", data={"code": "12345x"}).get_data(as_text=True)
    assert form_error_codes(html) == ["locked"] and field_error(html, "code") is None
    assert client.get("/organizer/").status_code == 302


def test_without_two_factor_the_right_password_during_a_lock_is_still_locked(client, organizer, clock):
    lock_with_wrong_passwords()
    assert attempt(PASSWORD) == "locked"
    response = log_in(client)
    assert form_error_codes(response.get_data(as_text=True)) == ["locked"]
    assert client.get("/organizer/login/code").location == "/organizer/login"
    assert stored(organizer.id).failed_sign_ins == 5 and actions(organizer.id, "organizer.signed_in") == 0


def test_a_code_failed_after_the_check_refuses_a_sign_in_during_a_lock(organizer, two_factor, clock, monkeypatch):
    # A parallel wrong code (which closes the code step) lands between the check and the reset.
    secret, _ = two_factor
    lock_with_wrong_passwords()
    pending = twofactor.pending_sign_in(stored(organizer.id))
    real = lockout.code_step_open

    def then_fail_a_code(found):
        opened = real(found)
        lockout.count_failure(found.id, lockout.CODE_FAILED)
        db.session.commit()
        return opened
    monkeypatch.setattr(lockout, "code_step_open", then_fail_a_code)
    with pytest.raises(DomainError) as error:
        twofactor.complete_sign_in(*pending, clock.code(secret))
    assert error.value.code == "locked"
    assert actions(organizer.id, "organizer.signed_in") == 0
    assert stored(organizer.id).totp_last_counter == int(clock.epoch // 30) - 1  # the code stays unused
