"""Changing the password, and resetting it through a one-time link: it works once (even
sent many times at once), for an hour, stores only a hash, and ends every sign-in."""
import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.security import check_password_hash

from kithmeet.audit.models import AuditEntry
from kithmeet.errors import DomainError
from kithmeet.extensions import db
from kithmeet.organizer import passwords
from kithmeet.organizer.models import Organizer

from ..pages import error_codes, field_error, form_error_codes
from ..postgres import BOTH_DATABASES
from .conftest import PASSWORD, log_in

NEW = "a brand new password"


def stored(organizer_id):
    db.session.expire_all()
    return db.session.get(Organizer, organizer_id)


def audit_actions(organizer_id):
    return db.session.scalars(select(AuditEntry.action).where(AuditEntry.organizer_id == organizer_id)
                              .order_by(AuditEntry.id)).all()


# Changing

def change(client, current=PASSWORD, new=NEW, confirm=None):
    return client.submit("/organizer/account/password", data={
        "current_password": current, "new_password": new, "confirm_password": NEW if confirm is None else confirm})


def test_change_password_keeps_this_browser_and_needs_the_new_password(signed_in_organizer, organizer, client):
    browser = signed_in_organizer()
    generation = organizer.session_generation
    response = change(browser)
    assert response.location == "/organizer/account"
    assert browser.get("/organizer/").status_code == 200  # this browser stays signed in
    after = stored(organizer.id)
    assert after.session_generation == generation + 1
    assert check_password_hash(after.password_hash, NEW) and NEW not in after.password_hash
    assert form_error_codes(log_in(client).get_data(as_text=True)) == ["bad_credentials"]
    assert log_in(client, NEW).location == "/organizer/"
    assert audit_actions(organizer.id) == ["organizer.created", "organizer.signed_in", "organizer.password_changed",
                                           "organizer.sign_in_failed", "organizer.signed_in"]


def test_change_password_signs_every_other_browser_out(signed_in_organizer):
    # Needs auth.py to store the generation in each sign-in (the lead's change).
    here, elsewhere = signed_in_organizer(), signed_in_organizer()
    assert elsewhere.get("/organizer/").status_code == 200
    change(here)
    assert here.get("/organizer/").status_code == 200
    assert elsewhere.get("/organizer/").status_code == 302


@pytest.mark.parametrize("data,field,code", [
    ({"current": "not my password"}, "current_password", "bad_password"),
    ({"new": "short", "confirm": "short"}, "new_password", "weak_password"),
    ({"confirm": "a different new password"}, "confirm_password", "password_mismatch"),
    ({"current": ""}, "current_password", "required"),
])
def test_change_password_refusals_are_shown_beside_the_field(signed_in_organizer, organizer, data, field, code):
    before = stored(organizer.id).password_hash
    html = change(signed_in_organizer(), **data).get_data(as_text=True)
    assert field_error(html, field) == code and error_codes(html) == [code]
    assert stored(organizer.id).password_hash == before


def test_a_wrong_current_password_counts_towards_the_lockout(organizer):
    for _ in range(4):
        with pytest.raises(DomainError) as error:
            passwords.change_password(organizer, "not my password", NEW)
        assert error.value.code == "bad_password"
    with pytest.raises(DomainError) as error:
        passwords.change_password(organizer, "not my password", NEW)
    assert error.value.code == "locked"
    with pytest.raises(DomainError) as error:
        passwords.change_password(organizer, PASSWORD, NEW)
    assert error.value.code == "locked"
    assert check_password_hash(stored(organizer.id).password_hash, PASSWORD)


# Resetting

def test_a_reset_secret_is_stored_only_as_its_hash_and_lasts_an_hour(organizer, clock):
    secret = passwords.issue_reset_secret(organizer)
    after = stored(organizer.id)
    assert after.reset_secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in (after.reset_secret_hash or "")
    assert after.reset_expires_at == pytest.approx(clock.utc + timedelta(hours=1), abs=timedelta(minutes=1))
    assert passwords.organizer_by_reset_secret(secret).id == organizer.id
    assert passwords.reset_link(secret, "https://meet.example.org") == f"https://meet.example.org/organizer/reset/{secret}"


def test_a_newer_reset_link_voids_the_older(organizer):
    old = passwords.issue_reset_secret(organizer)
    passwords.issue_reset_secret(organizer)
    with pytest.raises(DomainError) as error:
        passwords.reset_password(old, NEW)
    assert error.value.code == "bad_reset_link"


