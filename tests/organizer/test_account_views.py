"""The account pages: two-factor on and off, the code step at sign-in, the activity log."""
import re

import pyotp
from sqlalchemy import select

from kithmeet.audit import services as audit
from kithmeet.audit.models import AuditEntry
from kithmeet.database import transaction
from kithmeet.extensions import db
from kithmeet.organizer import twofactor
from kithmeet.organizer.models import Organizer

from ..pages import error_codes, field_error, form_error_codes
from .conftest import PASSWORD, log_in

SECRET = re.compile(r'<code class="totp-secret">([A-Z2-7 ]+)</code>')
RECOVERY = re.compile(r"<li><code>([A-Z0-9-]+)</code></li>")


def stored(organizer_id):
    db.session.expire_all()
    return db.session.get(Organizer, organizer_id)


def test_turning_two_factor_on_through_the_account_page(signed_in_organizer, organizer, clock):
    client = signed_in_organizer()
    assert 'data-two-factor="off"' in client.get("/organizer/account").get_data(as_text=True)
    start = client.submit("/organizer/account/two-factor/start", page="/organizer/account")
    html = client.get(start.location).get_data(as_text=True)
    secret = SECRET.search(html).group(1).replace(" ", "")
    assert secret == stored(organizer.id).totp_secret and not twofactor.is_on(stored(organizer.id))
    wrong = client.submit("/organizer/account/two-factor", data={"password": PASSWORD, "code": "12345x"})
    assert field_error(wrong.get_data(as_text=True), "code") == "bad_code"
    assert not twofactor.is_on(stored(organizer.id))
    shown = client.submit("/organizer/account/two-factor", data={"password": PASSWORD, "code": clock.code(secret)})
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "no-store"
    codes = RECOVERY.findall(shown.get_data(as_text=True))
    assert len(codes) == 10 and twofactor.is_on(stored(organizer.id))
    assert client.get("/organizer/").status_code == 200  # this browser stays signed in
    account = client.get("/organizer/account").get_data(as_text=True)
    assert 'data-two-factor="on"' in account and "Recovery codes left: 10" in account
    assert not any(code in account for code in codes)  # shown once
    assert client.get("/organizer/account/two-factor").location == "/organizer/account"


def test_turning_two_factor_on_asks_for_the_password(signed_in_organizer, organizer, clock):
    client = signed_in_organizer()
    client.submit("/organizer/account/two-factor/start", page="/organizer/account")
    page = client.get("/organizer/account/two-factor").get_data(as_text=True)
    assert '<label class="label" for="password">Password</label>' in page
    field = re.search(r'<input [^>]*id="password"[^>]*>', page).group(0)
    assert 'type="password"' in field and 'autocomplete="current-password"' in field
    secret = stored(organizer.id).totp_secret
    generation = stored(organizer.id).session_generation
    wrong = client.submit("/organizer/account/two-factor", data={"password": "not my password",
                                                                 "code": clock.code(secret)})
    assert wrong.status_code == 200 and field_error(wrong.get_data(as_text=True), "password") == "bad_password"
    missing = client.submit("/organizer/account/two-factor", data={"code": clock.code(secret)})
    assert field_error(missing.get_data(as_text=True), "password") is not None
    after = stored(organizer.id)
    assert not twofactor.is_on(after) and after.session_generation == generation and after.failed_sign_ins == 1
    assert client.get("/organizer/").status_code == 200  # nobody was signed out


def test_signing_in_with_two_factor_takes_a_code(client, organizer, two_factor, clock):
    secret, codes = two_factor
    first = client.submit("/organizer/login?next=/organizer/account", data={"email": organizer.email,
                                                                          "password": PASSWORD})
    assert first.location == "/organizer/login/code?next=/organizer/account"
    assert client.get("/organizer/").status_code == 302  # the password alone signs no one in
    step = "/organizer/login/code?next=/organizer/account"
    wrong = client.submit(step, data={"code": "000000" if clock.code(secret) != "000000" else "111111"})
    assert field_error(wrong.get_data(as_text=True), "code") == "bad_code"
    done = client.submit(step, data={"code": clock.code(secret)})
    assert done.location == "/organizer/account"
    assert client.get("/organizer/").status_code == 200
    # In the order written: without an ORDER BY, PostgreSQL may hand rows back in any order.
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.organizer_id == organizer.id)
                                 .order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["organizer.code_failed", "organizer.signed_in"]


def test_a_recovery_code_signs_in_in_place_of_a_code(make_client, organizer, two_factor, clock):
    _, codes = two_factor
    client = make_client()
    log_in(client)
    assert client.submit("/organizer/login/code", data={"code": codes[0]}).location == "/organizer/"
    again = make_client()
    log_in(again)
    refused = again.submit("/organizer/login/code", data={"code": codes[0]})
    assert field_error(refused.get_data(as_text=True), "code") == "bad_code"


def test_the_code_step_expires_after_five_minutes(client, organizer, two_factor, clock):
    secret, _ = two_factor
    log_in(client)
    clock.advance(minutes=5, seconds=1)
    late = client.submit("/organizer/login/code", data={"code": clock.code(secret)})
    assert form_error_codes(late.get_data(as_text=True)) == ["sign_in_expired"]
    assert client.get("/organizer/").status_code == 302
    assert client.get("/organizer/login/code").location == "/organizer/login"  # the pending state is gone


