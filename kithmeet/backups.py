"""`flask backup`: a copy of the SQLite database taken while the site serves, with SQLite's
online backup API in one step. The step reads inside one read transaction, and the app's databases
are in WAL mode (database.py), so writers and readers go on meanwhile; the copy is the database as
of the step's start. Not in batches: a batched backup starts again whenever another connection
writes between two batches, so on a site that writes every few milliseconds it may never end.
PostgreSQL sites use pg_dump instead (docs/deploy.md).
"""
import os
import sqlite3

from .extensions import db


class BackupError(Exception):
    pass


def backup_sqlite(destination):
    """Copy the app's SQLite database to `destination`, a file that must not exist yet, readable
    by its owner only (a backup holds everything the database does); returns its size in bytes."""
    if db.engine.dialect.name != "sqlite":
        raise BackupError("backup copies a SQLite database; for PostgreSQL use pg_dump (docs/deploy.md)")
    try:
        descriptor = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BackupError(f"{destination} exists: back up to a new file") from None
    except OSError as error:
        raise BackupError(f"cannot write {destination}: {error.strerror}") from None
    os.close(descriptor)
    try:
        source = db.engine.raw_connection()
        try:
            target = sqlite3.connect(destination)
            try:
                source.driver_connection.backup(target, pages=-1)  # all pages at once: see above
            finally:
                target.close()
        finally:
            source.close()
    except Exception:
        os.unlink(destination)  # never leave half a backup (or an empty file) that looks like one
        raise
    return os.path.getsize(destination)
