"""Requests per second of the hot pages, served as `make run` serves them, each against a bare
Flask route measured just before it on the same server. Not a test: numbers to read, and
docs/performance.md written from them.

1. A realistic site (benchmarks/site.py): 5,000 attendees, 50,000 connections over 20 events
   of one series, one person who met 300 people, tonight's event open.
2. Served by gunicorn as the Makefile's `run` does (gthread, 2 workers x 8 threads, the
   access log), on SQLite (a file) or a throwaway PostgreSQL (tests/postgres.py's Server),
   rate limits on with their limits raised so the load is counted but not refused. The
   served module (written to a temporary folder) builds create_app() and adds `/__bare`.
3. Driven by wrk (2 threads, 16 connections, --latency) with benchmarks/wrk/rotate.lua
   rotating through prepared requests: badge QRs of many tokens, the scan page from many
   signed-in sessions (real sign-ins over HTTP), connects of a new pair each (form and CSRF
   token as the scan page gives them), the follow-up list of the person with 300
   connections, the organizer's live dashboard refresh, a badge sheet PDF, and API scans
   with bearer tokens and a new client id each. Each page runs after a short warm-up and its
   own bare-route run; a run with unexpected answers is marked, not hidden.

Run: make benchmark   (or .venv/bin/python benchmarks/load.py [--quick] [--database sqlite]
[--only connect] [--seconds 10] [--no-write]). `--app-root DIR` serves and seeds the code in
DIR instead of this checkout (the numbers of an older commit, from a git worktree); the script
uses only routes and services that exist since commit cbae737.
"""
import argparse
import concurrent.futures
import http.client
import importlib.util
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
LUA = HERE / "wrk" / "rotate.lua"
WRK = shutil.which("wrk") or "/usr/bin/wrk"
REPORT = REPO / "docs" / "performance.md"
THREADS, CONNECTIONS = 2, 16
WORKERS, WORKER_THREADS = 2, 8
# Raised so that the load is counted by the limiter (its cost is part of each request) but not refused.
LIMIT = "1000000 per minute"
RAISED_LIMITS = ("RATELIMIT_SCAN", "RATELIMIT_LOOKUP", "RATELIMIT_JOIN", "RATELIMIT_SIGNIN",
                 "RATELIMIT_ORGANIZER_SIGNIN")
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SERVED = '''"""The app as `make run` serves it (app.py), and beside it, in the same workers, a bare
Flask app of one route to compare with: none of kithmeet's request hooks run for it."""
import json
import os

from flask import Flask

from kithmeet import create_app

kithmeet = create_app(json.loads(os.environ["KITHMEET_BENCH_SETTINGS"]),
                      instance_path=os.environ["KITHMEET_BENCH_INSTANCE"])
bare = Flask("bare")


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

    def dump_profile():  # gunicorn's worker_exit hook calls it (Bench.serve): workers leave by os._exit
        if profiles:
            stats = pstats.Stats(*profiles)
            stats.dump_stats(os.path.join(os.environ["KITHMEET_BENCH_PROFILE"], f"worker-{os.getpid()}.prof"))

    kithmeet.wsgi_app = profiled
'''


@dataclass
class Page:
    key: str
    label: str
    goal: float | None = None  # share of the bare route's requests/s (issue 10's table)
    p99_goal_ms: float | None = None
    expected: int = 200
    connections: int = CONNECTIONS
    threads: int = THREADS
    # Shorter runs than this finish too few requests for a rate to mean anything.
    meaningful_seconds: int = 0


PAGES = [
    Page("badge-svg", "badge QR .svg", 0.8),
    Page("badge-png", "badge QR .png", 0.8),
    Page("scan-page", "scan page GET /B/<T>", 0.3),
    Page("connect", "connect POST /B/<T>", 0.15, p99_goal_ms=50, expected=302),
    Page("followup", "follow-up list, first page", 0.1),
    Page("dashboard", "live dashboard refresh"),
    # A sheet of every checked-in attendee takes seconds of CPU: a 10 s run finishes a handful.
    Page("badge-sheet", "badge sheet PDF (2 connections)", connections=2, threads=1, meaningful_seconds=120),
    Page("api-scan", "POST /api/v1/scans", expected=201),
]


