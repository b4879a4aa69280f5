"""`flask backup`: a copy of the SQLite database taken while the site serves, with SQLite's
online backup API, page batches at a time, so the app's writers wait only for a batch, never for
the whole copy (and under WAL, its readers not at all). The copy is a complete database as of
the moment the last batch was copied. PostgreSQL sites use pg_dump instead (docs/deploy.md).
"""
import os
import sqlite3

from .extensions import db

PAGES_PER_STEP = 1024  # 4 MB with SQLite's default page size


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
    source = db.engine.raw_connection()
    try:
        target = sqlite3.connect(destination)
        try:
            source.driver_connection.backup(target, pages=PAGES_PER_STEP)
        finally:
            target.close()
    except Exception:
        os.unlink(destination)  # never leave half a backup that looks like one
        raise
    finally:
        source.close()
    return os.path.getsize(destination)
