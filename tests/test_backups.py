"""`flask backup` (backups.py): a backup of a site that keeps writing ends, holds a consistent
database, and never makes the writers wait. (test_deploy_files.py runs the backup line of
docs/deploy.md on an installed copy.)"""
import os
import sqlite3
import threading

import pytest
from sqlalchemy import text

from kithmeet.backups import BackupError, backup_sqlite
from kithmeet.extensions import db

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # pg_dump on PostgreSQL


class WriteBetweenSteps:
    """The app's SQLite connection, whose backup lets another connection commit a row after each
    step it copies: the worst case of a busy site, every time. A backup in batches starts again
    after each such write, so it would never end."""

    def __init__(self, connection, write):
        self.connection, self.write = connection, write

    @property
    def driver_connection(self):
        return self

    def backup(self, target, **options):
        return self.connection.driver_connection.backup(target, progress=self.write, **options)

    def close(self):
        self.connection.close()


@SQLITE_ONLY
def test_a_backup_ends_while_another_connection_keeps_writing(app, tmp_path, monkeypatch):
    # Several batches of pages big, so a batched backup would have to survive writes between them.
    with db.engine.begin() as connection:
        connection.execute(text("CREATE TABLE filler (body BLOB)"))
        connection.execute(text("INSERT INTO filler VALUES (:body)"), [{"body": os.urandom(4000)} for _ in range(3000)])
    stop, errors, commits = threading.Event(), [], [0]
    path, raw_connection = db.engine.url.database, db.engine.raw_connection
    # No busy timeout: a writer the backup made wait would fail at once with "database is locked".
    writer = sqlite3.connect(path, timeout=0, check_same_thread=False)
    writer_lock = threading.Lock()

    def write(*_progress):
        if stop.is_set():
            return
        with writer_lock:
            try:
                writer.execute("INSERT INTO filler VALUES (x'00')")
                writer.commit()
                commits[0] += 1
            except sqlite3.Error as error:
                errors.append(error)

    def keep_writing():  # and meanwhile, on its own clock, as the site's scans do
        while not stop.wait(0.005):
            write()

    monkeypatch.setattr(db.engine, "raw_connection", lambda: WriteBetweenSteps(raw_connection(), write))
    destination, sizes = tmp_path / "backup.sqlite3", []

    def back_up():
        with app.app_context():
            sizes.append(backup_sqlite(str(destination)))

    writing = threading.Thread(target=keep_writing)
    backing_up = threading.Thread(target=back_up, daemon=True)
    writing.start()
    try:
        backing_up.start()
        backing_up.join(60)  # it takes well under a second
        finished = not backing_up.is_alive()
    finally:
        stop.set()
        writing.join()
        backing_up.join(60)
        writer.close()
    assert finished, "the backup did not finish while another connection kept writing"
    assert errors == [] and commits[0] >= 1
    with sqlite3.connect(destination) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = copy.execute("SELECT count(*) FROM filler").fetchone()[0]
    copy.close()
    assert 3000 <= rows <= 3000 + commits[0] and sizes == [destination.stat().st_size]


@SQLITE_ONLY
def test_a_backup_never_overwrites_a_file_and_leaves_none_when_it_fails(app, tmp_path, monkeypatch):
    existing = tmp_path / "old.sqlite3"
    existing.write_bytes(b"an older backup")
    with pytest.raises(BackupError, match="exists"):
        backup_sqlite(str(existing))
    assert existing.read_bytes() == b"an older backup"
    destination = tmp_path / "new.sqlite3"

    def disk_full(*_progress):
        raise sqlite3.OperationalError("database or disk is full")
    raw_connection = db.engine.raw_connection
    monkeypatch.setattr(db.engine, "raw_connection", lambda: WriteBetweenSteps(raw_connection(), disk_full))
    with pytest.raises(sqlite3.OperationalError):
        backup_sqlite(str(destination))
    assert not destination.exists()

    def unreachable():
        raise sqlite3.OperationalError("unable to open database file")
    monkeypatch.setattr(db.engine, "raw_connection", unreachable)
    with pytest.raises(sqlite3.OperationalError):
        backup_sqlite(str(destination))
    assert not destination.exists()
