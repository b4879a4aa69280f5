"""The benchmark scripts still run (tiny sizes; nothing is timed here): pages.py reports a flat query count,
scanner.py its table from a real Chromium."""
import importlib.util
import pathlib
import re

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
def test_the_scanner_benchmark_runs_and_reports_its_table(capsys, monkeypatch):
    """One scanner, a short video and a short quiet wait: the script's path, not its numbers."""
    path = pathlib.Path(__file__).resolve().parent.parent / "benchmarks" / "scanner.py"
    spec = importlib.util.spec_from_file_location("benchmark_scanner", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "BLANK_SECONDS", 1)
    monkeypatch.setattr(module, "BADGE_SECONDS", 2)
    monkeypatch.setattr(module, "QUIET_SECONDS", 0.5)
    module.main(scanners=1)
    output = capsys.readouterr().out
    assert "1 scanners, each a new connection, polyfill reader" in output
    assert re.search(r"^badge in view -> connected on screen\s+\d+\s+\d+\s+\d+$", output, re.MULTILINE)
    loads = {load: (float(sent), float(plain)) for load, sent, plain in re.findall(
        r"^(cold|warm) \(.*?\)\s+([\d.]+)\s+([\d.]+)\s+\d+\s+[\d.]+$", output, re.MULTILINE)}
    # The wasm alone is over 400 KB compressed, and more than twice that without; the warm
    # visit is sent no static file again.
    assert 400 < loads["cold"][0] < loads["cold"][1] / 2
    assert loads["warm"][0] < 50