def test_an_expired_reset_link_does_nothing(organizer, monkeypatch):
    from kithmeet.organizer import passwords as module

    secret = passwords.issue_reset_secret(organizer)
    later = stored(organizer.id).reset_expires_at + timedelta(seconds=1)
    monkeypatch.setattr(module, "utcnow", lambda: later)
    for call in (lambda: passwords.organizer_by_reset_secret(secret), lambda: passwords.reset_password(secret, NEW)):
        with pytest.raises(DomainError) as error:
            call()
        assert error.value.code == "bad_reset_link"
    assert check_password_hash(stored(organizer.id).password_hash, PASSWORD)


def reset_page(client, secret):
    return client.get(f"/organizer/reset/{secret}")


def test_the_reset_page_shows_a_form_and_never_uses_the_link_up(client, organizer):
    secret = passwords.issue_reset_secret(organizer)
    for _ in range(3):  # link previews, prefetchers, a reload
        page = reset_page(client, secret)
        assert page.status_code == 200 and 'name="password"' in page.get_data(as_text=True)
        assert page.headers["Cache-Control"] == "no-store"
    assert stored(organizer.id).reset_secret_hash is not None
    assert reset_page(client, "not-a-secret").status_code == 404
    assert error_codes(reset_page(client, "not-a-secret").get_data(as_text=True)) == ["bad_reset_link"]


def test_a_reset_sets_the_password_once_clears_the_lockout_and_ends_every_sign_in(
        client, make_client, organizer, signed_in_organizer, clock):
    browser = signed_in_organizer()
    for _ in range(5):
        log_in(client, "wrong password")
    assert stored(organizer.id).locked_until is not None
    secret = passwords.issue_reset_secret(organizer)
    url = f"/organizer/reset/{secret}"
    mismatch = client.submit(url, data={"password": NEW, "confirm_password": "something else"})
    assert field_error(mismatch.get_data(as_text=True), "confirm_password") == "password_mismatch"
    weak = client.submit(url, data={"password": "short", "confirm_password": "short"})
    assert field_error(weak.get_data(as_text=True), "password") == "weak_password"
    done = client.submit(url, data={"password": NEW, "confirm_password": NEW})
    assert done.location == "/organizer/login"
    after = stored(organizer.id)
    assert after.reset_secret_hash is None and after.failed_sign_ins == 0 and after.locked_until is None
    assert check_password_hash(after.password_hash, NEW)
    assert client.get("/organizer/").status_code == 302  # the reset signs no one in
    assert reset_page(client, secret).status_code == 404  # used up
    assert log_in(make_client(), NEW).location == "/organizer/"
    assert "organizer.password_reset" in audit_actions(organizer.id)
    assert browser.get("/organizer/").status_code == 302  # needs auth.py's generation check


@BOTH_DATABASES
def test_a_reset_form_sent_many_times_at_once_sets_a_password_once(app, organizer, at_once):
    secret = passwords.issue_reset_secret(organizer)
    url = f"/organizer/reset/{secret}"
    clients = [app.test_client() for _ in range(8)]
    tokens = [client.csrf_token(url) for client in clients]  # opening the form uses nothing up

    def send(i):
        response = clients[i].post(url, data={"csrf_token": tokens[i], "password": f"new password number {i}",
                                              "confirm_password": f"new password number {i}"})
        return {302: "ok", 404: "bad_reset_link"}.get(response.status_code, str(response.status_code))
    outcomes = at_once(8, send)
    assert sorted(outcomes) == ["bad_reset_link"] * 7 + ["ok"]
    winner = outcomes.index("ok")
    after = stored(organizer.id)
    assert check_password_hash(after.password_hash, f"new password number {winner}")
    assert after.session_generation == 2  # bumped once
    assert audit_actions(organizer.id).count("organizer.password_reset") == 1


def test_reset_links_are_masked_in_the_log(app, caplog, monkeypatch, organizer):
    secret = passwords.issue_reset_secret(organizer)

    def broken(*_args):
        raise RuntimeError("the database went away")
    monkeypatch.setattr(passwords, "reset_password", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    url = f"/organizer/reset/{secret}"
    response = client.post(url, data={"csrf_token": client.csrf_token(url), "password": NEW, "confirm_password": NEW})
    assert response.status_code == 500
    assert "/organizer/reset/[hidden]" in caplog.text and secret not in caplog.text
    assert re.search(r"Exception on /organizer/reset/\[hidden\]", caplog.text)
