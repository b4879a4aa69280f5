"""Two-factor sign-in: on only once a code matches, each code accepted once (at the
database, even sent many times at once), within one time step either side, recovery codes
once each, the pending sign-in good for five minutes, off only with password and code."""
import hashlib
import time

import pytest
from sqlalchemy import func, select, update

from kithmeet.audit.models import AuditEntry
from kithmeet.errors import DomainError
from kithmeet.extensions import db
from kithmeet.organizer import twofactor
from kithmeet.organizer.models import Organizer, RecoveryCode

from ..postgres import BOTH_DATABASES
from .conftest import PASSWORD


def stored(organizer_id):
    db.session.expire_all()
    return db.session.get(Organizer, organizer_id)


def code_of(call):
    with pytest.raises(DomainError) as error:
        call()
    return error.value.code


def second_step(organizer, code, started_at=None):
    organizer = stored(organizer.id)
    return twofactor.complete_sign_in(organizer.id, twofactor.time.time() if started_at is None else started_at,
                                      organizer.session_generation, True, code)


def test_two_factor_is_on_only_once_a_code_from_the_new_secret_matches(organizer, clock):
    secret = twofactor.start(organizer)
    assert len(secret) == 32 and not twofactor.is_on(stored(organizer.id))
    wrong = "000000" if clock.code(secret) != "000000" else "111111"
    assert code_of(lambda: twofactor.turn_on(organizer, PASSWORD, wrong)) == "bad_code"
    assert not twofactor.is_on(stored(organizer.id))
    generation = stored(organizer.id).session_generation
    codes = twofactor.turn_on(organizer, PASSWORD, clock.code(secret))
    after = stored(organizer.id)
    assert twofactor.is_on(after) and after.session_generation == generation + 1
    assert len(codes) == len(set(codes)) == 10
    hashes = set(db.session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.organizer_id == organizer.id)))
    assert hashes == {hashlib.sha256(code.replace("-", "").encode()).hexdigest() for code in codes}
    assert code_of(lambda: twofactor.start(organizer)) == "two_factor_on"
    assert code_of(lambda: twofactor.turn_on(organizer, PASSWORD, clock.code(secret))) == "two_factor_on"


def test_turning_on_needs_the_password(organizer, clock):
    # A stolen session alone must not turn it on: that would sign the owner out for good.
    secret = twofactor.start(organizer)
    generation = stored(organizer.id).session_generation
    assert code_of(lambda: twofactor.turn_on(organizer, "not my password", clock.code(secret))) == "bad_password"
    assert code_of(lambda: twofactor.turn_on(organizer, "", clock.code(secret))) == "bad_password"
    after = stored(organizer.id)
    assert not twofactor.is_on(after) and after.session_generation == generation
    assert after.failed_sign_ins == 2  # counted, as a wrong password is everywhere
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(
        AuditEntry.organizer_id == organizer.id, AuditEntry.action == "organizer.sign_in_failed")) == 2
    assert db.session.scalar(select(func.count(RecoveryCode.id))) == 0
    # A wrong code with the right password is not counted: the secret is new, nothing to guess.
    assert code_of(lambda: twofactor.turn_on(organizer, PASSWORD, "12345x")) == "bad_code"
    assert stored(organizer.id).failed_sign_ins == 2


def test_wrong_passwords_on_turning_on_lock_it_like_sign_in(organizer, clock):
    secret = twofactor.start(organizer)
    outcomes = [code_of(lambda: twofactor.turn_on(organizer, "not my password", clock.code(secret)))
                for _ in range(5)]
    assert outcomes == ["bad_password"] * 4 + ["locked"]
    # Locked: the right password with a right code waits too, and is not counted.
    assert code_of(lambda: twofactor.turn_on(organizer, PASSWORD, clock.code(secret))) == "locked"
    assert not twofactor.is_on(stored(organizer.id)) and stored(organizer.id).failed_sign_ins == 5
    clock.advance(minutes=1, seconds=1)
    assert len(twofactor.turn_on(organizer, PASSWORD, clock.code(secret))) == 10


def test_turning_on_needs_a_started_secret(organizer, clock):
    assert code_of(lambda: twofactor.turn_on(organizer, PASSWORD, "123456")) == "two_factor_not_started"


def test_the_code_that_turned_it_on_cannot_sign_in(organizer, two_factor, clock):
    secret, _ = two_factor
    assert code_of(lambda: second_step(organizer, clock.code(secret, -1))) == "bad_code"


