"""A throwaway PostgreSQL server for the tests, from the machine's PostgreSQL binaries.

`make test` installs Debian's postgresql package. The server listens only on a Unix
socket in a temporary folder and is stopped when the test session ends.

A test that builds its own schema (a migration test) gets a new empty database, dropped
after it. One that runs on the models' tables (the `app` and `live_server` fixtures) gets a
database with those tables and no rows: made once, then emptied with DELETE after each test
and handed to the next (CREATE DATABASE or TRUNCATE cost several times more per test:
docs/decisions.md, Tests).
"""
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid

import psycopg
import pytest
from sqlalchemy.engine import make_url

# Runs a test on SQLite and on a fresh PostgreSQL database (see the database_url fixture).
BOTH_DATABASES = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
# Runs a test on SQLite whatever KITHMEET_TEST_DATABASE says: for what only SQLite does (say
# what beside it).
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

TERMINATE_OTHERS = ("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()")
# Every column of every table, index and sequence: what a test must not have changed.
SCHEMA = ("SELECT md5(string_agg(c.relname || '.' || a.attname || ':' || a.atttypid, ',' "
          "ORDER BY c.relname, a.attnum)) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
          "WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped")


def _bindir():
    found = shutil.which("pg_config")
    if found:
        bindir = subprocess.run([found, "--bindir"], capture_output=True, text=True).stdout.strip()
        if os.path.exists(os.path.join(bindir, "initdb")):
            return bindir
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    if not candidates:
        raise RuntimeError("PostgreSQL server binaries not found: run `make test`, which installs them")
    return os.path.dirname(candidates[-1])


class Server:
    def __init__(self):
        # Not under pytest's temporary folder: the postgres user must be able to reach it.
        root = tempfile.mkdtemp(prefix="kithmeet-pg-")
        self.bindir = _bindir()
        self.data = os.path.join(root, "data")
        self.socket_dir = root
        self.port = 5432
        self.emptied = []  # schema databases with no rows, for the next test
        # PostgreSQL refuses to run as root; run it as the postgres user the package made.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            pw = pwd.getpwnam("postgres")
            os.chown(root, pw.pw_uid, pw.pw_gid)

    def _run(self, *args):
        done = subprocess.run([*self.as_user, *args], capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")

    def start(self):
        self._run(os.path.join(self.bindir, "initdb"), "-D", self.data, "-U", "kithmeet", "-A", "trust",
                  "--no-sync", "-E", "UTF8", "--locale=C.UTF-8")
        options = f"-k {self.socket_dir} -p {self.port} -c listen_addresses='' -c fsync=off " \
                  "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60 " \
                  "-c lock_timeout=60s"  # a test waiting on its own lock fails, not hangs the run
        self._run(os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-o", options, "-w", "-l",
                  os.path.join(self.socket_dir, "server.log"), "start")
        return self

    def stop(self):
        try:
            self._run(os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.socket_dir, ignore_errors=True)

    def _admin(self):
        return self._connect("postgres", autocommit=True)

    def _connect(self, database, autocommit=False):
        return psycopg.connect(host=self.socket_dir, port=self.port, user="kithmeet", dbname=database,
                               autocommit=autocommit)

    def _url(self, name):
        return f"postgresql+psycopg://kithmeet@/{name}?host={self.socket_dir}&port={self.port}"

    def new_database(self):
        """A new empty database's URL."""
        name = "kithmeet_" + uuid.uuid4().hex[:12]
        with self._admin() as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self._url(name)

    def drop_database(self, url):
        # FORCE ends whatever connection a test left open (a thread's session, an undisposed engine).
        with self._admin() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')

    def schema_database(self):
        """A database holding the models' tables (what `db.create_all()` makes) and no rows."""
        if self.emptied:
            return self.emptied.pop()
        from kithmeet import create_app
        from kithmeet.extensions import db

        url = self.new_database()
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "schema"},
                         instance_path=tempfile.mkdtemp(prefix="instance-", dir=self.socket_dir))
        with app.app_context():
            db.create_all()
            db.engine.dispose()
        with self._connect(make_url(url).database) as connection:
            sequences = connection.execute("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")
            # One round trip, one transaction: end what the test left connected (a thread's
            # session, an undisposed engine: their locks would hold the DELETEs), delete
            # children before parents, restart the ids, and read the schema back.
            self.emptying = "; ".join(
                [TERMINATE_OTHERS]
                + [f'DELETE FROM "{table.name}"' for table in reversed(db.metadata.sorted_tables)]
                + [f"SELECT setval('\"{name}\"', 1, false)" for name, in sequences] + [SCHEMA])
            self.schema = connection.execute(SCHEMA).fetchone()[0]
        return url

    def give_back(self, url):
        """Empty a schema database for the next test; drop it if it is gone or its test
        changed more than rows (a table or column)."""
        try:
            with self._connect(make_url(url).database, autocommit=True) as connection:
                cursor = connection.execute(self.emptying)
                while cursor.nextset():
                    pass
                if cursor.fetchone()[0] == self.schema:
                    self.emptied.append(url)
                    return
        except psycopg.Error:  # dropped by its test (tests/test_errors.py), or a table is gone
            pass
        self.drop_database(url)
