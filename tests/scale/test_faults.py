"""Things going wrong in the middle of a burst, with real processes: a gunicorn worker killed
with `kill -9`, PostgreSQL stopped and started again, the mail worker killed mid-queue. In each,
nothing half-written stays, nothing a client was told happened is missing, and sending the
same scan again (its client id) or restarting the mail worker finishes the job exactly once.
"""
import asyncio
import os
import random
import signal
import subprocess
import sys
import threading
import time
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from kithmeet import create_app
from kithmeet.database import transaction
from kithmeet.extensions import db
from kithmeet.mail import services as mail
from kithmeet.mail.models import OutgoingMail

from ..postgres import BOTH_DATABASES, Server
from ..servers import ROOT, Gunicorn, free_port
from .browsing import Browser
from .scanning import GENEROUS_LIMITS, Attendee, broken_rows, counts, seed, stored_scans

WAIT = 60  # seconds any one step may take before the test gives up


class Phones:
    """Attendees each scanning others in a thread, one new scan after another, until the test
    says the fault is over (`over`); then each sends again what is still unconfirmed, with its
    client id, and stops. Keeps every answer [(time, status, error code, client id)] and every
    scan sent {client id: (scanner, scanned)}: however slow the machine, the phones are still
    sending while the fault happens and after it."""

    def __init__(self, attendees, tag, seed, pause=0.02):
        self.attendees, self.tag, self.seed, self.pause = attendees, tag, seed, pause
        self.answers, self.sent, self.lock = [], {}, threading.Lock()
        self.over, self.stop = threading.Event(), threading.Event()
        self.died = []  # a phone that stopped on an error of its own would leave scans unsent
        self.threads = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(len(attendees))]

    def _run(self, n):
        try:
            self._send(n)
        except BaseException as error:
            with self.lock:
                self.died.append((n, error))
            raise

    def _send(self, n):
        me, rng, unconfirmed, made = self.attendees[n], random.Random(self.seed * 1000 + n), [], 0
        others = [a for a in self.attendees if a is not me]
        while not self.stop.is_set():
            if unconfirmed:
                other, client_id = unconfirmed.pop(0)
            elif not self.over.is_set():
                other, client_id = rng.choice(others), f"{self.tag}-{n}-{made}"
                made += 1
                with self.lock:
                    self.sent[client_id] = (me.id, other.id)
            else:
                return
            try:
                status, code, _ = me.scan(other.badge, client_id)
            except OSError as error:  # the worker died with the request: no answer
                status, code = 0, repr(error.__cause__ or error)  # what broke, for a failure's message
            with self.lock:
                self.answers.append((time.monotonic(), status, code, client_id))
            if status not in (200, 201):
                unconfirmed.append((other, client_id))  # sent again later, with the same client id
                time.sleep(0.1)
            time.sleep(self.pause)

    def start(self):
        for thread in self.threads:
            thread.start()
        return self

    def finish(self):
        """The fault is over: each phone sends its unconfirmed scans again until recorded."""
        self.over.set()
        for thread in self.threads:
            thread.join(WAIT * 2)
        assert not any(thread.is_alive() for thread in self.threads), "a phone never finished"
        assert not self.died, f"phones stopped on an error: {self.died}"

    def wait_until(self, enough, what):
        """Wait (at most WAIT) until enough(answers) is true."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            with self.lock:
                if enough(list(self.answers)):
                    return
            time.sleep(0.02)
        raise AssertionError(f"the phones never {what}")

    def told_ok(self):
        return {client_id for _, status, _, client_id in self.answers if status in (200, 201)}


def assert_whole_and_exact(engine, expected):
    pairs = {frozenset(pair) for pair in expected.values()}
    with engine.connect() as connection:
        assert broken_rows(connection) == {}
        assert stored_scans(connection) == expected
        assert counts(connection) == {"connection": len(pairs), "connection_side": 2 * len(pairs),
                                      "encounter": len(pairs), "scan": len(expected)}


# --- a. One worker killed with kill -9 in the middle of a burst. ------------------------------

@BOTH_DATABASES
def test_a_worker_killed_mid_burst_loses_nothing_it_confirmed(app, database_url, tmp_path):
    seeded = seed(12)
    db.session.remove()
    server = Gunicorn(tmp_path / "served", database_url, GENEROUS_LIMITS, workers=4, threads=4,
                      make_schema=False).start()
    phones = None
    try:
        attendees = [Attendee(server.base, *row).sign_in() for row in seeded]
        phones = Phones(attendees, "kill", 4).start()
        phones.wait_until(lambda answers: len(answers) >= 20, "got going")
        before = set(server.worker_pids())
        kill_started = time.monotonic()
        killed = server.kill_worker()
        killed_at = time.monotonic()
        # No half-written rows, whatever the dead worker was doing, and every scan a phone was
        # told succeeded is there: read while the burst goes on.
        with db.engine.connect() as connection:
            assert broken_rows(connection) == {}
        # The other workers keep serving while gunicorn replaces the dead one.
        phones.wait_until(lambda answers: sum(1 for moment, status, _, _ in answers
                                              if moment > killed_at and status == 201) > 5,
                          "were served after the kill")
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            replaced = set(server.worker_pids())
            if killed not in replaced and len(replaced) == 4:
                break
            time.sleep(0.1)
        phones.finish()  # each phone sends its unconfirmed scans again (same client id) until recorded
    finally:
        if phones is not None:
            phones.stop.set()  # a failed assertion must not leave phones sending forever
        server.stop()
    assert killed in before and killed not in replaced and len(replaced) == 4  # gunicorn replaced it
    statuses = {status for _, status, _, _ in phones.answers}
    assert statuses <= {0, 200, 201}, statuses  # no answer (the dead worker's), or done: never a 500
    # Only what the dead worker held went unanswered: nothing before the kill, and at most the one
    # request each phone had in flight (an answer cut off for any other reason is a bug).
    unanswered = [(moment, code) for moment, status, code, _ in phones.answers if status == 0]
    assert all(moment >= kill_started for moment, _ in unanswered), unanswered
    assert len(unanswered) <= len(attendees), unanswered
    expected = phones.sent
    assert phones.told_ok() == set(expected)
    assert_whole_and_exact(db.engine, expected)


# --- b. PostgreSQL stopped and started again in the middle of a burst. ------------------------

class RestartableServer(Server):
    """A throwaway PostgreSQL of this test's own, which it can stop and start on the same data."""

    def options(self):
        return (f"-k {self.socket_dir} -p {self.port} -c listen_addresses='' -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60")

    def halt(self):
        self._run(os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-m", "fast", "-w", "stop")

    def resume(self):
        self._run(os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-o", self.options(), "-w", "-l",
                  os.path.join(self.socket_dir, "server.log"), "start")


@pytest.fixture
def own_postgres():
    server = RestartableServer().start()
    yield server
    server.stop()


def unavailable(answer, *, page):
    """A clear 503: database_unavailable, with Retry-After; JSON under /api/, else a page."""
    assert answer.status == 503, (answer.status, answer.text[:200])
    assert answer.headers["Retry-After"].isdigit()
    if page:
        assert answer.headers["Content-Type"].startswith("text/html")
        assert 'data-code="database_unavailable"' in answer.text
    else:
        assert '"code":"database_unavailable"' in answer.text.replace(" ", "")


def test_postgresql_restarted_mid_burst_answers_503_then_recovers_by_itself(own_postgres, tmp_path):
    url = own_postgres.new_database()
    setup = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test-secret-key"},
                       instance_path=str(tmp_path / "setup"))
    with setup.app_context():
        db.create_all()
        seeded = seed(8)
        db.session.remove()
        db.engine.dispose()
    server = Gunicorn(tmp_path / "served", url, GENEROUS_LIMITS, workers=2, threads=4, make_schema=False).start()
    phones = None
    try:
        attendees = [Attendee(server.base, *row).sign_in() for row in seeded]
        ada, bo = attendees[0], attendees[1]
        form_token = ada.browser.csrf_token(f"{server.base}/B/{bo.badge}")
        # A quick restart that no request saw: every pooled connection is dead, and the next
        # request on each is still answered (they are pinged before use, and made anew).
        own_postgres.halt()
        own_postgres.resume()
        assert [attendee.browser.get(f"{server.base}/api/v1/me").status for attendee in attendees] == [200] * 8
        phones = Phones(attendees[2:], "restart", 8, pause=0.3).start()
        phones.wait_until(lambda answers: len(answers) >= 6, "got going")
        own_postgres.halt()
        down_at = time.monotonic()
        try:
            # While it is down: the signed-in session is read first, then CSRF, the rate
            # limiter and the view; each meets the database and answers 503 at once.
            started = time.monotonic()
            status, code, _ = ada.scan(bo.badge, "while-down")
            assert (status, code) == (503, "database_unavailable")
            unavailable(ada.browser.get(f"{server.base}/api/v1/me"), page=False)
            unavailable(ada.browser.get(f"{server.base}/B/{bo.badge}"), page=True)
            unavailable(ada.browser.request(f"{server.base}/B/{bo.badge}",
                                            {"csrf_token": form_token, "client_id": "form-while-down"},
                                            headers={"Referer": f"{server.base}/B/{bo.badge}"}), page=True)
            unavailable(Browser().get(f"{server.base}/B/{bo.badge}"), page=True)  # no session: the view's query
            assert time.monotonic() - started < WAIT  # answered (each within a connect timeout), not hung
            phones.wait_until(lambda answers: any(moment > down_at and code == "database_unavailable"
                                                  for moment, _, code, _ in answers), "met the database down")
        finally:
            own_postgres.resume()
        up_at = time.monotonic()
        # Back without restarting kithmeet: the very next requests succeed (dead pooled
        # connections are found by the ping before use, not by a failing request).
        assert ada.scan(bo.badge, "after-restart")[:2] == (201, None)
        assert ada.browser.get(f"{server.base}/B/{bo.badge}").status == 200
        phones.wait_until(lambda answers: any(moment > up_at and status == 201 for moment, status, _, _ in answers),
                          "were served again")
        phones.finish()
    finally:
        if phones is not None:
            phones.stop.set()
        server.stop()
    while_down = [(status, code) for moment, status, code, _ in phones.answers if down_at < moment < up_at]
    assert ("database_unavailable" in {code for _, code in while_down}) and {s for s, _ in while_down} <= {
        200, 201, 503}, while_down
    assert {status for _, status, _, _ in phones.answers} <= {200, 201, 503}  # never a 500, never no answer
    assert {code for _, status, code, _ in phones.answers if status == 503} == {"database_unavailable"}
    expected = dict(phones.sent)
    assert phones.told_ok() == set(expected)
    expected.update({"after-restart": (ada.id, bo.id)})
    check = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test-secret-key"},
                       instance_path=str(tmp_path / "setup"))
    with check.app_context():
        assert_whole_and_exact(db.engine, expected)
        db.engine.dispose()


