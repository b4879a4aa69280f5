"""Sending the queue. Each message is claimed, sent and marked in three steps:

1. claim: a conditional UPDATE sets `claimed_until` (a lease of CLAIM_FOR) only while the
   message is queued, due and not leased, and commits; of two workers, one wins it;
2. send, with no transaction open (a slow server holds no database lock), while a thread
   renews the lease every third of it: a live worker keeps its message however slow the
   server, and a killed one's lease runs out within seconds, not minutes;
3. mark: `sent`, or back to `queued` with a later `next_attempt_at`, conditional on the
   lease still being this worker's. Marking a message `sent`, or `failed` for good, also
   empties its body and extra headers and masks its address in that same UPDATE: what
   stays is bookkeeping (public id, subject, status, attempts, times, error code).

A worker that dies between sending and marking leaves its lease to expire, and the next
worker sends the message again: the one window where a message can go twice (see
docs/decisions.md, Mail). Everything else goes at most once and, while attempts last, once.
"""
import dataclasses
import logging
import signal
import threading
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from .. import changelog, wakeups
from ..database import transaction, utcnow
from ..emails import MAX_EMAIL
from ..extensions import db
from . import delivery
from .models import OutgoingMail

logger = logging.getLogger("kithmeet.mail")
# Short, and renewed while the message is being sent (_Renewal): how long a restarted worker
# waits for a message its killed predecessor had in hand.
CLAIM_FOR = timedelta(seconds=30)
MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)


@dataclass
class Counts:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


@dataclass(frozen=True)
class _Claimed:
    """What the worker sends, read inside the claim: no session is open while it sends."""
    id: int
    public_id: str
    to_address: str
    subject: str
    text_body: str
    html_body: str | None
    headers: str
    created_at: object
    attempts: int
    claimed_until: object


def retry_delay(attempts):
    """The wait after the `attempts`-th failure: 1, 2, 4 … minutes, at most an hour."""
    return min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_RETRY)


def _available(now):
    return (OutgoingMail.status == "queued", OutgoingMail.next_attempt_at <= now,
            or_(OutgoingMail.claimed_until.is_(None), OutgoingMail.claimed_until < now))


def _claim(mail_id, now):
    lease = now + CLAIM_FOR
    with transaction():
        won = db.session.execute(
            update(OutgoingMail).where(OutgoingMail.id == mail_id, *_available(now))
            .values(claimed_until=lease).returning(OutgoingMail.id)).first()
        if won is None:
            return None  # another worker has it, or it is no longer due
        mail = db.session.get(OutgoingMail, mail_id, populate_existing=True)
        return _Claimed(mail.id, mail.public_id, mail.to_address, mail.subject, mail.text_body, mail.html_body,
                        mail.headers, mail.created_at, mail.attempts, lease)


class _Renewal:
    """Keeps a claim's lease alive while its message is sent: every third of CLAIM_FOR a
    thread moves `claimed_until` on, by the same conditional UPDATE as the claim (only while it
    is still this claim's), on a connection of its own. It stops when the sending ends, or once
    the lease is no longer this worker's (the message was deleted with its account).
    `claimed()` is the claim as last renewed, for the mark."""

    def __init__(self, claimed, clock):
        self._claimed, self._clock = claimed, clock
        self._engine = db.engine  # the thread has no app context of its own
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease {claimed.public_id}", daemon=True)

    def claimed(self):
        return self._claimed

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *_):
        self._done.set()
        self._thread.join()

    def _run(self):
        while not self._done.wait(CLAIM_FOR.total_seconds() / 3):
            lease = self._clock() + CLAIM_FOR
            try:
                with self._engine.begin() as connection:
                    renewed = connection.execute(
                        update(OutgoingMail).where(*_still_ours(self._claimed)).values(claimed_until=lease)
                        .returning(OutgoingMail.id)).first()
            except SQLAlchemyError:  # the database away for a moment: try again at the next third
                logger.warning("mail %s: its lease could not be renewed", self._claimed.public_id)
                continue
            if renewed is None:
                return
            self._claimed = dataclasses.replace(self._claimed, claimed_until=lease)


def _forgotten(claimed):
    """The columns of a message that will not be sent again, emptied: the body may hold a
    sign-in link or quote people's names and shared lines, the headers an unsubscribe key.
    The address keeps its first letter and domain, as the console line shows it."""
    return {"text_body": "", "html_body": None, "headers": "{}",
            "to_address": delivery.masked(claimed.to_address)[:MAX_EMAIL]}


