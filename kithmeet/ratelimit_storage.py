"""Rate-limit counts in the app's own database, so every gunicorn worker (and, on
PostgreSQL, every machine) counts together without another server to run.

Registered with the `limits` library as the `kithmeet+db://` storage, the default of
RATELIMIT_STORAGE_URI; `redis://…` works too for sites that run Redis. Counts are fixed
windows: one row per key, its count and when its window ends, bumped by one atomic
INSERT … ON CONFLICT DO UPDATE (SQLite 3.35+ and PostgreSQL), on a connection of its own
so a count is kept even when the request's own change rolls back.
"""
import random
import time

from limits.storage import Storage
from sqlalchemy import Float, Integer, String, delete, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db


class RateLimitCounter(db.Model):
    __tablename__ = "rate_limit_counter"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[float] = mapped_column(Float)  # seconds since the epoch


BUMP = text("""
    INSERT INTO rate_limit_counter (key, count, expires_at) VALUES (:key, :amount, :expires_at)
    ON CONFLICT (key) DO UPDATE SET
        count = CASE WHEN rate_limit_counter.expires_at <= :now THEN :amount
                     ELSE rate_limit_counter.count + :amount END,
        expires_at = CASE WHEN rate_limit_counter.expires_at <= :now THEN :expires_at
                          ELSE rate_limit_counter.expires_at END
    RETURNING count
""")


PURGE_CHANCE = 0.01


class DatabaseStorage(Storage):
    STORAGE_SCHEME = ["kithmeet+db"]

    @property
    def base_exceptions(self):
        return SQLAlchemyError

    def incr(self, key, expiry, amount=1):
        now = time.time()
        with db.engine.begin() as connection:
            count = connection.execute(BUMP, {"key": key[:255], "amount": amount, "now": now,
                                              "expires_at": now + expiry}).scalar_one()
        if random.random() < PURGE_CHANCE:  # now and then, not on every hit
            self.purge_expired()
        return count

    def _row(self, key):
        with db.engine.connect() as connection:
            return connection.execute(select(RateLimitCounter.count, RateLimitCounter.expires_at)
                                      .where(RateLimitCounter.key == key[:255])).first()

    def get(self, key):
        row = self._row(key)
        return row.count if row is not None and row.expires_at > time.time() else 0

    def get_expiry(self, key):
        row = self._row(key)
        return row.expires_at if row is not None and row.expires_at > time.time() else time.time()

    def check(self):
        try:
            with db.engine.connect() as connection:
                connection.execute(select(1))
            return True
        except SQLAlchemyError:
            return False

    def reset(self):
        with db.engine.begin() as connection:
            return connection.execute(delete(RateLimitCounter)).rowcount

    def clear(self, key):
        with db.engine.begin() as connection:
            connection.execute(delete(RateLimitCounter).where(RateLimitCounter.key == key[:255]))

    def purge_expired(self):
        """Drop windows that have ended (the table only ever holds the current ones)."""
        with db.engine.begin() as connection:
            return connection.execute(delete(RateLimitCounter)
                                      .where(RateLimitCounter.expires_at <= time.time())).rowcount
