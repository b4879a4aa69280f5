"""The benchmark script still runs (tiny sizes; nothing is timed here) and reports a flat query count."""
import importlib.util
import pathlib
import re


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