def _still_ours(claimed):
    return (OutgoingMail.id == claimed.id, OutgoingMail.status == "queued",
            OutgoingMail.claimed_until == claimed.claimed_until)


def _mark_sent(claimed, now):
    with transaction():
        marked = db.session.execute(
            update(OutgoingMail).where(*_still_ours(claimed))
            .values(status="sent", sent_at=now, claimed_until=None, last_error=None, **_forgotten(claimed))
            .returning(OutgoingMail.id)).first()
        if marked:
            changelog.record("mail.sent", "system", mail=claimed.id)
    return marked is not None


def _mark_failed(claimed, now, code):
    attempts = claimed.attempts + 1
    gave_up = attempts >= MAX_ATTEMPTS
    with transaction():
        values = {"attempts": attempts, "claimed_until": None, "last_error": code}
        if gave_up:
            values.update(status="failed", **_forgotten(claimed))
        else:
            values["next_attempt_at"] = now + retry_delay(attempts)
        marked = db.session.execute(update(OutgoingMail).where(*_still_ours(claimed)).values(**values)
                                    .returning(OutgoingMail.id)).first()
        if marked:
            changelog.record("mail.failed" if gave_up else "mail.retrying", "system", mail=claimed.id, error=code)
    return gave_up


def send_due(now=None, limit=50, stop=None):
    """Send up to `limit` due messages, one claim at a time; returns Counts. `now` (frozen in
    tests) is the clock for due times, leases and backoff; by default the real one, read
    afresh for each message. Stops early once `stop` (a threading.Event) is set."""
    clock = (lambda: now) if now is not None else utcnow
    counts = Counts()
    candidates = db.session.scalars(
        select(OutgoingMail.id).where(*_available(clock()))
        .order_by(OutgoingMail.next_attempt_at, OutgoingMail.id).limit(limit)).all()
    db.session.rollback()  # end the read: nothing stays open while sending
    for mail_id in candidates:
        if stop is not None and stop.is_set():
            break
        claimed = _claim(mail_id, clock())
        if claimed is None:
            continue
        renewal = _Renewal(claimed, clock)
        code = None
        try:
            with renewal:
                delivery.deliver(claimed)
        except delivery.DeliveryError as error:
            code = error.code
        except Exception:  # a bug in building the message: keep the queue moving, keep it
            logger.exception("mail %s could not be built", claimed.public_id)
            code = "internal"
        claimed = renewal.claimed()  # its lease as last renewed: the mark holds only while it is ours
        if code is None:
            if not _mark_sent(claimed, clock()):
                logger.warning("mail %s was sent but not marked: its claim passed to another worker, or it was "
                               "deleted (its account was) while it was being sent", claimed.public_id)
            counts.sent += 1
            continue
        if _mark_failed(claimed, clock(), code):
            counts.failed += 1
            logger.warning("mail %s failed for good: %s", claimed.public_id, code)
        else:
            counts.retrying += 1
    return counts


def run_forever(poll_seconds=5, stop=None, each_round=None):
    """Send what is due every `poll_seconds`, and at once when a message is queued on any app
    server (a wake-up through Redis, wakeups.py, when configured), until SIGTERM or SIGINT
    (or `stop` is set).
    A signal lets the message in hand finish; it is never cut off between send and mark.
    `each_round()`, when given, runs before each round's sending (the CLI queues the weekly
    nudges with it: mail knows nothing of what it sends)."""
    stop = stop or threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, lambda *_: stop.set())
    # Subscribed before the first round: a message queued while that round runs still wakes it.
    wake = wakeups.listener(wakeups.MAIL)
    logger.info("mail worker started; sending every %s s%s", poll_seconds,
                " and when woken" if wake.url else "")
    try:
        while not stop.is_set():
            if each_round is not None:
                try:
                    each_round()
                except Exception:  # its own failure must not stop the sending
                    logger.exception("mail worker's round hook failed")
                    db.session.rollback()
            try:
                send_due(stop=stop)
            except Exception:  # the database away for a moment: try again next round
                logger.exception("mail worker round failed")
            finally:
                db.session.remove()
            wake.wait(poll_seconds, stop)
    finally:
        wake.close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    logger.info("mail worker stopped")
