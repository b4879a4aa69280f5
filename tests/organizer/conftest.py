"""Fixtures for the organizer's account: clocks to freeze, requests released together,
organizers signed in through the pages, with or without two-factor sign-in."""
import threading
import time
from datetime import timedelta

import pyotp
import pytest

from kithmeet.database import utcnow
from kithmeet.errors import DomainError
from kithmeet.extensions import db
from kithmeet.organizer import lockout, twofactor

EMAIL = "org@example.org"
PASSWORD = "the right password"


class Clock:
    """A frozen clock the test moves on by hand: `utc` for lockout.py, `epoch` for twofactor.py."""

    def __init__(self):
        self.utc, self.epoch = utcnow(), float(int(time.time()) // 30 * 30 + 10)  # 10 s into a time step

    def advance(self, **delta):
        self.utc += timedelta(**delta)
        self.epoch += timedelta(**delta).total_seconds()

    def time(self):
        return self.epoch

    def code(self, secret, steps=0):
        """The app's code for the time step `steps` away from now."""
        return pyotp.TOTP(secret).at(self.epoch + 30 * steps)


@pytest.fixture
def clock(monkeypatch):
    frozen = Clock()
    monkeypatch.setattr(lockout, "utcnow", lambda: frozen.utc)
    monkeypatch.setattr(twofactor, "time", frozen)
    return frozen


@pytest.fixture
def at_once(app):
    """at_once(count, call): `call(i)` from `count` threads released together, each in its own
    app context and session; returns each outcome ("ok", a DomainError code, or the repr of
    anything else), in the order of i."""
    def run_all(count, call):
        barrier = threading.Barrier(count)
        outcomes = [None] * count

        def run(i):
            with app.app_context():
                try:
                    barrier.wait()
                    result = call(i)
                    outcomes[i] = result if isinstance(result, str) else "ok"
                except DomainError as error:
                    outcomes[i] = error.code
                except Exception as error:  # noqa: BLE001 - any other error fails the test
                    outcomes[i] = repr(error)
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        return outcomes
    return run_all


@pytest.fixture
def organizer(make_organizer):
    return make_organizer(EMAIL, PASSWORD)


def log_in(client, password=PASSWORD, email=EMAIL):
    return client.submit("/organizer/login", data={"email": email, "password": password})


@pytest.fixture
def signed_in_organizer(app, organizer):
    """make(): a new client signed in as `organizer` through the sign-in page."""
    def make():
        client = app.test_client()
        assert log_in(client).location == "/organizer/"
        return client
    return make


@pytest.fixture
def two_factor(organizer, clock):
    """`organizer` with two-factor sign-in on; returns (secret, recovery codes)."""
    secret = twofactor.start(organizer)
    codes = twofactor.turn_on(organizer, PASSWORD, clock.code(secret, -1))  # the code before now: leaves now's free
    return secret, codes
