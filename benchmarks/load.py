"""Requests per second of the hot pages, served as `make run` serves them, each against a bare
Flask route measured just before and just after it on the same server. Not a test: numbers to read, and
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
   own bare-route runs (one before, one after); a run with unexpected answers is marked, not hidden.

Run: make benchmark   (or .venv/bin/python benchmarks/load.py [--quick] [--database sqlite]
[--only connect] [--seconds 10] [--no-write]). `--app-root DIR` serves and seeds the code in
DIR instead of this checkout (the numbers of an older commit, from a git worktree); the script
uses only routes and services that exist since commit cbae737.

This script seeds, signs in and measures; beside it, load_server.py serves, load_wrk.py drives
wrk, load_report.py writes the tables and docs/performance.md, and load_browser.py is the HTTP
client of the sign-ins and probes.
"""
import argparse
import concurrent.futures
import importlib.util
import json
import random
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from load_browser import Browser, _csrf
from load_report import REPORT, report, row_text, table
from load_server import LIMIT, RAISED_LIMITS, Gunicorn
from load_wrk import CONNECTIONS, THREADS, run_wrk

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


@dataclass
class Page:
    key: str
    label: str
    goal: float | None = None  # share of the bare route's requests/s (issue 10's table)
    p99_goal_ms: float | None = None
    expected: int = 200
    replayed: int | None = None  # what a row sent again answers, once rows wrap (rotate.lua)
    connections: int = CONNECTIONS
    threads: int = THREADS
    # Shorter runs than this finish too few requests for a rate to mean anything.
    meaningful_seconds: int = 0


PAGES = [
    Page("badge-svg", "badge QR .svg", 0.8),
    Page("badge-png", "badge QR .png", 0.8),
    # No goal: what a signed-in request costs kithmeet before any page's own work (load_server.py).
    Page("floor", "signed-in floor (no page)"),
    Page("scan-page", "scan page GET /B/<T>", 0.3),
    Page("connect", "connect POST /B/<T>", 0.15, p99_goal_ms=50, expected=302),
    Page("followup", "follow-up list, first page", 0.1),
    Page("dashboard", "live dashboard refresh"),
    # A sheet of every checked-in attendee takes seconds of CPU: a 10 s run finishes a handful.
    Page("badge-sheet", "badge sheet PDF (2 connections)", connections=2, threads=1, meaningful_seconds=120),
    Page("api-scan", "POST /api/v1/scans", expected=201, replayed=200),
]


@dataclass
class Result:
    database: str
    page: Page
    rps: float
    p50_ms: float
    p99_ms: float
    bare_rps: float
    cpu_us: float = 0.0  # the workers' CPU time per request, this page's and the bare route's
    bare_cpu_us: float = 0.0
    problems: list = field(default_factory=list)
    note: str = ""

    @property
    def ratio(self):
        return self.rps / self.bare_rps if self.bare_rps else 0.0

    @property
    def cpu_ratio(self):
        """The bare route's CPU time per request over this page's: what the ratio would be if the
        workers had the machine's cores to themselves."""
        return self.bare_cpu_us / self.cpu_us if self.cpu_us else 0.0

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
        self.gunicorn = Gunicorn(self.tmp, self.app_root, self.profile)
        self.gunicorn.start(self.url, self.settings)
        self.port = self.gunicorn.port
        self.sign_in()
        return seeded, len(self.site.tonight_ids)

    def close(self):
        if self.gunicorn is not None:
            self.gunicorn.stop(self.database)
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
        if page.key == "floor":
            return [("GET", "/__floor", cookie) for cookie, _ in self.scanners.values()]
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
        markers = {"floor": "ok", "scan-page": 'name="client_id"', "followup": "/followup/", "dashboard": "{",
                   "badge-sheet": "%PDF", "badge-svg": "<svg", "api-scan": '"scan"'}
        marker = markers.get(page.key)
        if status != page.expected or (marker and marker not in text):
            return f"probe answered {status}" + (f" without {marker!r}" if marker and marker not in text else "")
        if page.key == "connect" and "/B/" not in response_headers.get("Location", ""):
            return "probe's connect did not lead back to the scan page"
        return None

    def wrk(self, page, rows, seconds):
        """wrk's numbers, and `cpu_us`: the workers' CPU time per finished request (requests still
        in flight when wrk stops are a few dozen among thousands). Another process on the machine
        takes time from the workers but little CPU per request: this is the steadier measure."""
        used = self.gunicorn.worker_cpu()
        values = run_wrk(page, rows, seconds, self.tmp, self.port, self.gunicorn.settle)
        values["cpu_us"] = (self.gunicorn.worker_cpu() - used) * 1e6 / max(values["requests"], 1)
        return values

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
            # The bare route again right after: the ratio is to the mean of the two runs, as a shared
            # machine's speed drifts within the minute and one bare run alone moved ratios by a third.
            base_after = self.wrk(bare, [("GET", "/__bare")], self.seconds)
            result = Result(self.database, page, measured["rps"], measured["p50_us"] / 1000,
                            measured["p99_us"] / 1000, (base["rps"] + base_after["rps"]) / 2,
                            measured["cpu_us"], (base["cpu_us"] + base_after["cpu_us"]) / 2)
            if problem:
                result.problems.append(problem)
            for key, label in (("non_2xx_3xx", "non-2xx/3xx"), ("unexpected", f"not {page.expected}"),
                               ("connect_errors", "connect errors"), ("read_errors", "read errors"),
                               ("write_errors", "write errors"), ("timeouts", "timeouts")):
                if measured[key]:
                    result.problems.append(f"{measured[key]} {label}")
            if any(run["non_2xx_3xx"] or run["unexpected"] for run in (base, base_after)):
                result.problems.append("bare route errors")
            logged = self.gunicorn.server_errors()
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


if __name__ == "__main__":
    sys.exit(main())
