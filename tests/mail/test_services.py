import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import update

from kithmeet.database import transaction
from kithmeet.errors import DomainError
from kithmeet.extensions import db
from kithmeet.mail import services
from kithmeet.mail.models import OutgoingMail

from ..postgres import BOTH_DATABASES


def all_mail():
    return db.session.query(OutgoingMail).all()


def test_queue_adds_a_message_to_the_callers_transaction(app):
    with transaction():
        mail = services.queue(" Ada@Example.org ", "Your sign-in link", "Open it.", "<p>Open it.</p>",
                              {"List-Id": "kithmeet"})
    public_id = mail.public_id
    db.session.remove()
    [row] = all_mail()
    assert (row.public_id, row.to_address, row.status, row.attempts) == (public_id, "ada@example.org", "queued", 0)
    assert json.loads(row.headers) == {"List-Id": "kithmeet"}
    assert row.html_body == "<p>Open it.</p>" and row.sent_at is None


def test_a_rolled_back_change_sends_no_mail(app):
    with pytest.raises(DomainError):
        with transaction():
            services.queue("ada@example.org", "Your sign-in link", "Open it.")
            raise DomainError("the change was refused", "refused")
    db.session.remove()
    assert all_mail() == []


@pytest.mark.parametrize("address", ["", "not an address", "ada@", "a" * 250 + "@example.org"])
def test_a_bad_address_is_refused(app, address):
    with pytest.raises(DomainError) as refused:
        with transaction():
            services.queue(address, "Hello", "Text")
    assert refused.value.code == "bad_email"
    db.session.remove()
    assert all_mail() == []


@pytest.mark.parametrize("subject, headers", [
    ("Hello\r\nBcc: eve@example.org", None),
    ("Hello", {"Bcc": "eve@example.org"}),
    ("Hello", {"X-Note": "one\nBcc: eve@example.org"}),
    ("Hello", {"Bad Name": "x"}),
])
def test_subject_and_headers_cannot_inject_headers(app, subject, headers):
    with pytest.raises(ValueError):
        services.queue("ada@example.org", subject, "Text", headers=headers)


def test_drop_queued_to_deletes_only_unsent_mail_to_those_addresses(app):
    with transaction():
        for to in ("ada@example.org", "ada@example.org", "bo@example.org", "cy@example.org"):
            services.queue(to, "Hello", "Text")
    db.session.execute(update(OutgoingMail).where(OutgoingMail.id == 1).values(status="sent"))  # gone already
    db.session.commit()
    with transaction():
        assert services.drop_queued_to(["ada@example.org", "bo@example.org"]) == 2
    db.session.remove()
    assert sorted((mail.to_address, mail.status) for mail in all_mail()) == [("ada@example.org", "sent"),
                                                                            ("cy@example.org", "queued")]


@BOTH_DATABASES
def test_purge_finished_deletes_sent_and_failed_mail_past_the_keep_days_only(app):
    now = datetime(2027, 1, 31, 12, 0)
    days = timedelta(days=services.current_app.config["MAIL_KEEP_DAYS"])
    assert days == timedelta(days=30)
    rows = {  # name: (status, next_attempt_at, sent_at)
        "sent long ago": ("sent", now - days - timedelta(hours=3), now - days - timedelta(seconds=1)),
        "sent at the limit": ("sent", now - days - timedelta(hours=3), now - days),
        "sent lately": ("sent", now - timedelta(days=1), now - timedelta(days=1)),
        "failed long ago": ("failed", now - days - timedelta(seconds=1), None),
        "failed lately": ("failed", now - timedelta(days=2), None),
        "queued long ago": ("queued", now - days * 3, None),  # still to be sent, however old
    }
    with transaction():
        for name, (status, due, sent_at) in rows.items():
            mail = services.queue("ada@example.org", name, "Text")
            mail.status, mail.next_attempt_at, mail.created_at, mail.sent_at = status, due, due, sent_at
    assert services.finished_count(now) == 2
    assert services.purge_finished(now) == 2
    db.session.remove()
    assert sorted(mail.subject for mail in all_mail()) == ["failed lately", "queued long ago", "sent at the limit",
                                                           "sent lately"]
    services.current_app.config["MAIL_KEEP_DAYS"] = 1  # the setting decides; a day ago to the second stays
    assert services.purge_finished(now) == 2
    db.session.remove()
    assert sorted(mail.subject for mail in all_mail()) == ["queued long ago", "sent lately"]