@dataclass
class Result:
    database: str
    page: Page
    rps: float
    p50_ms: float
    p99_ms: float
    bare_rps: float
    problems: list = field(default_factory=list)
    note: str = ""

    @property
    def ratio(self):
        return self.rps / self.bare_rps if self.bare_rps else 0.0

    @property
    def met(self):
        if self.page.goal is None:
            return ""
        ok = self.ratio >= self.page.goal and (self.page.p99_goal_ms is None or self.p99_ms < self.page.p99_goal_ms)
        return "yes" if ok and not self.problems else "no"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tiny site and 1 s runs (what the test uses)")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--only", action="append", choices=[p.key for p in PAGES], metavar="PAGE",
                        help="measure only this page (repeatable): " + ", ".join(p.key for p in PAGES))
    parser.add_argument("--seconds", type=int, help="seconds per wrk run (default 10, 1 with --quick)")
    parser.add_argument("--no-write", action="store_true", help="print the table only, leave docs/performance.md")
    parser.add_argument("--app-root", default=str(REPO), help="the kithmeet checkout to seed and serve")
    parser.add_argument("--profile", action="store_true",
                        help="profile the workers (cProfile, slower) and print where their time went; with one "
                             "--only page, to read that page's profile")
    args = parser.parse_args(argv)
    app_root = str(Path(args.app_root).resolve())
    sys.path.insert(0, app_root)
    seconds = args.seconds or (1 if args.quick else 10)
    warm = 0 if args.quick else 2  # --quick: the probe is the only warm-up
    pages = [p for p in PAGES if not args.only or p.key in args.only]
    databases = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    site = _load_site_module()
    size = site.QUICK if args.quick else site.FULL

    results, seeding = [], {}
    for database in databases:
        with tempfile.TemporaryDirectory(prefix="kithmeet-load-") as tmp:
            bench = Bench(database, Path(tmp), app_root, site, size, seconds, warm, args.profile)
            try:
                seeding[database] = bench.prepare()
                results += bench.run(pages)
            finally:
                bench.close()
    print()
    print(table(results))
    failed = [r for r in results if r.problems]
    if not args.no_write:
        REPORT.write_text(report(results, seeding, size, seconds, app_root, args))
        print(f"\nwritten to {REPORT.relative_to(REPO)}")
    return 1 if failed else 0


