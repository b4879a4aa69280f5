"""Serving for benchmarks/load.py: the served module (the app and a bare route beside it, and
the --profile wrapper), gunicorn started and stopped as `make run` starts it, waiting for it to
go idle, the errors it logs, and the profile its workers leave."""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from load_browser import Browser

WORKERS, WORKER_THREADS = 2, 8
# Raised so that the load is counted by the limiter (its cost is part of each request) but not refused.
LIMIT = "1000000 per minute"
RAISED_LIMITS = ("RATELIMIT_SCAN", "RATELIMIT_LOOKUP", "RATELIMIT_JOIN", "RATELIMIT_SIGNIN",
                 "RATELIMIT_ORGANIZER_SIGNIN")
SERVED = '''"""The app as `make run` serves it (app.py), and beside it, in the same workers, a bare
Flask app of one route to compare with: none of kithmeet's request hooks run for it."""
import json
import os

from flask import Flask

from kithmeet import create_app
from kithmeet.auth import current_person

kithmeet = create_app(json.loads(os.environ["KITHMEET_BENCH_SETTINGS"]),
                      instance_path=os.environ["KITHMEET_BENCH_INSTANCE"])
bare = Flask("bare")


@kithmeet.get("/__floor")
def floor_route():
    """kithmeet's floor: every request hook, the session read and the signed-in person found,
    and no page: what any signed-in page costs before it does anything of its own."""
    return "ok" if current_person() is not None else "nobody"


@bare.get("/__bare")
def bare_route():
    return "ok"


def app(environ, start_response):
    return (bare if environ.get("PATH_INFO") == "/__bare" else kithmeet)(environ, start_response)


if os.environ.get("KITHMEET_BENCH_PROFILE"):  # --profile: each thread's own profiler, kithmeet's requests only
    import cProfile
    import pstats
    import threading
    import time

    profiles, local, served = [], threading.local(), kithmeet.wsgi_app

    def profiled(environ, start_response):
        if environ.get("PATH_INFO", "").startswith(("/signin/", "/organizer/login")):  # the set-up's, not the load's
            return served(environ, start_response)
        profile = getattr(local, "profile", None)
        if profile is None:
            # The thread's CPU time, not the wall clock: eight threads waiting their turn for the
            # interpreter would otherwise count that wait against whatever they were in.
            profile = local.profile = cProfile.Profile(time.thread_time)
            profiles.append(profile)
        profile.enable()
        try:
            return served(environ, start_response)
        finally:
            profile.disable()

    def dump_profile():  # gunicorn's worker_exit hook calls it (Gunicorn.start): workers leave by os._exit
        if profiles:
            stats = pstats.Stats(*profiles)
            stats.dump_stats(os.path.join(os.environ["KITHMEET_BENCH_PROFILE"], f"worker-{os.getpid()}.prof"))

    kithmeet.wsgi_app = profiled
'''


