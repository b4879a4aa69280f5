"""A real SMTP server on loopback for the follow-up mails (digests, nudges): a test module
imports these fixtures to have the app send there, with the server already listening (the mail
tests' own `smtp` fixture leaves starting it to each test)."""
import pytest

from ..mail.conftest import SMTPServer, app_config, smtp_port  # noqa: F401 - the mail tests' fixtures


@pytest.fixture
def smtp(smtp_port):
    server = SMTPServer()
    server.port = smtp_port
    yield server.start()
    server.stop()