def _load_site_module():
    # Loaded by path under its own name: "site" is also the standard library's module.
    spec = importlib.util.spec_from_file_location("benchmark_site", HERE / "site.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Bench:
    """One database: seed it, serve it, sign people in, measure each page."""

    def __init__(self, database, tmp, app_root, site, size, seconds, warm, profile=False):
        self.database, self.tmp, self.app_root, self.site_module = database, tmp, app_root, site
        self.profile = tmp / "profile" if profile else None
        self.size, self.seconds, self.warm = size, seconds, warm
        self.server = self.gunicorn = None
        self.rng = random.Random(11)
        self.settings = {"SECRET_KEY": "benchmark secret key", **{key: LIMIT for key in RAISED_LIMITS}}

    def prepare(self):
        from kithmeet import create_app
        if self.database == "postgresql":
            from tests.postgres import Server
            self.server = Server().start()
            self.url = self.server.new_database()
        else:
            self.url = f"sqlite:///{self.tmp}/bench.sqlite3"
        self.app = create_app({**self.settings, "SQLALCHEMY_DATABASE_URI": self.url, "CHANGELOG_LEVEL": "WARNING"},
                              instance_path=str(self.tmp / "instance"))
        import flask_migrate
        started = time.perf_counter()
        with self.app.app_context():
            flask_migrate.upgrade()  # as `make run` does (make migrate)
        print(f"[{self.database}] seeding {self.size.attendees} attendees, {self.size.connections} connections "
              f"over {self.size.nights} events ...", flush=True)
        self.site = self.site_module.seed(self.app, self.size)
        seeded = time.perf_counter() - started
        steps = ", ".join(f"{name} {sec:.0f} s" for name, sec in self.site.seconds.items())
        print(f"[{self.database}] seeded in {seeded:.0f} s ({steps})", flush=True)
        with self.app.app_context():
            from kithmeet.extensions import db
            self.met = self.site_module.met_pairs(self.site.tonight_ids)
            db.engine.dispose()
        self.serve()
        self.sign_in()
        return seeded, len(self.site.tonight_ids)

    # Serving ---------------------------------------------------------------------------

    def serve(self):
        (self.tmp / "kithmeet_bench_app.py").write_text(SERVED)
        self.port = _free_port()
        env = {**os.environ, "KITHMEET_DATABASE_URL": self.url, "HOST": "127.0.0.1",
               "KITHMEET_BENCH_SETTINGS": json.dumps(self.settings),
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
        self.gunicorn = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}", "--worker-class", "gthread",
             "--workers", str(WORKERS), "--threads", str(WORKER_THREADS),
             "--access-logfile", str(self.tmp / "access.log"), "--logger-class", "kithmeet.serving.AccessLogger",
             *hooks, "kithmeet_bench_app:app"], env=env, cwd=self.app_root, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.gunicorn.poll() is not None:
                raise RuntimeError("gunicorn exited:\n" + (self.tmp / "gunicorn.log").read_text()[-3000:])
            try:
                if Browser(self.port).send("GET", "/__bare")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer within 60 s")

    def close(self):
        if self.gunicorn is not None and self.gunicorn.poll() is None:
            self.gunicorn.send_signal(signal.SIGTERM)
            try:
                self.gunicorn.wait(20)
            except subprocess.TimeoutExpired:
                self.gunicorn.kill()
                self.gunicorn.wait()
            self.log.close()
            if self.profile:
                print_profile(self.profile, self.database)
        if self.server is not None:
            self.server.stop()

    # Sessions --------------------------------------------------------------------------

    def sign_in(self):
        """Every scanner and the hub through their personal sign-in links, the organizer with
        the password: cookies and CSRF tokens as a browser holds them."""
        site = self.site
        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            signed = dict(zip(site.secrets, pool.map(self._attendee, site.secrets.values())))
        self.hub = signed.pop(site.hub)
        self.scanners = signed  # person id -> (cookie, csrf token)
        self.organizer = self._organizer()
        print(f"[{self.database}] signed {len(signed) + 1} attendees and the organizer in over HTTP "
              f"in {time.perf_counter() - started:.0f} s", flush=True)

    def _attendee(self, secret):
        browser = Browser(self.port)
        status, _, page = browser.send("GET", f"/signin/{secret}")
        status, headers, _ = browser.send("POST", f"/signin/{secret}", {"csrf_token": _csrf(page)})
        if status not in (302, 303):
            raise RuntimeError(f"sign-in answered {status}")
        # The scan page's connect form carries the token the session's posts need.
        someone = self.site.badges[self.site.tonight_ids[0]]
        status, _, page = browser.send("GET", f"/B/{someone}")
        return browser.cookie(), _csrf(page) if "csrf_token" in page else ""

    def _organizer(self):
        browser = Browser(self.port)
        _, _, page = browser.send("GET", "/organizer/login")
        status, _, _ = browser.send("POST", "/organizer/login", {
            "csrf_token": _csrf(page), "email": self.site.organizer_email, "password": self.site.organizer_password})
        if status not in (302, 303):
            raise RuntimeError(f"organizer sign-in answered {status}")
        return browser.cookie()

    # Requests --------------------------------------------------------------------------

    def take_pairs(self, key, count, share=1.0):
        """Up to `count` (scanner, target) pairs of tonight's attendees not yet connected, each
        pair once in the whole run: half of them for connects, half for API scans, and of a
        half at most `share` (what a warm-up may use up)."""
        if not hasattr(self, "_pairs"):
            taken, pairs = set(self.met), []
            for scanner in self.scanners:
                for target in self.site.tonight_ids:
                    pair = (min(scanner, target), max(scanner, target))
                    if scanner != target and pair not in taken:
                        taken.add(pair)
                        pairs.append((scanner, target))
            self.rng.shuffle(pairs)
            self._pairs = {"connect": pairs[0::2], "api-scan": pairs[1::2]}
        left = self._pairs[key]
        count = max(1, min(count, int(len(left) * share)))
        self._pairs[key] = left[count:]
        return left[:count]

    def rows(self, page, count, share=1.0):
        """`count` requests for the page (fewer where the site has fewer to give; connects and
        API scans use at most `share` of the new pairs left)."""
        site, rng = self.site, self.rng
        if page.key in ("badge-svg", "badge-png"):
            # Tonight's badges, the ones phones and printers ask for during an event: each is
            # asked for again (a process may keep what it drew), not 5,000 drawn once each.
            extension = page.key.rsplit("-", 1)[1]
            tokens = [site.badges[pid] for pid in site.tonight_ids]
            rng.shuffle(tokens)
            return [("GET", f"/badge/{token}.{extension}") for token in tokens[:count]]
        if page.key == "scan-page":
            scanners = list(self.scanners.items())
            rows = []
            for _ in range(min(count, 5000)):
                scanner, (cookie, _) = rng.choice(scanners)
                target = rng.choice([pid for pid in site.tonight_ids[:50] if pid != scanner])
                rows.append(("GET", f"/B/{site.badges[target]}", cookie))
            return rows
        if page.key == "connect":
            return [("POST", f"/B/{site.badges[target]}", self.scanners[scanner][0], "",
                     "application/x-www-form-urlencoded",
                     urlencode({"csrf_token": self.scanners[scanner][1], "talked_about": "", "private_note": "",
                                "client_id": uuid.uuid4().hex}))
                    for scanner, target in self.take_pairs(page.key, count, share)]
        if page.key == "api-scan":
            return [("POST", "/api/v1/scans", "", f"Bearer {site.api_secrets[scanner]}", "application/json",
                     json.dumps({"client_id": str(uuid.uuid4()), "badge": site.badges[target]}))
                    for scanner, target in self.take_pairs(page.key, count, share)]
        if page.key == "followup":
            return [("GET", "/followup", self.hub[0])]
        if page.key == "dashboard":
            return [("GET", f"/organizer/events/{site.tonight}/live.json", self.organizer)]
        if page.key == "badge-sheet":
            return [("GET", f"/organizer/events/{site.tonight}/badges.pdf?stock=avery-l4785&who=checked_in",
                     self.organizer)]
        raise KeyError(page.key)

    def probe(self, page):
        """One request of the page by hand, checked for what a person would see: a run of wrk
        only counts statuses, and a signed-out scan page is a 200 too."""
        row = self.rows(page, 1)[0]
        method, path, cookie, authorization, content_type, body = (*row, "", "", "", "")[:6]
        headers = {k: v for k, v in (("Cookie", cookie), ("Authorization", authorization),
                                     ("Content-Type", content_type)) if v}
        status, response_headers, text = Browser(self.port).send(method, path, body=body or None, headers=headers)
        markers = {"scan-page": 'name="client_id"', "followup": "/followup/", "dashboard": "{",
                   "badge-sheet": "%PDF", "badge-svg": "<svg", "api-scan": '"scan"'}
        marker = markers.get(page.key)
        if status != page.expected or (marker and marker not in text):
            return f"probe answered {status}" + (f" without {marker!r}" if marker and marker not in text else "")
        if page.key == "connect" and "/B/" not in response_headers.get("Location", ""):
            return "probe's connect did not lead back to the scan page"
        return None

    def wrk(self, page, rows, seconds):
        path = self.tmp / f"rows-{page.key}-{uuid.uuid4().hex[:6]}.tsv"
        with open(path, "w") as out:
            for row in rows:
                out.write("\t".join((*row, "", "", "", "")[:6]) + "\n")
        command = [WRK, f"-t{page.threads}", f"-c{page.connections}", f"-d{seconds}s", "--timeout", "30s",
                   "--latency", "-s", str(LUA), f"http://127.0.0.1:{self.port}", "--", str(path),
                   str(page.expected), str(page.threads)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
        self.settle()
        found = re.search(r"^kithmeet-result (.*)$", done.stdout, re.MULTILINE)
        if done.returncode or not found:
            raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        values = {k: int(v) for k, v in (item.split("=") for item in found.group(1).split())}
        values["rps"] = values["requests"] / (values["duration_us"] / 1e6)
        return values

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
        used = self._worker_cpu()
        while time.monotonic() < deadline:
            time.sleep(0.25)
            now = self._worker_cpu()
            if now - used < 0.03:
                return
            used = now

    def _worker_cpu(self):
        """CPU seconds the gunicorn workers have used (Linux: /proc)."""
        pid = self.gunicorn.pid
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

    def run(self, pages):
        bare = Page("bare", "bare route")
        results = []
        for page in pages:
            problem = self.probe(page)
            before = self.counts() if page.key in ("connect", "api-scan") else None
            # Enough rows for a fast server; connects and API scans each take a new pair.
            if self.warm:
                self.wrk(page, self.rows(page, 1500 * self.warm, self.warm / (self.warm + self.seconds)), self.warm)
            main_rows = self.rows(page, 2000 * self.seconds)
            base = self.wrk(bare, [("GET", "/__bare")], self.seconds)
            measured = self.wrk(page, main_rows, self.seconds)
            result = Result(self.database, page, measured["rps"], measured["p50_us"] / 1000,
                            measured["p99_us"] / 1000, base["rps"])
            if problem:
                result.problems.append(problem)
            for key, label in (("non_2xx_3xx", "non-2xx/3xx"), ("unexpected", f"not {page.expected}"),
                               ("connect_errors", "connect errors"), ("read_errors", "read errors"),
                               ("write_errors", "write errors"), ("timeouts", "timeouts")):
                if measured[key]:
                    result.problems.append(f"{measured[key]} {label}")
            if base["non_2xx_3xx"] or base["unexpected"]:
                result.problems.append("bare route errors")
            logged = self.server_errors()
            if logged:
                result.problems.append(f"{len(logged)} errors in the server's log, first: {logged[0]}")
            if not measured["requests"]:
                result.note = f"no request finished within {self.seconds} s: try --only {page.key} --seconds 60"
            if measured["wrapped"] and page.key in ("connect", "api-scan"):
                result.note = "rows reused: some connects met again"
            if self.seconds < page.meaningful_seconds:
                result.note = (result.note + "; " if result.note else "") + (
                    f"not meaningful at {self.seconds} s: each request takes seconds, so a run finishes only a "
                    f"few; try --only {page.key} --seconds {page.meaningful_seconds}")
            if before is not None:
                after = self.counts()
                result.note = (result.note + "; " if result.note else "") + \
                    f"{after['connections'] - before['connections']} connections made"
            results.append(result)
            print(row_text(result), flush=True)
        return results

    def counts(self):
        with self.app.app_context():
            from kithmeet.extensions import db
            try:
                return self.site_module.counts()
            finally:
                db.session.remove()
                db.engine.dispose()


class Browser:
    """Just enough of a browser: cookies kept between requests, no redirects followed."""

    def __init__(self, port):
        self.port = port
        self.cookies = {}

    def cookie(self):
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def send(self, method, path, form=None, body=None, headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = dict(headers or {})
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies and "Cookie" not in headers:
            headers["Cookie"] = self.cookie()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        for raw in response.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(raw)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or "1970" in morsel["expires"] or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response.status, response.headers, data.decode("utf-8", "replace")


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


def _csrf(page):
    found = CSRF.search(page)
    if not found:
        raise RuntimeError("no CSRF token on the page")
    return found.group(1)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Output ------------------------------------------------------------------------------

COLUMNS = ("database", "page", "req/s", "p50 ms", "p99 ms", "bare req/s", "ratio", "goal", "met?")


def _goal(page):
    if page.goal is None:
        return "-"
    return f">= {page.goal:g}" + (f", p99 < {page.p99_goal_ms:g} ms" if page.p99_goal_ms else "")


def _number(value):
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}" if value >= 1 else f"{value:.2f}"


def _cells(r):
    ratio = f"{r.ratio:.3f}" if r.ratio >= 0.001 or not r.ratio else f"{r.ratio:.4f}"
    return (r.database, r.page.label, _number(r.rps), f"{r.p50_ms:.1f}", f"{r.p99_ms:.1f}", _number(r.bare_rps),
            ratio, _goal(r.page), r.met or "-")


def row_text(r):
    text = "  ".join(_cells(r))
    if r.problems:
        text += "  ERRORS: " + "; ".join(r.problems)
    if r.note:
        text += f"  ({r.note})"
    return text


def table(results):
    rows = [COLUMNS] + [_cells(r) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) for row in rows]
    for r in results:
        if r.problems or r.note:
            lines.append(f"{r.database} {r.page.label}: " + "; ".join(
                [*(f"ERRORS {p}" for p in r.problems), *([r.note] if r.note else [])]))
    return "\n".join(lines)


