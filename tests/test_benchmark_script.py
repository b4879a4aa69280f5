"""The benchmark scripts still run (tiny sizes; nothing is timed here): pages.py reports a flat query count,
scanner.py its table from a real Chromium, load.py a ratio for every page it drives with wrk."""
import importlib.util
import pathlib
import re
import shutil
import subprocess
import sys

import pytest


def test_benchmark_script_runs_and_reports_constant_queries(capsys, monkeypatch):
    path = pathlib.Path(__file__).resolve().parent.parent / "benchmarks" / "pages.py"
    spec = importlib.util.spec_from_file_location("benchmark_pages", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "SIZES", (2, 5))
    monkeypatch.setattr(module, "REPEAT", 1)
    monkeypatch.setattr(module, "DEFAULT_PAGE_SIZE", 3)
    module.main()
    output = capsys.readouterr().out
    rows = re.findall(r"^\s+(\d+)\s+(\d+)\s+[\d.]+\s+\d+\s+[\d.]+$", output, re.MULTILINE)
    assert [int(size) for size, _ in rows] == [2, 5]
    assert len({queries for _, queries in rows}) == 1
    assert "badge" in output and "connect" in output


@pytest.mark.browser
def test_the_scanner_benchmark_runs_and_reports_its_table():
    """One scanner, a short video and a short quiet wait: the script's path, not its numbers."""
    path = pathlib.Path(__file__).resolve().parent.parent / "benchmarks" / "scanner.py"
    # In a process of its own: the browser tests' Playwright may still be running in this one,
    # and a second sync Playwright cannot start inside its event loop.
    driver = ("import importlib.util, sys\n"
              "spec = importlib.util.spec_from_file_location('benchmark_scanner', sys.argv[1])\n"
              "module = importlib.util.module_from_spec(spec)\n"
              "spec.loader.exec_module(module)\n"
              "module.BLANK_SECONDS, module.BADGE_SECONDS, module.QUIET_SECONDS = 1, 2, 0.5\n"
              "module.main(scanners=1)\n")
    run = subprocess.run([sys.executable, "-c", driver, str(path)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    output = run.stdout
    assert "1 scanners, each a new connection, polyfill reader" in output
    assert re.search(r"^badge in view -> connected on screen\s+\d+\s+\d+\s+\d+$", output, re.MULTILINE)
    loads = {load: (float(sent), float(plain)) for load, sent, plain in re.findall(
        r"^(cold|warm) \(.*?\)\s+([\d.]+)\s+([\d.]+)\s+\d+\s+[\d.]+$", output, re.MULTILINE)}
    # The wasm alone is over 400 KB compressed, and more than twice that without; the warm
    # visit is sent no static file again.
    assert 400 < loads["cold"][0] < loads["cold"][1] / 2
    assert loads["warm"][0] < 50


def test_the_load_benchmark_serves_every_page_and_reports_its_ratio():
    """benchmarks/load.py --quick on SQLite: a tiny site, gunicorn and wrk for a second a page.
    Every page answers what a person would get (the probe and wrk's count of other statuses
    leave no ERRORS mark) and is quoted as a ratio to the bare route; nothing is timed here."""
    assert shutil.which("wrk"), "wrk is not installed: `make system-test-deps` installs it"
    path = pathlib.Path(__file__).resolve().parent.parent / "benchmarks" / "load.py"
    run = subprocess.run([sys.executable, str(path), "--quick", "--database", "sqlite", "--no-write"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    table = run.stdout[run.stdout.index("database  page"):]
    assert "ERRORS" not in table
    rows = re.findall(r"^sqlite\s+(.+?)\s{2,}([\d.]+)\s+[\d.]+\s+[\d.]+\s+([\d.]+)\s+(\d+\.\d+)\s", table,
                      re.MULTILINE)
    assert [label for label, *_ in rows] == [
        "badge QR .svg", "badge QR .png", "signed-in floor (no page)", "scan page GET /B/<T>", "connect POST /B/<T>",
        "follow-up list, first page", "live dashboard refresh", "badge sheet PDF (2 connections)",
        "POST /api/v1/scans"]
    for label, rps, bare, ratio in rows:  # a second on a busy machine may finish no slow PDF: 0 is a ratio too
        assert float(bare) > 0 and float(ratio) == pytest.approx(float(rps) / float(bare), rel=0.1, abs=0.002), label
    # Each connect and API scan was a new pair: the run made connections.
    assert re.search(r"connect POST /B/<T>: .*?(\d+) connections made", table)
