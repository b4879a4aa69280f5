"""benchmarks/load.py's output: the console table (and a row of it as each page finishes), the
markdown table, the machine's description and the text of docs/performance.md."""
import os
import platform
import sqlite3
import subprocess
import textwrap
from datetime import datetime, timezone
from pathlib import Path

from load_server import LIMIT, WORKER_THREADS, WORKERS
from load_wrk import CONNECTIONS, THREADS, WRK

REPORT = Path(__file__).resolve().parent.parent / "docs" / "performance.md"

COLUMNS = ("database", "page", "req/s", "p50 ms", "p99 ms", "bare req/s", "ratio", "goal", "met?",
           "CPU us/req", "bare CPU us/req", "CPU ratio")


def _goal(page):
    if page.goal is None:
        return "-"
    return f">= {page.goal:g}" + (f", p99 < {page.p99_goal_ms:g} ms" if page.p99_goal_ms else "")


def _number(value):
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}" if value >= 1 else f"{value:.2f}"


def _cells(r):
    ratio = f"{r.ratio:.3f}" if r.ratio >= 0.001 or not r.ratio else f"{r.ratio:.4f}"
    return (r.database, r.page.label, _number(r.rps), f"{r.p50_ms:.1f}", f"{r.p99_ms:.1f}", _number(r.bare_rps),
            ratio, _goal(r.page), r.met or "-", _number(r.cpu_us), _number(r.bare_cpu_us),
            f"{r.cpu_ratio:.3f}" if r.cpu_ratio >= 0.001 or not r.cpu_ratio else f"{r.cpu_ratio:.4f}")


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
        "requests per second are quoted as a ratio to a bare Flask route measured just before and just",
        "after it on the same server (the mean of the two), so the ratios hold across machines better",
        "than the raw numbers do; on a busy machine both drift.",
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
        "The last three columns are the gunicorn workers' CPU time (user and system, from /proc) per",
        "finished request, the page's and the bare route's, and the bare route's over the page's. They",
        "are not the goal; they say how much of a ratio is the page's own cost and how much the",
        "machine's: on a machine busy with other work the requests per second fall, the CPU time per",
        "request much less.",
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
            "kithmeet, so none of kithmeet's request hooks run for it) is measured right before and right after "
            "each page; the bare column is the mean of the two.",
            "Pages: badge QRs of tonight's attendees' tokens in turn; the signed-in floor, a route of "
            "kithmeet's app that only finds the signed-in person (every request hook and the session read, "
            "no page: benchmarks/load_server.py), from the attendees' sessions; the scan page of tonight's attendees "
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