# --- c. The mail worker killed with kill -9 mid-queue, and started again. ---------------------

class HoldingServer:
    """An SMTP server that holds the messages arriving `hold_on` (counted from 1, retries too)
    without answering until their client goes away, and answers every other at once. It keeps a
    message (by its Message-ID) only if it answered 250: a worker killed during the hold has not
    handed its message over, however long the kill takes to come."""

    def __init__(self, hold_on):
        self.hold_on, self.arrived, self.accepted = set(hold_on), 0, []

    async def handle_DATA(self, server, session, envelope):
        self.arrived += 1
        if self.arrived in self.hold_on:
            deadline = time.monotonic() + WAIT
            while server.transport is not None and not server.transport.is_closing() and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            if server.transport is None or server.transport.is_closing():
                return "451 client went away"
        self.accepted.append(message_from_bytes(envelope.original_content, policy=policy.default)["Message-ID"])
        return "250 OK"


LEASE_SECONDS = 2  # the product's is 30 (worker.CLAIM_FOR): shortened so the test takes seconds


def mail_worker(folder, database_url, smtp_port):
    """`flask mail-worker` as its own process, as `make run` starts it."""
    (folder / "mailer.py").write_text(
        "from datetime import timedelta\n"
        "from kithmeet import create_app\n"
        "from kithmeet.mail import worker\n"
        f"worker.CLAIM_FOR = timedelta(seconds={LEASE_SECONDS})\n"
        f"app = create_app({{'SQLALCHEMY_DATABASE_URI': {database_url!r}, 'SECRET_KEY': 'test-secret-key', "
        f"'MAIL_SERVER': '127.0.0.1', 'MAIL_PORT': {smtp_port}, 'MAIL_SENDER': 'kithmeet <mail@meet.example.org>'}}, "
        f"instance_path={str(folder / 'instance')!r})\n")
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "mailer", "mail-worker", "--poll", "0.2"],
                            cwd=folder, env={"PYTHONPATH": str(ROOT), "PATH": os.environ["PATH"]},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_a_mail_worker_killed_mid_queue_sends_each_message_once_after_restart(app, database_url, tmp_path):
    from aiosmtpd.controller import Controller

    with transaction():
        queued = [mail.queue(f"person{n}@example.org", f"Message {n}", f"Body {n}").public_id for n in range(8)]
    db.session.remove()
    smtp = HoldingServer(hold_on=(3, 6))
    controller = Controller(smtp, hostname="127.0.0.1", port=free_port())
    controller.start()
    running = None
    try:
        for kill_on in (3, 6):  # killed while the server holds the 3rd message, then the 6th
            running = mail_worker(tmp_path, database_url, controller.port)
            deadline = time.monotonic() + WAIT
            while smtp.arrived < kill_on and time.monotonic() < deadline:
                time.sleep(0.02)
            assert smtp.arrived == kill_on, "the worker never reached that message"
            running.send_signal(signal.SIGKILL)
            running.wait(10)
        running = mail_worker(tmp_path, database_url, controller.port)  # the restart sends the rest
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline and set(db.session.scalars(select(OutgoingMail.status))) != {"sent"}:
            db.session.remove()
            time.sleep(0.2)
    finally:
        if running is not None and running.poll() is None:
            running.terminate()
            running.wait(10)
        controller.stop()
    assert smtp.arrived == len(queued) + 2  # the two held when their worker died came again
    assert sorted(message_id.split("@")[0].lstrip("<") for message_id in smtp.accepted) == sorted(queued)
    db.session.remove()
    # Sent, each at its first attempt: a killed worker's message went again once its lease (of
    # seconds) ran out, not after a failure's backoff (of minutes).
    kept = db.session.execute(select(OutgoingMail.status, OutgoingMail.attempts))
    assert {tuple(row) for row in kept} == {("sent", 0)}
