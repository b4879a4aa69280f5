"""A throwaway PostgreSQL server for the tests, from the machine's PostgreSQL binaries.

`make test` installs Debian's postgresql package. The server listens only on a Unix
socket in a temporary folder and is stopped when the test session ends.
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

# Runs a test on SQLite and on a fresh PostgreSQL database (see the database_url fixture).
BOTH_DATABASES = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)


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
                  "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60"
        self._run(os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-o", options, "-w", "-l",
                  os.path.join(self.socket_dir, "server.log"), "start")
        return self

    def stop(self):
        try:
            self._run(os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.socket_dir, ignore_errors=True)

    def _admin(self):
        return psycopg.connect(host=self.socket_dir, port=self.port, user="kithmeet", dbname="postgres",
                               autocommit=True)

    def new_database(self):
        name = "kithmeet_" + uuid.uuid4().hex[:12]
        with self._admin() as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://kithmeet@/{name}?host={self.socket_dir}&port={self.port}"
