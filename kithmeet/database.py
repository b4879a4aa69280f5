"""Database plumbing shared by every domain: clock, SQLite settings, insert-if-absent."""
import fcntl
import os
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone

from flask import has_app_context
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from .errors import DomainError
from .extensions import db


def utcnow():
    return datetime.now(timezone.utc).replace(tzinfo=None)


CONNECT_TIMEOUT = 5  # seconds a PostgreSQL connection attempt may take


def engine_defaults(config):
    """Engine options every install gets, under whatever SQLALCHEMY_ENGINE_OPTIONS sets (read
    before the engine is made: call it before db.init_app). Errors and logs never quote a
    statement's parameters (notes, e-mail addresses). On PostgreSQL a pooled connection is
    pinged before use, so after a database restart the first request gets a fresh connection
    instead of the dead one, and a connection attempt gives up after a few seconds: a server
    that is away answers 503 (errors.py), not a hang."""
    options = {"hide_parameters": True, **config.get("SQLALCHEMY_ENGINE_OPTIONS", {})}
    if not str(config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("sqlite"):
        options.setdefault("pool_pre_ping", True)
        options["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT, **options.get("connect_args", {})}
    config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def configure_engine(app):
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        event.listen(engine, "before_cursor_execute", _refuse_nul)


def _refuse_nul(_connection, _cursor, _statement, parameters, _context, executemany):
    """PostgreSQL refuses a NUL character in text (SQLite stores and compares it): a search or
    code that carries one is the sender's mistake, answered 400, never a 500. Forms refuse
    control characters beside their fields before this; it catches what no form checks."""
    for values in (parameters if executemany else (parameters,)):
        for value in (values.values() if isinstance(values, dict) else values or ()):
            if isinstance(value, str) and "\x00" in value:
                raise DomainError("Text can't contain a NUL character.", "control_characters")


def _sqlite_pragmas(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    # WAL lets pages read while a scan writes; the busy timeout makes concurrent
    # writers (two phones connecting at the same instant) wait instead of failing.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted rows are overwritten with zeros, not left in free pages: "delete my account"
    # must not leave the words in the file (Debian's build has this on; others may not).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    # SQLite's own lower() (and so ILIKE) folds only A-Z: "BJÖRN" would not find Björn, as it
    # does on PostgreSQL. Python's lower() folds every script alike on both databases.
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)


def _lower(value):
    return value.lower() if isinstance(value, str) else value


def insert_if_absent(model, values, conflict_columns):
    """INSERT ... ON CONFLICT DO NOTHING, the race-free way to create a unique row.

    Two requests racing to create the same row both succeed; the loser's insert is a
    no-op and it reads the winner's row afterwards. Returns whether this call inserted.
    """
    return db.session.execute(insert_if_absent_statement(model, tuple(conflict_columns)), values).first() is not None


_INSERTS = {}


def insert_if_absent_statement(model, conflict_columns, returning=None, dialect=None):
    """insert_if_absent's INSERT ... ON CONFLICT DO NOTHING RETURNING, built once per table and
    database kind: building it was most of an insert's cost (a connect makes several). Executed
    with a dict of column values, it inserts those columns (and the columns' defaults). It is a
    Core statement on the table: the session's identity map holds none of the rows it makes.
    `returning`: names of the columns it returns (default: the primary key). `dialect`: the
    database kind's name (default: the session's)."""
    dialect = dialect or db.session.get_bind().dialect.name
    key = (model, dialect, conflict_columns, returning)
    statement = _INSERTS.get(key)
    if statement is None:
        if dialect == "postgresql":
            statement = pg_insert(model.__table__)
        elif dialect == "sqlite":
            statement = sqlite_insert(model.__table__)
        else:  # pragma: no cover - only SQLite and PostgreSQL are supported
            raise RuntimeError(f"unsupported database {dialect}")
        table = model.__table__
        # RETURNING, not rowcount: psycopg reports -1 for this statement; a returned row is exact.
        statement = _INSERTS[key] = (
            statement.on_conflict_do_nothing(index_elements=list(conflict_columns))
            .returning(*(table.c[name] for name in returning) if returning else table.primary_key.columns))
    return statement


@contextmanager
def transaction(conflict=None, expire=True):
    """One service call's writes: committed together on success, rolled back whole on failure.

    A DomainError (a rule refused the change) rolls back and propagates. An IntegrityError
    (a unique constraint lost a race) rolls back and becomes `conflict`, a DomainError the
    caller names for its case, or the generic `conflict` code. Anything else rolls back too,
    so a failed call never leaves half a change for a later commit to save.

    Nested, it joins the outer transaction: a service that calls another service's writes
    commits both at its own end, or neither.

    expire=False: the commit keeps the values of the objects the session holds (by default it
    expires them all, and the next use of each reads its row again). Only for writes made by
    statements that expire what they change themselves (connections.services.connect_scan):
    the hot path then reads nothing twice. Joined to an outer transaction, the outer one decides.
    """
    info = db.session.info
    depth = info.get("transaction_depth", 0)
    # Bounded: a thread whose session wrote before this block holds SQLite's lock while it waits
    # here; past the wait it goes on as before this queue, and SQLite's busy timeout decides.
    queued = depth == 0 and _sqlite_writes(info) and _SQLITE_WRITES.acquire(timeout=SQLITE_QUEUE_SECONDS)
    across = queued and _lock_across_workers()
    info["transaction_depth"] = depth + 1
    committed = False
    try:
        yield db.session
        if depth == 0:
            _commit(expire)
            committed = True
    except IntegrityError:
        if depth == 0:
            db.session.rollback()
        raise (conflict or DomainError("That could not be saved; try again.", "conflict")) from None
    except BaseException:
        if depth == 0:
            db.session.rollback()
        raise
    finally:
        info["transaction_depth"] = depth
        if across:
            _unlock_across_workers()
        if queued:
            _SQLITE_WRITES.release()
        if depth == 0:
            callbacks = info.pop("after_commit", [])
            for callback in callbacks if committed else ():
                callback()


# SQLite has one write lock, and a writer that finds it taken sleeps in SQLite's busy handler in
# growing steps (up to 100 ms) however soon the lock comes free: at 16 connects at once that made
# a connect's p99 seconds long. A service's transaction on SQLite first takes this lock, so the
# threads of a worker queue here and are woken the moment the one before commits; only the other
# workers' writers meet the busy handler. Held until commit or rollback; never on PostgreSQL.
# Re-entrant: a thread that nests another session's transaction meets SQLite's busy timeout, not a hang.
_SQLITE_WRITES = threading.RLock()
SQLITE_QUEUE_SECONDS = 5  # under SQLite's busy timeout (10 s)

# The workers' queue: the one thread of each worker past _SQLITE_WRITES takes an flock on a file
# beside the database (`<database>-writes`) before its transaction starts, so the workers take
# turns too. It asks every LOCK_POLL_SECONDS rather than blocking in flock, so the wait stays
# bounded by SQLITE_QUEUE_SECONDS (past it, SQLite's busy timeout decides, as without the queue).
# The kernel drops the lock of a worker that dies. Opened once per process: a lock is the open
# file's, and a forked worker must not share its parent's.
LOCK_POLL_SECONDS = 0.0005
_lock_file = (None, None, None)  # (pid, database path, descriptor): one database per process in use
_held = threading.local()  # how deep this thread holds the file lock (_SQLITE_WRITES is re-entrant)


def _lock_across_workers():
    """Take the workers' write lock of this session's SQLite file; False for a database with no
    file (in memory) or when the wait ran out."""
    depth = getattr(_held, "depth", 0)
    if depth:
        _held.depth = depth + 1
        return True
    path = db.session.get_bind().url.database
    if not path or path == ":memory:" or path.startswith("file:"):
        return False
    global _lock_file
    pid, kept_path, fd = _lock_file
    if (pid, kept_path) != (os.getpid(), path):
        # Another database (a test's own), or a forked worker: this thread holds _SQLITE_WRITES
        # and no file lock, so no thread of this process holds the old file's.
        if fd is not None and pid == os.getpid():
            os.close(fd)
        # A bare descriptor, kept open for the life of the process (a file object left open at
        # exit is reported as a leak): never read or written, only locked.
        fd = os.open(f"{path}-writes", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        _lock_file = (os.getpid(), path, fd)
    deadline = time.monotonic() + SQLITE_QUEUE_SECONDS
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(LOCK_POLL_SECONDS)
    _held.depth, _held.fd = 1, fd
    return True


def _unlock_across_workers():
    _held.depth -= 1
    if _held.depth == 0:
        fcntl.flock(_held.fd, fcntl.LOCK_UN)


def _sqlite_writes(info):
    """Whether this session's database is SQLite (asked once per session)."""
    sqlite = info.get("sqlite")
    if sqlite is None:
        sqlite = info["sqlite"] = db.session.get_bind().dialect.name == "sqlite"
    return sqlite


def _commit(expire):
    session = db.session()
    if expire:
        session.commit()
        return
    kept, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = kept


def after_commit(callback):
    """Run `callback` once the open transaction commits, never if it rolls back (now, if
    no transaction is open). For what must only tell of changes that really happened."""
    if has_app_context() and db.session.info.get("transaction_depth"):
        db.session.info.setdefault("after_commit", []).append(callback)
    else:
        callback()
