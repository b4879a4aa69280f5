import os
import signal
import threading
import time
from datetime import datetime, timedelta

import pytest

from sqlalchemy import select

from kithmeet.database import transaction, utcnow
from kithmeet.extensions import db
from kithmeet.mail import delivery, services, worker
from kithmeet.mail.models import OutgoingMail

from ..postgres import BOTH_DATABASES

NOW = datetime(2026, 11, 26, 21, 0)


def queue(count, at=NOW):
    with transaction():
        mails = [services.queue(f"person{n}@example.org", f"Message {n}", f"Body {n}") for n in range(count)]
        for mail in mails:
            mail.created_at = mail.next_attempt_at = at
    return [mail.public_id for mail in mails]


def row(public_id):
    db.session.remove()
    return db.session.query(OutgoingMail).filter_by(public_id=public_id).one()


def delivered(smtp):
    return sorted(message["Message-ID"].split("@")[0].lstrip("<") for _, message in smtp.messages)


SECRET = "s3cr3t-link-4471"
UNSUBSCRIBE_KEY = "unsubscribe-key-4471"


def queue_secret(to="quillon@example.org"):
    with transaction():
        mail = services.queue(to, "Your sign-in link", f"Sign in: https://meet.example.org/{SECRET}\n",
                              f"<p>Digest naming Quillon: {SECRET}</p>",
                              {"List-Unsubscribe": f"<https://meet.example.org/unsubscribe/{UNSUBSCRIBE_KEY}>"})
        mail.created_at = mail.next_attempt_at = NOW
    return mail.public_id


def stored(public_id):
    """The row as the database holds it, every column, read past the session."""
    db.session.remove()
    with db.engine.connect() as connection:
        return connection.execute(select(OutgoingMail.__table__).where(OutgoingMail.public_id == public_id)).one()


def assert_forgotten(public_id):
    """Only bookkeeping is left: no body, no headers, the address masked as on the console."""
    kept = stored(public_id)
    assert (kept.text_body, kept.html_body, kept.headers) == ("", None, "{}")
    assert kept.to_address == "q…@example.org"
    assert kept.subject == "Your sign-in link" and kept.public_id == public_id
    assert [text for text in (SECRET, UNSUBSCRIBE_KEY, "quillon@", "Quillon") if text in repr(tuple(kept))] == []
    return kept


def test_backoff_doubles_and_is_capped_at_an_hour():
    assert [worker.retry_delay(n) for n in range(1, 9)] == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 60, 60)]


def test_a_server_that_is_down_is_retried_with_backoff_then_delivered(app, smtp):
    [public_id] = queue(1)
    now = NOW
    for attempt, wait in enumerate((1, 2, 4), start=1):
        counts = worker.send_due(now=now)
        assert (counts.sent, counts.retrying) == (0, 1)
        mail = row(public_id)
        assert (mail.status, mail.attempts, mail.last_error) == ("queued", attempt, "unreachable")
        assert mail.claimed_until is None
        assert mail.next_attempt_at == now + timedelta(minutes=wait)
        # Not due a second before its time, even with the server back.
        assert worker.send_due(now=mail.next_attempt_at - timedelta(seconds=1)).retrying == 0
        now = mail.next_attempt_at
    smtp.start()
    assert worker.send_due(now=now).sent == 1
    assert delivered(smtp) == [public_id]
    mail = row(public_id)
    assert (mail.status, mail.sent_at, mail.attempts, mail.last_error) == ("sent", now, 3, None)


def test_after_eight_failures_a_message_has_failed(app):
    [public_id] = queue(1)
    now = NOW
    for _ in range(7):
        assert worker.send_due(now=now).retrying == 1
        now = row(public_id).next_attempt_at
    counts = worker.send_due(now=now)
    assert (counts.retrying, counts.failed) == (0, 1)
    mail = row(public_id)
    assert (mail.status, mail.attempts, mail.last_error) == ("failed", 8, "unreachable")
    assert worker.send_due(now=now + timedelta(days=1)).failed == 0  # never tried again


