import glob
import logging
import os
from datetime import datetime
from email import policy
from email.parser import BytesParser

import pytest

from kithmeet.database import transaction
from kithmeet.extensions import db
from kithmeet.mail import services, worker
from kithmeet.mail.models import OutgoingMail

NOW = datetime(2026, 11, 26, 21, 0)
SECRET_LINK = "http://127.0.0.1:5000/signin/s3cr3t-link"


def queue_one(to="ada@example.org", html="<p>Sign in: <a href='{0}'>{0}</a></p>".format(SECRET_LINK)):
    with transaction():
        mail = services.queue(to, "Your sign-in link", f"Sign in: {SECRET_LINK}\n", html,
                              {"List-Unsubscribe": "<http://127.0.0.1:5000/unsubscribe/x>"})
        mail.created_at = mail.next_attempt_at = NOW
    return mail.public_id


def parsed(data):
    return BytesParser(policy=policy.default).parsebytes(data)


def assert_the_message(message, public_id):
    assert message["To"] == "ada@example.org"
    assert message["From"] == "kithmeet <mail@meet.example.org>"
    assert message["Subject"] == "Your sign-in link"
    assert message["Message-ID"] == f"<{public_id}@meet.example.org>"
    assert message["Date"] == "Thu, 26 Nov 2026 21:00:00 +0000"
    assert message["List-Unsubscribe"] == "<http://127.0.0.1:5000/unsubscribe/x>"
    assert message.get_content_type() == "multipart/alternative"
    assert SECRET_LINK in message.get_body(("plain",)).get_content()
    assert f"href='{SECRET_LINK}'" in message.get_body(("html",)).get_content()


class TestOutbox:
    @pytest.fixture
    def app_config(self):
        return {"MAIL_SENDER": "kithmeet <mail@meet.example.org>"}  # no MAIL_SERVER: the outbox

    def test_writes_a_whole_eml_file_and_marks_it_sent(self, app, caplog):
        public_id = queue_one()
        with caplog.at_level(logging.INFO, logger="kithmeet.mail"):
            counts = worker.send_due(now=NOW)
        assert (counts.sent, counts.retrying, counts.failed) == (1, 0, 0)
        outbox = app.instance_path + "/outbox"
        assert sorted(os.listdir(outbox)) == [f"20261126T210000-{public_id}.eml"]  # no temporary left
        with open(f"{outbox}/20261126T210000-{public_id}.eml", "rb") as handle:
            assert_the_message(parsed(handle.read()), public_id)
        db.session.remove()
        row = db.session.query(OutgoingMail).one()
        assert (row.status, row.sent_at, row.claimed_until, row.attempts) == ("sent", NOW, None, 0)
        assert (row.text_body, row.html_body, row.to_address) == ("", None, "a…@example.org")  # the file has it
        # The console says where the file is, masked, and never the body: the link is a secret.
        console = "\n".join(record.getMessage() for record in caplog.records)
        assert f"{public_id}.eml" in console and "a…@example.org" in console
        assert "s3cr3t" not in console and "ada@example.org" not in console

    def test_a_message_text_only_has_one_part(self, app):
        with transaction():
            services.queue("ada@example.org", "Plain", "Just text.")
        worker.send_due()
        [path] = glob.glob(app.instance_path + "/outbox/*.eml")
        with open(path, "rb") as handle:
            message = parsed(handle.read())
        assert message.get_content_type() == "text/plain" and message.get_content() == "Just text.\n"


def test_smtp_delivers_the_message_once_with_its_headers(app, smtp):
    smtp.start()
    public_id = queue_one()
    assert worker.send_due(now=NOW).sent == 1
    assert worker.send_due(now=NOW).sent == 0  # a second pass finds nothing due
    [(recipients, message)] = smtp.messages
    assert recipients == ["ada@example.org"]
    assert_the_message(message, public_id)
    db.session.remove()
    assert db.session.query(OutgoingMail).one().status == "sent"


def test_mail_settings_come_from_the_environment(tmp_path, monkeypatch):
    from kithmeet import create_app

    for name, value in {"KITHMEET_MAIL_SERVER": "smtp.example.org", "KITHMEET_MAIL_PORT": "2525",
                        "KITHMEET_MAIL_USE_STARTTLS": "true", "KITHMEET_MAIL_USERNAME": "meet",
                        "KITHMEET_MAIL_PASSWORD": "pw", "KITHMEET_MAIL_SENDER": "Meet <meet@example.org>",
                        "KITHMEET_MAIL_KEEP_DAYS": "7"}.items():
        monkeypatch.setenv(name, value)
    config = create_app({"SECRET_KEY": "k"}, instance_path=str(tmp_path / "one")).config
    assert (config["MAIL_SERVER"], config["MAIL_PORT"], config["MAIL_USE_STARTTLS"], config["MAIL_USE_TLS"],
            config["MAIL_USERNAME"], config["MAIL_PASSWORD"], config["MAIL_SENDER"]) == (
        "smtp.example.org", 2525, True, False, "meet", "pw", "Meet <meet@example.org>")
    assert config["MAIL_KEEP_DAYS"] == 7
    monkeypatch.setenv("KITHMEET_MAIL_USE_TLS", "1")
    with pytest.raises(ValueError):  # both kinds of TLS at once is a mistake, said at start
        create_app({"SECRET_KEY": "k"}, instance_path=str(tmp_path / "two"))
