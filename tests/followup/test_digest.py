"""The digest when an event closes: who gets one, what it holds (and never holds), once per
event, in a fixed number of statements, delivered through a real SMTP server on loopback."""
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest
from sqlalchemy import select, update

from kithmeet.connections import consent
from kithmeet.connections import services as connections
from kithmeet.database import utcnow
from kithmeet.events import services as events
from kithmeet.extensions import db
from kithmeet.followup import digest
from kithmeet.followup.models import EventDigest
from kithmeet.mail import worker
from kithmeet.mail.models import OutgoingMail

from .smtp import app_config, smtp, smtp_port  # noqa: F401 - fixtures: a real SMTP server on loopback
from ..postgres import BOTH_DATABASES

PASSWORD = "a long enough password"  # make_organizer's default


def confirm(person, email):
    person.email, person.email_confirmed_at = email, utcnow()
    db.session.commit()


@dataclass
class Night:
    organizer: object
    event: object
    ada: object
    bo: object
    cy: object
    dee: object
    eve: object


@pytest.fixture
def night(make_organizer, make_event, make_person):
    """Ada met Bo and Dee and Eve; Cy met no one. Dee's address is unconfirmed; Eve turned the
    digest off. Ada keeps a private note on Bo; Bo shares his e-mail and hides his phone."""
    organizer = make_organizer()
    event = make_event(organizer)
    ada = make_person("Ada <script>alert(1)</script>", event=event, headline="Bikes & <b>bold</b>",
                      contacts={"email": "ada-contact@example.org"})
    bo = make_person("Bo", event=event, headline="Builds bikes",
                     contacts={"email": "bo-contact@example.org", "phone": "+44 20 7946 0958"},
                     shared={"email": True, "phone": False})
    cy = make_person("Cy", event=event)
    dee = make_person("Dee", event=event)
    eve = make_person("Eve", event=event)
    for person, email in ((ada, "ada@example.org"), (bo, "bo@example.org"), (cy, "cy@example.org"),
                          (eve, "eve@example.org")):
        confirm(person, email)
    dee.email = "dee@example.org"  # given, never confirmed
    eve.digest_mail = False
    db.session.commit()
    connections.connect(ada, bo.badge_token, talked_about="Fixing <i>spokes</i>", private_note="PRIVATE-NOTE-ADA")
    connections.connect(bo, ada.badge_token, private_note="PRIVATE-NOTE-BO")
    connections.connect(dee, ada.badge_token, talked_about="Sourdough")
    connections.connect(eve, ada.badge_token, talked_about="Knitting")
    return Night(organizer, event, ada, bo, cy, dee, eve)


def close(night):
    return events.set_status(night.organizer, night.event.public_id, "closed")


def received(smtp):
    return {rcpt[0]: message for rcpt, message in smtp.messages}


def parts(message):
    return (message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content())


@BOTH_DATABASES
def test_each_confirmed_attendee_who_met_someone_gets_one_digest_with_who_and_what(night, smtp):
    close(night)
    assert worker.send_due().sent == 2
    mails = received(smtp)
    # Cy met no one; Dee's address is unconfirmed; Eve turned it off.
    assert sorted(mails) == ["ada@example.org", "bo@example.org"]
    text, html = parts(mails["ada@example.org"])
    assert mails["ada@example.org"]["Subject"] == "Who you met at Thursday Gathering"
    db.session.expire_all()
    ada_bo = connections.connection_between(night.ada.id, night.bo.id)
    ada_dee = connections.connection_between(night.ada.id, night.dee.id)
    # Whom she met there, with the headline, the encounter's line and an absolute link each.
    for name, line, connection in (("Bo", "Fixing <i>spokes</i>", ada_bo), ("Dee", "Sourdough", ada_dee)):
        assert name in text and line in text
        assert f"http://127.0.0.1:5000/followup/{connection.public_id}" in text
        assert f'href="http://127.0.0.1:5000/followup/{connection.public_id}"' in html
    assert "Builds bikes" in text and "Builds bikes" in html
    assert "Eve" in text  # Eve turned her own digest off; she is still someone Ada met
    assert "http://127.0.0.1:5000/followup/reconnect" in text and "/followup/reconnect\"" in html
    # Bo's digest names Ada with her words escaped in HTML and as typed in text.
    bo_text, bo_html = parts(mails["bo@example.org"])
    assert "Ada <script>alert(1)</script>" in bo_text
    assert "<script>" not in bo_html and "Ada &lt;script&gt;alert(1)&lt;/script&gt;" in bo_html
    assert "Bikes &amp; &lt;b&gt;bold&lt;/b&gt;" in bo_html
    assert "Fixing &lt;i&gt;spokes&lt;/i&gt;" in bo_html
    # Never a private note, never a contact field, shared or not.
    for message in mails.values():
        whole = message.as_string()
        for secret in ("PRIVATE-NOTE", "contact@example.org", "7946", "+44"):
            assert secret not in whole


