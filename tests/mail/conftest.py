"""A real SMTP server on loopback (aiosmtpd) that collects what it receives."""
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from ..servers import free_port


class Collector:
    """aiosmtpd handler: keeps each received message, parsed, with its envelope recipients."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append((envelope.rcpt_tos, message))
        return "250 OK"


class SMTPServer:
    """Start and stop a collecting server on one fixed port, as a mail host that goes away."""

    def __init__(self):
        self.port = free_port()
        self.handler = Collector()
        self.controller = None

    def start(self):
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self):
        return self.handler.messages

    def ids(self):
        return [message["Message-ID"] for _, message in self.messages]


@pytest.fixture
def smtp_port():
    """The port the app sends to; the `smtp` fixture listens there."""
    return free_port()


@pytest.fixture
def app_config(smtp_port):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_port, "MAIL_SENDER": "kithmeet <mail@meet.example.org>"}


@pytest.fixture
def smtp(smtp_port):
    """Not started: a test calls .start() (and may .stop() and .start() again)."""
    server = SMTPServer()
    server.port = smtp_port
    yield server
    server.stop()