def markdown_table(results):
    columns = (*COLUMNS, "note")
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for r in results:
        cells = list(_cells(r))
        if r.problems:
            cells[-1] += " (errors: " + "; ".join(r.problems) + ")"
        cells.append(r.note or "")
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines)


def machine():
    def first(path, prefix):
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith(prefix):
                    return line.split(":", 1)[1].strip() if ":" in line else line.split("=", 1)[1].strip('"')
        except OSError:
            pass
        return "unknown"

    def version(command):
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=10)
        except OSError:
            return "unknown"
        return (done.stdout or done.stderr).strip().splitlines()[0] if (done.stdout or done.stderr) else "unknown"

    import gunicorn
    try:
        from tests.postgres import _bindir
        postgres = version([os.path.join(_bindir(), "postgres"), "--version"])
    except Exception:  # noqa: BLE001 - no PostgreSQL on this machine: say so
        postgres = "not installed"
    memory = first("/proc/meminfo", "MemTotal")
    if memory.endswith(" kB"):
        memory = f"{int(memory.split()[0]) / 1024 ** 2:.0f} GB"
    return [("CPU", f"{first('/proc/cpuinfo', 'model name')}, {os.cpu_count()} cores"),
            ("memory", memory), ("OS", f"{first('/etc/os-release', 'PRETTY_NAME=')}, {platform.release()}"),
            ("Python", platform.python_version()), ("SQLite", sqlite3.sqlite_version), ("PostgreSQL", postgres),
            ("gunicorn", gunicorn.__version__), ("wrk", version([WRK, "-v"]).split(" [")[0])]


