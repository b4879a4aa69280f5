"""Wake-ups (wakeups.py): mail queued on any app server wakes the mail worker at once through
Redis, only once the queueing transaction commits; and Redis away never fails the request that
queued the mail, nor the worker, which polls as before."""
import logging
import threading
import time

import pytest

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
        started = time.monotonic()
        assert listener.wait(10.0, stop) is True and time.monotonic() - started < 2
        queue_one(), queue_one()  # two rings while busy: one more round, not two
        assert listener.wait(5.0, stop) is True and listener.wait(0.3, stop) is False
    finally:
        listener.close()


def test_redis_away_neither_fails_the_queueing_nor_the_waiting(app, caplog):
    app.config["MAIL_WAKEUP_URI"] = f"redis://127.0.0.1:{free_port()}"  # nothing listens there
    with caplog.at_level(logging.WARNING, logger="kithmeet.wakeups"):
        queue_one()  # committed, whatever Redis says
        listener, stop = wakeups.listener(wakeups.MAIL), threading.Event()
        started = time.monotonic()
        assert listener.wait(1.0, stop) is False and 0.9 < time.monotonic() - started < 5  # a plain poll
        listener.close()
    assert OutgoingMail.query.count() == 1
    assert any("could not ring" in record.getMessage() for record in caplog.records)


def test_without_redis_ringing_does_nothing_and_waiting_is_a_sleep(app):
    assert app.config["MAIL_WAKEUP_URI"] == ""
    queue_one()
    listener, stop = wakeups.listener(wakeups.MAIL), threading.Event()
    threading.Timer(0.2, stop.set).start()
    started = time.monotonic()
    assert listener.wait(30.0, stop) is False and time.monotonic() - started < 2  # stop still ends it


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
    try:
        time.sleep(1.0)  # subscribed, and its first round (nothing due) done
        queue_one()
        deadline = time.monotonic() + 1.5
        while not sent() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sent() == 1
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()
