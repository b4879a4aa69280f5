"""Wake-ups between processes: "there is something for you now", sent over Redis publish and
subscribe, so a waiting process (the mail worker) acts at once whichever app server caused it,
instead of at its next poll.

A wake-up carries nothing but its channel's name, and it is only a hint: the waiter still reads
the database for what to do, and still looks every poll interval on its own, so a wake-up lost
(Redis away, nobody subscribed yet, the process restarting) delays work by at most one interval
and never loses it. That is why a Redis failure is logged and never raised: it must not fail the
request that queued the mail, nor stop the worker.

Without a wake-up URL (no Redis: one laptop, one server) `ring` does nothing and `Listener.wait`
is a plain sleep, which is how the mail worker polled before.
"""
import logging
import threading
import time
from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import current_app

from .database import after_commit

logger = logging.getLogger("kithmeet.wakeups")
MAIL = "mail"  # a message was queued (mail/services.py); the mail worker waits on it
PREFIX = "kithmeet:wakeup:"
# Short: a Redis that does not answer must not hold up the request that rang.
TIMEOUT_SECONDS = 0.5
# How often a waiter looks up from Redis to see whether it was asked to stop.
SLICE_SECONDS = 0.5

_clients = {}  # url -> redis client (each holds a thread-safe connection pool)
_clients_lock = threading.Lock()


def _client(url):
    with _clients_lock:
        if url not in _clients:
            import redis

            _clients[url] = redis.Redis.from_url(url, socket_timeout=TIMEOUT_SECONDS,
                                                 socket_connect_timeout=TIMEOUT_SECONDS)
        return _clients[url]


def shown(url):
    """`url` as a log line may name it: with its password (in the address or, as redis-py also
    reads one, in the query) replaced, since logs are read by more people than the settings."""
    parts = urlsplit(url)
    netloc, query = parts.netloc, parts.query
    if parts.password is not None:
        userinfo, _, hostport = netloc.rpartition("@")
        netloc = f"{userinfo.partition(':')[0]}:[hidden]@{hostport}"
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(name == "password" for name, _ in pairs):
            query = urlencode([(name, "[hidden]" if name == "password" else value) for name, value in pairs], safe="[]")
    return parts._replace(netloc=netloc, query=query).geturl()


def ring(channel):
    """Wake whoever waits on `channel` once the open transaction commits (never if it rolls
    back: a waiter woken before the commit would find nothing). Does nothing without a
    wake-up URL; a Redis failure is logged, never raised."""
    url = current_app.config.get("MAIL_WAKEUP_URI")
    if url:
        after_commit(lambda: _publish(url, channel))


def _publish(url, channel):
    try:
        _client(url).publish(PREFIX + channel, b"1")
    except Exception:  # noqa: BLE001 - any of redis' errors: the waiter's poll covers for it
        logger.warning("could not ring %s at %s; it is picked up at the next poll", channel, shown(url),
                       exc_info=True)


class Listener:
    """Waits on one channel. `wait(seconds, stop)` returns when rung, after `seconds`, or soon
    after `stop` (a threading.Event) is set, whichever comes first. Subscribed from the moment
    it is made, so a ring between two waits is not missed: the next wait returns at once."""

    def __init__(self, url, channel):
        self.url, self.channel = url, PREFIX + channel
        self.pubsub = None
        self.broken = False  # logged once until Redis answers again
        if url:
            self._subscribe()

    def _subscribe(self):
        try:
            self.pubsub = _client(self.url).pubsub(ignore_subscribe_messages=True)
            self.pubsub.subscribe(self.channel)
            if self.broken:
                logger.info("wake-ups from %s work again", shown(self.url))
            self.broken = False
        except Exception:  # noqa: BLE001
            self._failed()

    def _failed(self):
        if not self.broken:
            logger.warning("wake-ups from %s unavailable; polling until it answers", shown(self.url),
                           exc_info=True)
        self.broken = True
        if self.pubsub is not None:
            try:
                self.pubsub.close()
            except Exception:  # noqa: BLE001 - already broken
                pass
        self.pubsub = None

    def wait(self, seconds, stop):
        """True when rung, False when the time ran out or `stop` was set."""
        deadline = time.monotonic() + seconds
        while not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if self.url and self.pubsub is None:
                self._subscribe()  # Redis was away: try again each slice
            if self.pubsub is None:
                stop.wait(min(left, SLICE_SECONDS))
                continue
            try:
                message = self.pubsub.get_message(timeout=min(left, SLICE_SECONDS))
            except Exception:  # noqa: BLE001 - Redis went away mid-wait
                self._failed()
                continue
            if message is not None and message.get("type") == "message":
                self._drain()
                return True
        return False

    def _drain(self):
        # Several rings while the worker was busy mean one more round, not several.
        try:
            while self.pubsub.get_message(timeout=0) is not None:
                pass
        except Exception:  # noqa: BLE001
            self._failed()

    def close(self):
        if self.pubsub is not None:
            try:
                self.pubsub.close()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass
            self.pubsub = None


def listener(channel):
    """A Listener for `channel` on the app's wake-up URL (none: it only sleeps)."""
    return Listener(current_app.config.get("MAIL_WAKEUP_URI") or "", channel)
