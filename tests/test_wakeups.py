"""Wake-ups (wakeups.py): mail queued on any app server wakes the mail worker at once through
Redis, only once the queueing transaction commits; and Redis away never fails the request that
queued the mail, nor the worker, which polls as before."""
import logging
import threading
import time

import pytest
import redis

from kithmeet import wakeups
from kithmeet.database import transaction
from kithmeet.extensions import db
from kithmeet.mail import services as mail
from kithmeet.mail import worker
from kithmeet.mail.models import OutgoingMail

from .servers import Redis, free_port


@pytest.fixture
def redis_url(tmp_path):
    server = Redis(tmp_path).start()
    yield server.url
    server.stop()


@pytest.fixture
def app_config(request):
    return {"REDIS_URL": request.getfixturevalue("redis_url")} if "redis_url" in request.fixturenames else {}


def queue_one(fail=False):
    with transaction():
        mail.queue("ada@example.org", "Hello", "Hi Ada")
        if fail:
            raise RuntimeError("the change that queued it failed")


def test_a_committed_message_wakes_the_listener_and_a_rolled_back_one_does_not(app, redis_url):
    assert app.config["MAIL_WAKEUP_URI"] == redis_url  # from REDIS_URL alone
    listener, stop = wakeups.listener(wakeups.MAIL), threading.Event()
    try:
        with pytest.raises(RuntimeError):
            queue_one(fail=True)
        assert listener.wait(1.0, stop) is False
        queue_one()
        assert listener.wait(30.0, stop) is True  # rung: a timeout would be False
        # Two rings while busy: one more round, not two. Redis hands each ring to every
        # subscriber at once: once a second subscriber has both, the listener has both too.
        both = redis.Redis.from_url(redis_url).pubsub(ignore_subscribe_messages=True)
        both.subscribe(wakeups.PREFIX + wakeups.MAIL)
        queue_one(), queue_one()
        deadline = time.monotonic() + 30
        rings = 0
        while rings < 2 and time.monotonic() < deadline:
            rings += both.get_message(timeout=1.0) is not None
        both.close()
        assert rings == 2
        assert listener.wait(30.0, stop) is True and listener.wait(0.3, stop) is False
    finally:
        listener.close()


def test_redis_away_neither_fails_the_queueing_nor_the_waiting(app, caplog):
    app.config["MAIL_WAKEUP_URI"] = f"redis://127.0.0.1:{free_port()}"  # nothing listens there
    with caplog.at_level(logging.WARNING, logger="kithmeet.wakeups"):
        queue_one()  # committed, whatever Redis says
        listener, stop = wakeups.listener(wakeups.MAIL), threading.Event()
        started = time.monotonic()
        assert listener.wait(1.0, stop) is False and 0.9 < time.monotonic() - started < 30  # a plain poll
        listener.close()
    assert OutgoingMail.query.count() == 1
    assert any("could not ring" in record.getMessage() for record in caplog.records)


def test_without_redis_ringing_does_nothing_and_waiting_is_a_sleep(app):
    assert app.config["MAIL_WAKEUP_URI"] == ""
    queue_one()
    listener, stop = wakeups.listener(wakeups.MAIL), threading.Event()
    threading.Timer(0.2, stop.set).start()
    started = time.monotonic()
    assert listener.wait(60.0, stop) is False and time.monotonic() - started < 30  # stop still ends it


def sent():
    db.session.rollback()  # a fresh look: the worker's thread commits
    return OutgoingMail.query.filter_by(status="sent").count()


def test_the_worker_sends_at_once_when_woken_not_at_its_next_poll(app, redis_url):
    stop = threading.Event()

    def run():
        with app.app_context():
            worker.run_forever(poll_seconds=60, stop=stop)
    thread = threading.Thread(target=run)
    thread.start()

    def sent_soon(count):
        # "At once" on a busy machine: within 15 s, well before the worker's next poll (60 s).
        deadline = time.monotonic() + 15
        while sent() < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return sent()
    try:
        # The first may go in the worker's first round, whenever that runs. The second is queued
        # after a round sent the first (a round picks its messages before sending), so only
        # another round sends it: a wake-up's.
        queue_one()
        assert sent_soon(1) == 1
        queue_one()
        assert sent_soon(2) == 2
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()


def test_a_redis_password_never_reaches_the_log(app, caplog):
    url = f"redis://:s3cretpass@127.0.0.1:{free_port()}/0?password=s3cretpass"  # nothing listens there
    app.config["MAIL_WAKEUP_URI"] = url
    with caplog.at_level(logging.INFO, logger="kithmeet.wakeups"):
        queue_one()  # "could not ring"
        listener, stop = wakeups.listener(wakeups.MAIL), threading.Event()
        listener.wait(0.3, stop)  # "unavailable"
        listener.close()
    assert {"could not ring", "unavailable"} <= {word for record in caplog.records
                                                 for word in ("could not ring", "unavailable") if word in record.getMessage()}
    assert "s3cretpass" not in caplog.text and "redis://:[hidden]@127.0.0.1" in caplog.text
    assert wakeups.shown("redis://user:pa%3Ass@redis.example.org:6379/1") == "redis://user:[hidden]@redis.example.org:6379/1"
    assert wakeups.shown("redis://127.0.0.1:6379/0?db=1") == "redis://127.0.0.1:6379/0?db=1"
