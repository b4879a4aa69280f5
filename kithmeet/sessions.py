"""Server-side sessions: the cookie holds only a random session id; what a session holds
lives in the app's database (the default) or in Redis, so signing out ends it for real and
a copied cookie dies with it.

Built on Flask-Session's server-side interface (random ids, regeneration, msgpack). Its own
SQLAlchemy backend is not used: it creates its table outside the migrations at start-up,
declares a model on the app's metadata every time an app is built, and stores the session
id in clear. Here the table is migrated like every other, and a row is found by the SHA-256
of the id, so a copy of the database cannot be replayed as cookies.

A session is written when it changes, and otherwise at most once a day to push its expiry
on: not on every request. A session that no one signed in with is kept for a day. A write
never brings back a session that was ended while the request was under way.
"""
import hashlib
import random
import re
import time
from datetime import datetime, timedelta
from functools import cache

from flask import request
from flask_session.base import ServerSideSessionInterface
from sqlalchemy import LargeBinary, String, bindparam, delete, insert, select, update
from sqlalchemy.orm import Mapped, mapped_column

from .database import utcnow
from .extensions import db

ANONYMOUS_LIFETIME = timedelta(days=1)
REFRESH_AFTER = 24 * 3600  # seconds between expiry refreshes of an unchanged session
SAVED_KEY = "_saved"  # when the session was last written (epoch seconds)
PURGE_CHANCE = 0.01
SESSIONLESS = "kithmeet_sessionless"  # app.extensions key: {path: header} (skip_loading)
SESSIONLESS_PATHS = "kithmeet_sessionless_paths"  # app.extensions key: [pattern] (skip_loading_paths)
BACKGROUND = "kithmeet_background_headers"  # app.extensions key: {header} (background_requests)


class WebSession(db.Model):
    __tablename__ = "web_session"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(index=True)


# Every request that carries a cookie runs it: built once, and run as a plain statement on the
# request's connection (a fifth of the ORM's cost per call, measured).
_table = WebSession.__table__
_READ = select(_table.c.data).where(_table.c.id_hash == bindparam("id_hash"), _table.c.expires_at > bindparam("now"))


def _hash(store_id):
    return hashlib.sha256(store_id.encode()).hexdigest()


class ServerSessions:
    """What both stores share: a session is written back only while it still exists (so a
    request that was under way when its session was signed out cannot bring it back), an
    unchanged one only when its expiry is a day old, and one no one signed in with (not
    permanent) lives a day on the server and until the browser closes in it."""

    def lifetime(self, app, session):
        return app.permanent_session_lifetime if session.permanent else ANONYMOUS_LIFETIME

    def open_session(self, app, request):
        header = app.extensions.get(SESSIONLESS, {}).get(request.path)
        if header is not None and request.method in ("GET", "HEAD") and header in request.headers:
            return self.make_null_session(app)  # proves who sent it by itself (skip_loading)
        if request.method in ("GET", "HEAD") and any(
                pattern.fullmatch(request.path) for pattern in app.extensions.get(SESSIONLESS_PATHS, ())):
            return self.make_null_session(app)  # the same answer for everyone (skip_loading_paths)
        sid = request.cookies.get(self.get_cookie_name(app))
        data = self._retrieve_session_data(self._get_store_id(sid)) if sid and len(sid) <= 100 else None
        if data is not None:
            session = self.session_class(data, sid=sid)
        else:  # no cookie, or an id this store does not hold (ended, expired, or made up): a new id
            session = self.session_class(sid=self._generate_sid(self.sid_length), permanent=self.permanent)
        session.stored = data is not None
        return session

    def regenerate(self, session):
        super().regenerate(session)
        session.stored = False  # the new id is written as new; the old one is gone

    def save_session(self, app, session, response):
        if request.method in ("GET", "HEAD") and any(
                header in request.headers for header in app.extensions.get(BACKGROUND, ())):
            # Read only: the session and the browser's cookie stay as they are. The answer is for
            # the one worker that asked, drawn for a session it does not save: no cache keeps it.
            if session.accessed:
                response.vary.add("Cookie")
            response.headers["Cache-Control"] = "no-store"
            return
        if session and time.time() - session.get(SAVED_KEY, 0) > REFRESH_AFTER:
            session[SAVED_KEY] = int(time.time())  # marks it modified: stored and cookie re-sent
        super().save_session(app, session, response)