@BOTH_DATABASES
def test_a_sent_message_keeps_no_body_headers_or_full_address(app, smtp):
    smtp.start()
    public_id = queue_secret()
    assert SECRET in repr(tuple(stored(public_id)))  # held while it waits to be sent
    assert worker.send_due(now=NOW).sent == 1
    [(recipients, message)] = smtp.messages  # the whole message went out
    assert recipients == ["quillon@example.org"] and SECRET in message.as_string()
    assert UNSUBSCRIBE_KEY in message["List-Unsubscribe"]
    kept = assert_forgotten(public_id)
    assert (kept.status, kept.sent_at, kept.attempts, kept.claimed_until) == ("sent", NOW, 0, None)


@BOTH_DATABASES
def test_a_message_that_failed_for_good_keeps_no_body_headers_or_full_address(app):
    public_id = queue_secret()
    now = NOW
    for _ in range(worker.MAX_ATTEMPTS - 1):  # no server listens: every attempt fails
        assert worker.send_due(now=now).retrying == 1
        waiting = stored(public_id)
        assert SECRET in waiting.text_body and waiting.to_address == "quillon@example.org"  # kept for the retry
        now = waiting.next_attempt_at
    assert worker.send_due(now=now).failed == 1
    kept = assert_forgotten(public_id)
    assert (kept.status, kept.attempts, kept.last_error, kept.sent_at) == ("failed", 8, "unreachable", None)


@BOTH_DATABASES
def test_a_long_address_masked_still_fits_its_column(app):
    address = "q@" + ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 56]) + ".org"
    assert len(address) == 254
    with transaction():
        mail = services.queue(address, "Hello", "Text")
        mail.created_at = mail.next_attempt_at = NOW  # due at the test's clock, whatever today's date
        public_id = mail.public_id
    mail_id = row(public_id).id
    worker._mark_sent(worker._claim(mail_id, NOW), NOW)
    assert len(stored(public_id).to_address) == 254


@BOTH_DATABASES
def test_two_workers_at_once_deliver_each_message_exactly_once(app, smtp):
    smtp.start()
    public_ids = queue(30)
    start = threading.Barrier(2)
    counts, errors = [], []

    def work():
        try:
            with app.app_context():
                start.wait()
                counts.append(worker.send_due(now=NOW))
                db.session.remove()
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert delivered(smtp) == sorted(public_ids)  # each once: a duplicate would be listed twice
    assert sum(count.sent for count in counts) == 30
    db.session.remove()
    assert {mail.status for mail in db.session.query(OutgoingMail)} == {"sent"}


class Killed(BaseException):
    """What a SIGKILL looks like from inside: nothing after it runs."""


def test_a_worker_killed_mid_queue_leaves_each_message_to_go_exactly_once(app, smtp, monkeypatch):
    smtp.start()
    public_ids = queue(10)
    real_deliver = delivery.deliver

    def dies_at_the_fifth(mail):
        if len(smtp.messages) == 4:
            raise Killed()
        return real_deliver(mail)
    monkeypatch.setattr(delivery, "deliver", dies_at_the_fifth)
    with pytest.raises(Killed):
        worker.send_due(now=NOW)
    db.session.rollback()
    monkeypatch.setattr(delivery, "deliver", real_deliver)
    assert len(smtp.messages) == 4
    # The dead worker's claim holds its message until the lease ends; the rest go at once.
    assert worker.send_due(now=NOW).sent == 5
    assert worker.send_due(now=NOW + worker.CLAIM_FOR + timedelta(seconds=1)).sent == 1
    assert delivered(smtp) == sorted(public_ids)


