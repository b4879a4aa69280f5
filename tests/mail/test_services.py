import json

import pytest

from kithmeet.database import transaction
from kithmeet.errors import DomainError
from kithmeet.extensions import db
from kithmeet.mail import services
from kithmeet.mail.models import OutgoingMail


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