def test_digest_carries_one_click_unsubscribe_headers_and_link(night, smtp):
    close(night)
    worker.send_due()
    message = received(smtp)["bo@example.org"]
    db.session.expire_all()
    token = night.bo.mail_token
    assert token and len(token) == 32
    link = f"http://127.0.0.1:5000/unsubscribe/{token}?list=digest"
    assert message["List-Unsubscribe"] == f"<{link}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = parts(message)
    assert link in text and f'href="{link}"' in html
    assert night.ada.mail_token != token  # each person's own key


def test_closing_and_reopening_and_closing_again_sends_nothing_new(night, smtp):
    close(night)
    assert db.session.scalar(select(EventDigest.messages).where(EventDigest.event_id == night.event.id)) == 2
    events.set_status(night.organizer, night.event.public_id, "open")
    connections.connect(night.cy, night.bo.badge_token, talked_about="Late chat")
    close(night)
    assert db.session.query(OutgoingMail).count() == 2
    assert digest.queue_for_event(night.event.id) == 0  # a racing close finds the claim taken
    assert worker.send_due().sent == 2
    assert len(smtp.messages) == 2


def test_a_removed_connection_is_not_in_the_digest(night, smtp):
    ada_dee = connections.connection_between(night.ada.id, night.dee.id)
    consent.remove(night.ada, ada_dee.public_id)
    close(night)
    worker.send_due()
    text, _ = parts(received(smtp)["ada@example.org"])
    assert "Dee" not in text and "Bo" in text


def test_closing_from_a_request_links_to_the_host_it_came_in_on(night, smtp, app):
    client = app.test_client()
    assert client.submit("/organizer/login", data={"email": night.organizer.email, "password": PASSWORD}
                         ).status_code == 302
    path = f"/organizer/events/{night.event.public_id}/status"
    response = client.submit(path, data={"status": "closed"}, page=f"/organizer/events/{night.event.public_id}")
    assert response.status_code == 302
    worker.send_due()
    text, _ = parts(received(smtp)["ada@example.org"])
    assert re.search(r"http://localhost/followup/[A-Z0-9]+\s", text)
    assert "http://localhost/unsubscribe/" in text


@pytest.mark.parametrize("app_config", [{"PUBLIC_URL": "https://meet.example.org/"}])
def test_links_use_public_url_when_it_is_set(night, app):
    close(night)
    mail = db.session.scalars(select(OutgoingMail).where(OutgoingMail.to_address == "ada@example.org")).one()
    assert "https://meet.example.org/followup/" in mail.text_body
    assert "https://meet.example.org/unsubscribe/" in mail.headers


def test_statements_do_not_grow_with_attendees(app, make_organizer, make_event, make_person, count_queries):
    def closing_statements(attendees):
        organizer = make_organizer()
        event = make_event(organizer, name=f"Evening {attendees}")
        people = [make_person(f"Person {n}", event=event) for n in range(attendees)]
        for n, person in enumerate(people):
            confirm(person, f"p{attendees}-{n}@example.org")
        for first, second in zip(people, people[1:]):
            connections.connect(first, second.badge_token, talked_about="hello")
        with count_queries() as statements:
            events.set_status(organizer, event.public_id, "closed")
        assert db.session.query(OutgoingMail).filter(OutgoingMail.to_address.like(f"p{attendees}-%")).count() \
            == attendees
        return len(statements)
    assert closing_statements(2) == closing_statements(12)