def test_a_worker_killed_between_the_servers_yes_and_its_mark_sends_that_message_twice(app, smtp, monkeypatch):
    """The one window at least once leaves (docs/decisions.md, Mail): the server took the message
    and the worker died before marking it sent. Once the lease runs out the next worker sends that
    message again: it alone twice, every other once."""
    smtp.start()
    public_ids = queue(3)
    real_mark = worker._mark_sent

    def dies_after_the_second_send(claimed, now):
        if len(smtp.messages) == 2:
            raise Killed()
        return real_mark(claimed, now)
    monkeypatch.setattr(worker, "_mark_sent", dies_after_the_second_send)
    with pytest.raises(Killed):
        worker.send_due(now=NOW)
    db.session.rollback()
    monkeypatch.setattr(worker, "_mark_sent", real_mark)
    [second] = [public_id for public_id in delivered(smtp) if row(public_id).status != "sent"]  # taken, unmarked
    assert [row(p).status for p in public_ids].count("sent") == 1
    assert worker.send_due(now=NOW).sent == 1  # the third; the second's lease still holds
    assert worker.send_due(now=NOW + worker.CLAIM_FOR + timedelta(seconds=1)).sent == 1  # the second, again
    assert delivered(smtp) == sorted(public_ids + [second])
    assert [row(p).status for p in public_ids] == ["sent"] * 3


def test_a_worker_stopped_by_its_limit_leaves_the_rest_for_the_next(app, smtp):
    smtp.start()
    public_ids = queue(7)
    assert worker.send_due(now=NOW, limit=3).sent == 3
    assert worker.send_due(now=NOW).sent == 4
    assert delivered(smtp) == sorted(public_ids)


def test_run_forever_sends_and_stops_cleanly_on_sigterm(app, smtp):
    smtp.start()
    [public_id] = queue(1, at=utcnow() - timedelta(minutes=1))  # run_forever reads the real clock
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGTERM))
    previous = signal.getsignal(signal.SIGTERM)
    timer.start()
    try:
        worker.run_forever(poll_seconds=0.1)
    finally:
        timer.cancel()
    assert signal.getsignal(signal.SIGTERM) is previous  # the handler is put back
    assert delivered(smtp) == [public_id]


def test_a_worker_whose_lease_passed_to_another_cannot_mark_the_message(app):
    [public_id] = queue(1)
    mail_id = row(public_id).id
    slow = worker._claim(mail_id, NOW)
    assert worker._claim(mail_id, NOW + worker.CLAIM_FOR / 2) is None  # leased: nobody else takes it
    late = NOW + worker.CLAIM_FOR + timedelta(seconds=1)
    other = worker._claim(mail_id, late)  # the lease ran out: another worker takes it
    assert other is not None
    assert worker._mark_failed(slow, late, "timeout") is False
    mail = row(public_id)
    assert (mail.status, mail.attempts, mail.claimed_until) == ("queued", 0, other.claimed_until)
    assert worker._mark_sent(slow, late) is False
    assert worker._mark_sent(other, late) is True
    assert row(public_id).status == "sent"


def test_a_send_that_outlasts_the_lease_keeps_it_while_the_worker_lives(app, smtp, monkeypatch):
    # The lease is short so a killed worker's message goes again soon (tests/scale/test_faults.py);
    # a live worker renews it while the server is slow, so no other worker sends it meanwhile.
    # The worker's clock is the test's: it moves on most of a lease at a time, four times over, and
    # each time the test waits (as long as a busy machine needs) for the renewal that follows.
    smtp.start()
    monkeypatch.setattr(worker, "CLAIM_FOR", timedelta(seconds=0.6))  # renewed every 0.2 s of real time
    clock = [NOW]
    monkeypatch.setattr(worker, "utcnow", lambda: clock[0])
    [public_id] = queue(1)
    mail_id = row(public_id).id
    real_deliver, taken = delivery.deliver, []

    def lease_ends():
        with db.engine.connect() as connection:
            return connection.scalar(select(OutgoingMail.claimed_until).where(OutgoingMail.id == mail_id))

    def slow(mail):
        for _ in range(4):  # 2 s of the worker's clock in all: more than three leases
            clock[0] += timedelta(seconds=0.5)
            renewed = clock[0] + worker.CLAIM_FOR
            deadline = time.monotonic() + 30
            while lease_ends() != renewed and time.monotonic() < deadline:
                time.sleep(0.05)
            with app.app_context():
                taken.append(worker._claim(mail_id, clock[0]))
        return real_deliver(mail)
    monkeypatch.setattr(delivery, "deliver", slow)
    assert worker.send_due().sent == 1
    assert taken == [None] * 4
    assert (row(public_id).status, delivered(smtp)) == ("sent", [public_id])
