"""Several app servers, as docs/deploy.md's "several servers" layout runs them: two separate
gunicorn servers (each as `make run` starts it, two workers) on one PostgreSQL database and one
redis-server, with nothing but REDIS_URL saying where what they share lives. A browser signs in
through one and carries on through the other; a rate limit counts across both; a connect made
through one is news through the other; mail queued through one is sent at once by a mail worker
that another process runs, woken through Redis rather than by its poll."""
import json
import re
import subprocess
import sys
import time
from datetime import datetime

import pytest
import redis

from kithmeet import create_app
from kithmeet.events import services as events
from kithmeet.extensions import db
from kithmeet.organizer import services as organizers
from kithmeet.people import identity
from kithmeet.people import services as people
from kithmeet.people.profile import Profile
from kithmeet.sessions import WebSession

from ..mail.conftest import SMTPServer
from ..servers import ROOT, Gunicorn, Redis
from .browsing import Browser

BADGE = re.compile(r"/badge/([A-Z0-9]+)\.svg")
MAIL_POLL_SECONDS = 60  # far longer than the test waits: only a wake-up can send in time
SENT_AT_ONCE = 15  # seconds: "at once" on a busy machine, and well before the worker's next poll
WAKEUP_CHANNEL = "kithmeet:wakeup:mail"


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    server = Redis(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def smtp():
    server = SMTPServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def site(tmp_path_factory, postgres, redis_server, smtp):
    """Servers A and B and a mail worker on one PostgreSQL database and one Redis; an open event
    (its join code), and Cy, who has an e-mail identity. Started once for the module (each test
    uses people of its own): two servers and a worker take a while to start on a busy machine."""
    tmp_path = tmp_path_factory.mktemp("servers")
    url = postgres.new_database()
    settings = {"SECRET_KEY": "one-key-for-every-server", "REDIS_URL": redis_server.url,
                # An hour: a window that cannot end between the rate-limit test's four tries.
                "RATELIMIT_ORGANIZER_SIGNIN": "3 per hour", "EMAIL_SIGNIN_MIN_SECONDS": 0,
                "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port}
    a = Gunicorn(tmp_path / "a", url, settings, name="a")
    b = Gunicorn(tmp_path / "b", url, settings, name="b", make_schema=False)
    worker = None
    shared = redis.Redis.from_url(redis_server.url)  # the test's own look into Redis
    log = open(tmp_path / "mail-worker.log", "w")
    try:
        a.start()  # makes the tables, once
        app = create_app({**settings, "SQLALCHEMY_DATABASE_URI": url}, instance_path=str(tmp_path / "seed"))
        with app.app_context():
            organizer = organizers.create_organizer("organizer@example.org", "a long enough password")
            event = events.create_event(organizer, name="Thursday Gathering", starts_at=datetime(2026, 11, 26, 19),
                                        venue="The Corner Café")
            event = events.set_status(organizer, event.public_id, "open")
            cy = people.join_event(event, Profile(name="Cy", answers=((event.prompt_labels[0], "Flask"),)))
            identity.set_email(cy, "cy@example.org")
            join_code = event.join_code
            db.session.remove()
            db.engine.dispose()
        b.start()
        worker = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "a:app", "mail-worker", "--poll", str(MAIL_POLL_SECONDS)],
            cwd=a.folder, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, stdout=log, stderr=log)
        yield {"a": a.base, "b": b.base, "join_code": join_code, "app": app,
               "redis": shared, "worker": worker, "smtp": smtp}
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=15)
        log.close()
        shared.close()
        a.stop()
        b.stop()
        postgres.drop_database(url)


def join(browser, base, join_code, name):
    answer = browser.submit(f"{base}/J/{join_code}", {"name": name, "prompt_0": "Flask"})
    assert answer.status == 302, answer.text
    return answer


def test_signed_in_through_one_server_and_carrying_on_through_the_other(site):
    ada = Browser()
    join(ada, site["a"], site["join_code"], "Ada")  # her session starts on A
    badge = ada.get(f"{site['b']}/badge")  # the same cookie, on B
    assert badge.status == 200 and BADGE.search(badge.text), "B did not know the session A started"
    # A form B renders posts through A: the session, and the CSRF token in it, are one.
    token = BADGE.search(badge.text).group(1)
    bo = Browser()
    join(bo, site["b"], site["join_code"], "Bo")
    assert bo.submit(f"{site['a']}/B/{token}", page=f"{site['b']}/B/{token}").status == 302
    # The sessions are in Redis, from REDIS_URL alone: none in the database.
    assert site["redis"].keys("kithmeet:session:*")
    with site["app"].app_context():
        assert db.session.query(WebSession).count() == 0
        db.session.remove()
        db.engine.dispose()


def test_a_rate_limit_counts_across_both_servers(site):
    browser = Browser()
    statuses = [browser.request(f"{site['a']}/organizer/login", {"email": "x"}).status for _ in range(3)]
    assert statuses == [400] * 3  # no CSRF token: refused, and counted
    assert browser.request(f"{site['b']}/organizer/login", {"email": "x"}).status == 429


def test_a_connect_through_one_server_is_news_through_the_other(site):
    ada, bo = Browser(), Browser()
    join(ada, site["a"], site["join_code"], "Ada")
    join(bo, site["a"], site["join_code"], "Bo")
    token = BADGE.search(ada.get(f"{site['a']}/badge").text).group(1)
    assert json.loads(ada.get(f"{site['b']}/api/v1/news").text)["count"] == 0
    assert bo.submit(f"{site['a']}/B/{token}").status == 302  # Bo scans Ada's badge through A
    news = json.loads(ada.get(f"{site['b']}/api/v1/news").text)  # Ada's open page asks B
    assert news["count"] == 1 and news["latest"]["name"] == "Bo"


def test_mail_queued_through_one_server_is_sent_at_once_by_the_worker_woken_through_redis(site):
    deadline = time.monotonic() + 60
    while site["redis"].pubsub_numsub(WAKEUP_CHANNEL)[0][1] < 1:  # the worker is listening
        assert site["worker"].poll() is None and time.monotonic() < deadline, "the mail worker did not start"
        time.sleep(0.05)
    browser = Browser()

    def ask_for_a_link():
        asked = browser.submit(f"{site['a']}/signin/email", {"email": "cy@example.org"})
        assert asked.status == 302
        queued, already = time.monotonic(), len(site["smtp"].messages)
        while len(site["smtp"].messages) == already and time.monotonic() - queued < SENT_AT_ONCE:
            time.sleep(0.05)
        assert len(site["smtp"].messages) == already + 1, f"not sent within {SENT_AT_ONCE} s of being queued"
        return site["smtp"].messages[-1]
    # The first may go in the worker's first round, whenever that runs. The second is queued
    # after a round sent the first (the round picked its messages before sending), so only
    # another round sends it: a wake-up's, since the next poll is a minute away.
    ask_for_a_link()
    recipients, message = ask_for_a_link()
    assert recipients == ["cy@example.org"] and "/signin/email/" in message.get_body(("plain",)).get_content()