def test_the_code_step_without_a_password_first_leads_to_sign_in(client):
    assert client.get("/organizer/login/code").location == "/organizer/login"


def test_a_locked_code_step_says_so_above_the_form(client, organizer, two_factor, clock):
    log_in(client)
    for _ in range(4):
        client.submit("/organizer/login/code", data={"code": "bad"})
    locked = client.submit("/organizer/login/code", data={"code": "bad"})
    assert form_error_codes(locked.get_data(as_text=True)) == ["locked"]


def test_turning_two_factor_off_needs_password_and_code(app, organizer, two_factor, clock):
    secret, _ = two_factor
    client = app.test_client()
    log_in(client)
    client.submit("/organizer/login/code", data={"code": clock.code(secret)})
    page = "/organizer/account/two-factor/off"
    bad_password = client.submit(page, data={"password": "not my password", "code": clock.code(secret, 1)})
    assert field_error(bad_password.get_data(as_text=True), "password") == "bad_password"
    bad_code = client.submit(page, data={"password": PASSWORD, "code": "000000x"})
    assert field_error(bad_code.get_data(as_text=True), "code") == "bad_code"
    assert twofactor.is_on(stored(organizer.id))
    done = client.submit(page, data={"password": PASSWORD, "code": clock.code(secret, 1)})
    assert done.location == "/organizer/account" and not twofactor.is_on(stored(organizer.id))
    assert client.get("/organizer/").status_code == 200
    assert client.get(page).location == "/organizer/account"


def test_turning_two_factor_on_again_when_on_is_refused_without_a_500(app, organizer, two_factor, clock):
    secret, _ = two_factor
    client = app.test_client()
    log_in(client)
    client.submit("/organizer/login/code", data={"code": clock.code(secret)})
    response = client.submit("/organizer/account/two-factor/start", page="/organizer/account/two-factor/off")
    assert response.status_code == 400 and error_codes(response.get_data(as_text=True)) == ["two_factor_on"]


def test_account_pages_need_an_organizer(client):
    for page in ("/organizer/account", "/organizer/account/password", "/organizer/account/two-factor",
                 "/organizer/account/two-factor/off", "/organizer/activity"):
        assert client.get(page).location.startswith("/organizer/login?next=")


# The activity log

def add_entries(organizer_id, count, action="event.created"):
    with transaction():
        for _ in range(count):
            audit.record(organizer_id, action)


def test_the_activity_page_lists_own_entries_newest_first_in_pages(signed_in_organizer, organizer, make_organizer,
                                                                   make_event):
    client = signed_in_organizer()
    other = make_organizer("other@example.org")
    make_event(other)  # someone else's actions never show
    event = make_event(organizer, name="Week 47")
    log_in(client.application.test_client(), "wrong password")
    html = client.get("/organizer/activity").get_data(as_text=True)
    listed = re.findall(r'data-action="([^"]+)"', html)
    assert listed == ["organizer.sign_in_failed", "event.opened", "event.created", "organizer.signed_in",
                      "organizer.created"]
    assert f'href="/organizer/events/{event.public_id}"' in html and "Week 47" in html
    add_entries(organizer.id, audit.ACTIVITY_PAGE_SIZE)
    first = client.get("/organizer/activity").get_data(as_text=True)
    assert len(re.findall(r"data-action=", first)) == audit.ACTIVITY_PAGE_SIZE
    assert 'href="/organizer/activity?page=2"' in first
    second = client.get("/organizer/activity?page=2").get_data(as_text=True)
    assert re.findall(r'data-action="([^"]+)"', second) == listed
    assert 'href="/organizer/activity?page=1"' in second and "page=3" not in second
    for bogus in ("0", "-4", "x", "99999999999999999999"):
        assert client.get(f"/organizer/activity?page={bogus}").status_code == 200


def test_the_activity_page_queries_do_not_grow_with_entries(signed_in_organizer, organizer, make_event,
                                                            count_queries):
    client = signed_in_organizer()
    make_event(organizer)

    def queries():
        with count_queries() as statements:
            assert client.get("/organizer/activity").status_code == 200
        return len(statements)
    few = queries()
    for i in range(8):
        make_event(organizer, name=f"Event {i}", series_name=f"Series {i}")
    add_entries(organizer.id, 40)
    assert queries() == few


def test_every_account_action_has_a_label():
    from kithmeet.audit.models import ACTION_LABELS

    for action in ("organizer.sign_in_failed", "organizer.code_failed", "organizer.locked",
                   "organizer.password_changed", "organizer.reset_issued", "organizer.password_reset",
                   "organizer.two_factor_on", "organizer.two_factor_off", "organizer.recovery_code_used"):
        assert action in ACTION_LABELS


def test_totp_codes_from_a_real_app_match(organizer):
    # The secret is standard base32 an authenticator app takes: pyotp's own check agrees with ours.
    secret = twofactor.start(organizer)
    code = pyotp.TOTP(secret).now()
    assert pyotp.TOTP(secret).verify(code) and twofactor.turn_on(organizer, PASSWORD, code)