def test_a_digest_that_cannot_be_queued_keeps_the_event_open(night, monkeypatch):
    def broken(_messages):
        raise RuntimeError("mail table unavailable")
    monkeypatch.setattr(digest.mail, "queue_many", broken)
    with pytest.raises(RuntimeError):
        close(night)
    db.session.expire_all()
    assert night.event.status == "open"
    assert db.session.get(EventDigest, night.event.id) is None


# --- A worker killed mid-queue, for real: a subprocess, SIGKILL, a restart. ---------------

class SlowCollector:
    """An SMTP server that takes its time over each message and counts one only when it can
    answer 250 to a client still there (aiosmtpd also cancels the handler when the client
    drops): the kill lands before the server accepted, which the worker's promise covers."""

    def __init__(self, hold):
        self.hold, self.messages, self.arrived = hold, [], 0

    async def handle_DATA(self, server, session, envelope):
        import asyncio
        from email import message_from_bytes, policy

        self.arrived += 1
        await asyncio.sleep(self.hold)
        if server.transport is None or server.transport.is_closing():
            return "451 client went away"
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.original_content,
                                                                    policy=policy.default)))
        return "250 OK"


def _worker(app, smtp_port, tmp_path):
    env = {**os.environ, "KITHMEET_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "KITHMEET_SECRET_KEY": "test-secret-key", "KITHMEET_MAIL_SERVER": "127.0.0.1",
           "KITHMEET_MAIL_PORT": str(smtp_port), "KITHMEET_MAIL_SENDER": "kithmeet <mail@meet.example.org>"}
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "send-mail"], env=env,
                            cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_a_worker_killed_mid_queue_sends_each_digest_exactly_once_after_restart(
        app, make_organizer, make_event, make_person, smtp_port, tmp_path):
    from aiosmtpd.controller import Controller

    organizer = make_organizer()
    event = make_event(organizer)
    people = [make_person(f"Person {n}", event=event) for n in range(6)]
    for n, person in enumerate(people):
        confirm(person, f"p{n}@example.org")
    for first, second in zip(people, people[1:]):
        connections.connect(first, second.badge_token, talked_about="hello")
    events.set_status(organizer, event.public_id, "closed")
    queued = sorted(db.session.scalars(select(OutgoingMail.public_id)))
    assert len(queued) == 6
    db.session.remove()

    handler = SlowCollector(hold=1.5)
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        first = _worker(app, smtp_port, tmp_path)
        deadline = time.monotonic() + 60
        while handler.arrived < 3 and time.monotonic() < deadline:  # two accepted, the third in hand
            time.sleep(0.05)
        assert handler.arrived == 3, "the worker never reached the third message"
        first.send_signal(signal.SIGKILL)  # while the server holds the third message
        first.wait(10)
        time.sleep(handler.hold + 0.5)  # the server finishes with it and finds the client gone
        assert len(handler.messages) == 2
        # The dead worker's lease on the third is still running; let it pass, as two minutes would.
        db.session.execute(update(OutgoingMail).where(OutgoingMail.claimed_until.is_not(None))
                           .values(claimed_until=utcnow()))
        db.session.commit()
        handler.hold = 0
        restarted = _worker(app, smtp_port, tmp_path)
        assert restarted.wait(60) == 0
    finally:
        controller.stop()
    ids = sorted(message["Message-ID"].split("@")[0].lstrip("<") for _, message in handler.messages)
    assert ids == queued  # every message once: a duplicate would be listed twice, a loss not at all
    db.session.remove()
    assert set(db.session.scalars(select(OutgoingMail.status))) == {"sent"}


def test_the_digest_promises_no_number_of_people_to_reconnect_with(night):
    # Reconnect today shows up to four: someone who met two people has two.
    close(night)
    mail = db.session.scalars(select(OutgoingMail).where(OutgoingMail.to_address == "ada@example.org")).one()
    for body in (mail.text_body, mail.html_body):
        assert "people to reconnect with today" in body.lower() and "four" not in body.lower()
