"""A real SMTP server on loopback for the follow-up mails (digests, nudges): a test module
imports these fixtures to have the app send there, with the server already listening."""
import pytest

from ..mail.conftest import SMTPServer, free_port


@pytest.fixture
def smtp_port():
    return free_port()


@pytest.fixture
def app_config(smtp_port):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_port, "MAIL_SENDER": "kithmeet <mail@meet.example.org>"}


@pytest.fixture
def smtp(smtp_port):
    server = SMTPServer()
    server.port = smtp_port
    yield server.start()
    server.stop()