class DatabaseSessionInterface(ServerSessions, ServerSideSessionInterface):
    # Flask-Session registers its own clean-up for stores without expiry (ttl False); rows
    # here are purged now and then on write instead, and by `flask purge`.
    ttl = None

    def __init__(self, app):
        super().__init__(app, key_prefix="session:", permanent=app.config["SESSION_PERMANENT"],
                         sid_length=32, serialization_format="msgpack")

    def _retrieve_session_data(self, store_id):
        row = db.session.connection().execute(_READ, {"id_hash": _hash(store_id), "now": utcnow()}).first()
        return self.serializer.decode(row.data) if row is not None else None

    def _delete_session(self, store_id):
        with db.engine.begin() as connection:  # its own connection: the request's may have rolled back
            connection.execute(delete(WebSession).where(WebSession.id_hash == _hash(store_id)))

    def _upsert_session(self, session_lifetime, session, store_id):
        values = {"id_hash": _hash(store_id), "data": self.serializer.encode(session),
                  "expires_at": utcnow() + self.lifetime(self.app, session)}
        with db.engine.begin() as connection:
            if session.stored:  # only while it exists: a sign-out meanwhile deleted it for good
                connection.execute(update(WebSession).where(WebSession.id_hash == values["id_hash"])
                                   .values(data=values["data"], expires_at=values["expires_at"]))
            else:
                connection.execute(insert(WebSession).values(**values))
        if random.random() < PURGE_CHANCE:
            purge_expired()


@cache
def _redis_interface():
    """The Redis store's interface class, made on first use: Flask-Session's Redis module needs
    the redis package, an extra (`kithmeet[redis]`) that a site on its own database never
    installs, so nothing imports it before a redis:// store is configured."""
    import redis
    from flask_session.redis import RedisSessionInterface

    class RedisInterface(ServerSessions, RedisSessionInterface):
        def __init__(self, app, url):
            super().__init__(app, client=redis.Redis.from_url(url), key_prefix="kithmeet:session:",
                             permanent=app.config["SESSION_PERMANENT"], sid_length=32,
                             serialization_format="msgpack")

        def _upsert_session(self, session_lifetime, session, store_id):
            # XX: only if it still exists; NX: a new id never overwrites.
            self.client.set(store_id, self.serializer.encode(session),
                            ex=int(self.lifetime(self.app, session).total_seconds()),
                            xx=session.stored, nx=not session.stored)

    return RedisInterface


def purge_expired():
    """Delete the sessions that have run out; returns how many."""
    with db.engine.begin() as connection:
        return connection.execute(delete(WebSession).where(WebSession.expires_at <= utcnow())).rowcount


def skip_loading(app, path, header):
    """GET and HEAD requests to `path` that carry `header` get no session: none is read or
    written and no cookie is set. For a request that proves by itself who sent it and is
    made every few seconds (the "connected with you" check, connections/news_views.py),
    where reading the session would be a statement of its own on every request."""
    app.extensions.setdefault(SESSIONLESS, {})[path] = header


def skip_loading_paths(app, pattern):
    """GET and HEAD requests whose whole path matches `pattern` (a regular expression) get no
    session: none is read or written and no cookie is set. For answers that are the same for
    whoever asks and never look at who it is (the QR images, badges/views.py), where reading
    the session would cost a statement per request for nothing."""
    app.extensions.setdefault(SESSIONLESS_PATHS, []).append(re.compile(pattern))


def background_requests(app, header):
    """GET and HEAD requests carrying `header` are made in the background, with the cookie the
    browser had when they set off (the service worker's warming of a person's offline pages,
    offline.py): they read the session but never write it, nor set or clear a cookie. Otherwise
    such a request, still under way when the person signs in on the page, finds no one by its
    old cookie, starts an anonymous session for its flashed message, and that session's cookie
    replaces the new one: the person is signed out as they sign in. What such a render adds to
    the session (a CSRF secret, when a sign-in dropped it a moment before) is not kept either:
    the caller must not keep a page whose session changed (offline.py does not). A state change
    with the header is saved as any other: the header is no way to make one leave no trace."""
    app.extensions.setdefault(BACKGROUND, set()).add(header)


def regenerate(session):
    """A new session id for what the session holds; the old id stops working at once."""
    from flask import current_app

    current_app.session_interface.regenerate(session)


def init_app(app):
    uri = app.config["SESSION_STORE_URI"]
    if uri.startswith(("redis://", "rediss://", "unix://")):
        app.session_interface = _redis_interface()(app, uri)
    elif uri == "kithmeet+db://":
        app.session_interface = DatabaseSessionInterface(app)
    else:
        raise ValueError(f"SESSION_STORE_URI must be kithmeet+db:// or a redis:// URL, not {uri!r}")