def test_a_code_is_accepted_once(organizer, two_factor, clock):
    secret, _ = two_factor
    code = clock.code(secret)
    assert second_step(organizer, code).id == organizer.id
    assert code_of(lambda: second_step(organizer, code)) == "bad_code"
    assert stored(organizer.id).totp_last_counter == int(clock.epoch // 30)


@pytest.mark.parametrize("steps,accepted", [(-2, False), (0, True), (1, True), (2, False)])
def test_a_code_one_time_step_either_side_is_accepted(organizer, clock, steps, accepted):
    secret = twofactor.start(organizer)
    twofactor.turn_on(organizer, PASSWORD, clock.code(secret, -1))
    clock.advance(minutes=2)  # that step is now five back: steps -2 … 2 are all later than it
    if accepted:
        assert second_step(organizer, clock.code(secret, steps)).id == organizer.id
    else:
        assert code_of(lambda: second_step(organizer, clock.code(secret, steps))) == "bad_code"


def test_a_code_is_not_accepted_after_a_later_one(organizer, two_factor, clock):
    secret, _ = two_factor
    second_step(organizer, clock.code(secret, 1))
    assert code_of(lambda: second_step(organizer, clock.code(secret))) == "bad_code"


def test_recovery_codes_work_once_each_in_place_of_a_code(organizer, two_factor, clock):
    _, codes = two_factor
    assert second_step(organizer, codes[0]).id == organizer.id
    assert code_of(lambda: second_step(organizer, codes[0])) == "bad_code"
    typed = " " + codes[1].lower().replace("-", " ") + " "  # as a person might type it
    assert second_step(organizer, typed).id == organizer.id
    assert twofactor.recovery_codes_left(organizer) == 8
    used = db.session.scalar(select(func.count(AuditEntry.id)).where(
        AuditEntry.organizer_id == organizer.id, AuditEntry.action == "organizer.recovery_code_used"))
    assert used == 2


def test_the_pending_sign_in_lasts_five_minutes_and_one_generation(organizer, two_factor, clock):
    secret, codes = two_factor
    started = twofactor.pending_sign_in(stored(organizer.id))
    clock.advance(seconds=301)
    assert code_of(lambda: twofactor.complete_sign_in(*started, clock.code(secret))) == "sign_in_expired"
    fresh = twofactor.pending_sign_in(stored(organizer.id))
    db.session.execute(update(Organizer).values(session_generation=Organizer.session_generation + 1))
    db.session.commit()  # a password reset meanwhile
    assert code_of(lambda: twofactor.complete_sign_in(*fresh, codes[0])) == "sign_in_expired"
    assert twofactor.recovery_codes_left(organizer) == 10  # nothing used up


def test_wrong_codes_count_towards_the_lockout(organizer, two_factor, clock):
    secret, _ = two_factor
    wrong = "000000" if clock.code(secret) != "000000" else "111111"
    assert [code_of(lambda: second_step(organizer, wrong)) for _ in range(5)] == ["bad_code"] * 4 + ["locked"]
    assert code_of(lambda: second_step(organizer, clock.code(secret))) == "locked"
    assert stored(organizer.id).failed_sign_ins == 5
    clock.advance(minutes=1, seconds=1)
    assert second_step(organizer, clock.code(secret)).id == organizer.id
    assert stored(organizer.id).failed_sign_ins == 0


def test_the_right_password_does_not_reset_the_count_while_a_code_is_due(organizer, two_factor, clock):
    from kithmeet.organizer import services as organizers

    secret, _ = two_factor
    for _ in range(4):
        code_of(lambda: second_step(organizer, "999999x"))
    assert organizers.authenticate(organizer.email, PASSWORD).needs_code
    assert stored(organizer.id).failed_sign_ins == 4
    assert code_of(lambda: second_step(organizer, "999999x")) == "locked"


@BOTH_DATABASES
def test_one_code_sent_many_times_at_once_signs_in_once(organizer, two_factor, clock, at_once):
    secret, _ = two_factor
    code, pending = clock.code(secret), twofactor.pending_sign_in(stored(organizer.id))
    outcomes = at_once(8, lambda _i: twofactor.complete_sign_in(*pending, code))
    # The others count as failed attempts (a code used twice is a wrong code), so some hit the lock.
    assert outcomes.count("ok") == 1 and set(outcomes) == {"ok", "bad_code", "locked"}, outcomes
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "organizer.signed_in")) == 1


@BOTH_DATABASES
def test_one_recovery_code_sent_many_times_at_once_works_once(organizer, two_factor, clock, at_once):
    _, codes = two_factor
    pending = twofactor.pending_sign_in(stored(organizer.id))
    outcomes = at_once(8, lambda _i: twofactor.complete_sign_in(*pending, codes[3]))
    assert outcomes.count("ok") == 1 and set(outcomes) == {"ok", "bad_code", "locked"}, outcomes
    assert twofactor.recovery_codes_left(organizer) == 9


def test_turning_off_needs_the_password_and_a_code(organizer, two_factor, clock):
    secret, codes = two_factor
    assert code_of(lambda: twofactor.turn_off(organizer, "not my password", clock.code(secret))) == "bad_password"
    assert code_of(lambda: twofactor.turn_off(organizer, PASSWORD, "123")) == "bad_code"
    assert twofactor.is_on(stored(organizer.id)) and stored(organizer.id).failed_sign_ins == 2
    generation = stored(organizer.id).session_generation
    twofactor.turn_off(organizer, PASSWORD, codes[0])  # a recovery code does too
    after = stored(organizer.id)
    assert not twofactor.is_on(after) and after.totp_secret is None and after.session_generation == generation + 1
    assert db.session.scalar(select(func.count(RecoveryCode.id))) == 0
    assert code_of(lambda: twofactor.turn_off(organizer, PASSWORD, codes[1])) == "two_factor_off"


def test_the_qr_carries_the_secret_for_an_authenticator_app(organizer):
    import io

    import cairosvg
    import zxingcpp
    from PIL import Image

    secret = twofactor.start(organizer)
    svg = str(twofactor.qr_svg(twofactor.provisioning_uri(organizer)))
    png = cairosvg.svg2png(bytestring=svg.encode(), output_width=400, background_color="white")
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)).convert("L"),
                                     formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(results) == 1
    uri = results[0].text
    assert uri.startswith("otpauth://totp/kithmeet:") and f"secret={secret}" in uri and "issuer=kithmeet" in uri
    assert 'role="img"' in svg and "<script" not in svg and "style=" not in svg


def test_pending_sign_in_holds_no_secret(organizer):
    pending = twofactor.pending_sign_in(organizer)
    assert pending[0] == organizer.id and abs(pending[1] - time.time()) < 5 and pending[3] is True and len(pending) == 4