def _bullets(items):
    return [textwrap.fill(item, 96, initial_indent="- ", subsequent_indent="  ", break_on_hyphens=False)
            for item in items]


def report(results, seeding, size, seconds, app_root, args):
    measured = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    commit = subprocess.run(["git", "-C", app_root, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "unknown"
    dirty = subprocess.run(["git", "-C", app_root, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    site = (f"{size.attendees:,} attendees, {size.connections:,} connections over {size.nights} events of one "
            f"series, one person with {size.hub} connections")
    lines = [
        "# Performance",
        "",
        "Written by `benchmarks/load.py` (`make benchmark`); rerun it to replace this file. Each page's",
        "requests per second are quoted as a ratio to a bare Flask route measured just before it on the",
        "same server, so the ratios hold across machines better than the raw numbers do; on a busy",
        "machine both drift.",
        "",
        f"Measured {measured} on commit {commit}{' with local changes' if dirty else ''}"
        f"{' (--quick: a tiny site, not for comparing)' if args.quick else ''}.",
        "",
        "## Results",
        "",
        markdown_table(results),
        "",
        "Goals are those of issue 10: a share of the bare route's requests per second (and for the",
        "connect, a p99 latency). A row marked with errors had answers other than the expected status",
        "(200; 302 for the connect, which redirects back to the scan page; 201 for an API scan) or",
        "socket errors: its numbers do not count.",
        "",
        "## Set-up",
        "",
        *_bullets([
            f"Site: {site}; tonight's event open, "
            + ", ".join(f"{tonight} checked in on {db}" for db, (_, tonight) in seeding.items())
            + ". Seeded in " + ", ".join(f"{sec:.0f} s on {db}" for db, (sec, _) in seeding.items())
            + " by benchmarks/site.py: the services write the organizer, the events, tonight's joins, "
            "check-ins and connections, sign-in links and API tokens; core inserts, checked against "
            "what the services write, the past nights' people and connections.",
            f"Server: gunicorn as `make run` starts it: {WORKERS} gthread workers x {WORKER_THREADS} threads, "
            "the access log on; the mail worker is not started. Rate limits on, stored where they are by "
            f"default, with the scan, lookup, join and sign-in limits raised to \"{LIMIT}\" so the load is "
            "counted but not refused. SQLite is a file in a temporary folder; PostgreSQL a throwaway server "
            "on a Unix socket (tests/postgres.py, fsync off).",
            f"Load: wrk, {THREADS} threads and {CONNECTIONS} connections (the badge sheet: 1 and 2), {seconds} s "
            "per run after a warm-up, with benchmarks/wrk/rotate.lua rotating through prepared requests. "
            "The bare route (`/__bare`, a plain Flask app of one route served by the same workers beside "
            "kithmeet, so none of kithmeet's request hooks run for it) is measured right before each page.",
            "Pages: badge QRs of tonight's attendees' tokens in turn; the scan page of tonight's attendees "
            "from the sessions of attendees signed in through their sign-in links; connects, each a new pair "
            "of tonight's attendees, with the CSRF token and form the scan page gives (the flash each leaves "
            "is never shown: wrk follows no redirect); the follow-up list's first page of the person with "
            f"{size.hub} connections; the organizer's live dashboard refresh (live.json); tonight's badge sheet "
            "PDF (every checked-in attendee, Avery L4785); API scans with bearer tokens, a new pair and "
            "client id each.",
            "Load average of the machine (1, 5, 15 minutes) when the report was written: "
            + ", ".join(f"{value:.1f}" for value in os.getloadavg()) + ".",
        ]),
        "",
        "## Machine",
        "",
        *[f"- {name}: {value}" for name, value in machine()],
        "",
        "## Reproduce",
        "",
        "```",
        "make benchmark                                   # every benchmark, this one first",
        ".venv/bin/python benchmarks/load.py              # SQLite and PostgreSQL, every page",
        ".venv/bin/python benchmarks/load.py --database sqlite --only connect --seconds 20 --no-write",
        "```",
        "",
        "`--quick` seeds a tiny site and runs 1 s each (tests/test_benchmark_script.py uses it).",
        "`--app-root DIR` seeds and serves the code in DIR (a `git worktree` of an older commit) with",
        "this script, for before-and-after numbers on the same machine.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