class Gunicorn:
    """The served module, from `tmp`, under gunicorn; `profile`, a folder for the workers'
    profiles (--profile) or None."""

    def __init__(self, tmp, app_root, profile=None):
        self.tmp, self.app_root, self.profile = tmp, app_root, profile
        self.process = None

    def start(self, url, settings):
        (self.tmp / "kithmeet_bench_app.py").write_text(SERVED)
        self.port = _free_port()
        env = {**os.environ, "KITHMEET_DATABASE_URL": url, "HOST": "127.0.0.1",
               "KITHMEET_BENCH_SETTINGS": json.dumps(settings),
               "KITHMEET_BENCH_INSTANCE": str(self.tmp / "instance"),
               **({"KITHMEET_BENCH_PROFILE": str(self.profile)} if self.profile else {}),
               "PYTHONPATH": os.pathsep.join([str(self.tmp), self.app_root, os.environ.get("PYTHONPATH", "")])}
        self.log = open(self.tmp / "gunicorn.log", "w")
        hooks = []
        if self.profile:
            self.profile.mkdir()
            (self.tmp / "profile_hooks.py").write_text(
                "import sys\n\n\ndef worker_exit(server, worker):\n"
                "    sys.modules['kithmeet_bench_app'].dump_profile()\n")
            hooks = ["--config", str(self.tmp / "profile_hooks.py")]
        # The Makefile's run target, but for the bind address and where its logs go.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}", "--worker-class", "gthread",
             "--workers", str(WORKERS), "--threads", str(WORKER_THREADS),
             "--access-logfile", str(self.tmp / "access.log"), "--logger-class", "kithmeet.serving.AccessLogger",
             *hooks, "kithmeet_bench_app:app"], env=env, cwd=self.app_root, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn exited:\n" + (self.tmp / "gunicorn.log").read_text()[-3000:])
            try:
                if Browser(self.port).send("GET", "/__bare")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer within 60 s")

    def stop(self, database):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.log.close()
            if self.profile:
                print_profile(self.profile, database)

    def server_errors(self):
        """Lines the server logged as errors since the last call (a worker timed out, a 500)."""
        with open(self.tmp / "gunicorn.log", errors="replace") as log:
            log.seek(getattr(self, "_log_seen", 0))
            text = log.read()
            self._log_seen = log.tell()
        return [line.strip() for line in text.splitlines()
                if "[ERROR]" in line or "[CRITICAL]" in line or "WORKER TIMEOUT" in line or "Traceback" in line]

    def settle(self, within=180):
        """Wait until the server is idle again: requests still in flight when wrk stopped (a
        slow PDF goes on rendering) must not slow the next run. Idle: the workers used under
        three hundredths of a second of CPU in a quarter of a second."""
        deadline = time.monotonic() + within
        used = self.worker_cpu()
        while time.monotonic() < deadline:
            time.sleep(0.25)
            now = self.worker_cpu()
            if now - used < 0.03:
                return
            used = now

    def worker_cpu(self):
        """CPU seconds the gunicorn workers have used (Linux: /proc)."""
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return 0.0
        total = 0
        for child in children:
            try:
                fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / os.sysconf("SC_CLK_TCK")


PACKAGES = [("templates", "/templates/"), ("kithmeet", "/kithmeet/"), ("sqlalchemy", "/sqlalchemy/"),
            ("jinja2", "/jinja2/"), ("wtforms", "/wtforms/"), ("flask_wtf", "/flask_wtf/"),
            ("flask_session", "/flask_session/"), ("msgpack", "/msgpack/"), ("limits", "/limits/"),
            ("flask_limiter", "/flask_limiter/"), ("flask", "/flask/"), ("werkzeug", "/werkzeug/"),
            ("psycopg", "/psycopg"), ("markupsafe", "/markupsafe/"), ("segno", "/segno/")]


def print_profile(folder, database, top=25):
    """The workers' profiles, merged: the functions that took the most time themselves, and the
    time by package (a C function counts where it was called from: sqlite3's execute as
    sqlalchemy's)."""
    import pstats
    files = sorted(str(f) for f in folder.glob("*.prof"))
    if not files:
        print(f"[{database}] no profile written (a worker did not exit cleanly)")
        return
    stats = pstats.Stats(*files, stream=sys.stdout)
    by_package, total = {}, 0.0
    for (filename, _, name), (_, _, own, _, callers) in stats.stats.items():
        total += own
        where = filename
        if filename == "~" and callers:  # a built-in: the caller that called it most
            where = max(callers.items(), key=lambda item: item[1][2])[0][0]
        package = next((label for label, marker in PACKAGES if marker in where), "other")
        by_package[package] = by_package.get(package, 0.0) + own
    print(f"\n[{database}] profile of the kithmeet requests: {total:.2f} s of own time")
    for package, seconds in sorted(by_package.items(), key=lambda item: -item[1]):
        print(f"  {package:<14} {seconds:7.2f} s  {100 * seconds / total:5.1f} %")
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    kept = Path(tempfile.gettempdir()) / f"kithmeet-profile-{database}.prof"
    stats.dump_stats(kept)
    print(f"[{database}] the merged profile is kept in {kept} (python -m pstats {kept})")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
