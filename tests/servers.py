"""Real servers for the tests that need more than the test client: the app under gunicorn
(started as `make run` starts it, on any database URL and settings) and a throwaway
redis-server. Each listens only on loopback and is stopped by its test."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from kithmeet import create_app
from kithmeet.extensions import db

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listened on port {port} within {timeout} s")


def create_schema(database_url, settings, instance):
    """The tables, made once before any worker starts (two workers creating them would race)."""
    app = create_app({**settings, "SQLALCHEMY_DATABASE_URI": database_url}, instance_path=str(instance))
    with app.app_context():
        db.create_all()
        db.engine.dispose()


class Gunicorn:
    """The app under gunicorn. `workers` processes of `threads` threads (gthread, as
    `make run`); `reuse_port` gives each worker its own listening socket so the kernel spreads
    new connections over all of them (otherwise one busy worker may take them all)."""

    def __init__(self, folder, database_url, settings=None, *, workers=2, threads=8, reuse_port=True,
                 name="served", make_schema=True, env=None):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.database_url = database_url
        self.settings = {"SECRET_KEY": "test-secret-key", **(settings or {}),
                         "SQLALCHEMY_DATABASE_URI": database_url}
        self.instance = self.folder / "instance"
        self.workers, self.threads, self.reuse_port = workers, threads, reuse_port
        self.name = name
        self.make_schema = make_schema
        self.env = env or {}
        self.port = None
        self.process = None
        self.access_log = self.folder / f"{name}-access.log"
        self.error_log = self.folder / f"{name}-error.log"

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait_path="/organizer/login"):
        if self.make_schema:
            create_schema(self.database_url, self.settings, self.instance)
        (self.folder / f"{self.name}.py").write_text(
            "from kithmeet import create_app\n"
            f"app = create_app({self.settings!r}, instance_path={str(self.instance)!r})\n")
        self.port = self.port or free_port()
        command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}",
                   "--workers", str(self.workers), "--worker-class", "gthread", "--threads", str(self.threads),
                   "--access-logfile", str(self.access_log), "--access-logformat", "%(p)s %(m)s %(U)s %(s)s",
                   "--error-logfile", str(self.error_log), "--chdir", str(self.folder), f"{self.name}:app"]
        if self.reuse_port:
            command.insert(-1, "--reuse-port")
        self.process = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={"PYTHONPATH": str(ROOT), "PATH": os.environ["PATH"], **self.env})
        self.wait_until_up(wait_path)
        return self

    def wait_until_up(self, path="/organizer/login", timeout=60.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.error_log.read_text() if self.error_log.exists() else ''}")
            try:
                # A worker's first answer may take seconds on a busy machine: wait for it.
                urllib.request.urlopen(self.base + path, timeout=max(1.0, min(15.0, deadline - time.monotonic())))
                return
            except urllib.error.HTTPError:
                return  # it answered
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"gunicorn did not answer within {timeout} s")

    def worker_pids(self):
        """The worker processes' ids (the master's children)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return [int(pid) for pid in children]

    def kill_worker(self, pid=None):
        """`kill -9` one worker (the first, or `pid`); gunicorn's master starts another."""
        pid = pid or self.worker_pids()[0]
        os.kill(pid, signal.SIGKILL)
        return pid

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


class Redis:
    """A throwaway redis-server (Debian's, which `make test` installs) on a free loopback port,
    keeping nothing on disk."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.port = free_port()
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}"

    def start(self):
        binary = shutil.which("redis-server")
        assert binary, "redis-server is missing: `make test` installs it"
        self.process = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)
        return self

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
