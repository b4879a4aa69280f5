"""Driving wrk for benchmarks/load.py: the rows file of prepared requests, the command, and its
output read through the summary line benchmarks/wrk/rotate.lua prints."""
import re
import shutil
import subprocess
import uuid
from pathlib import Path

LUA = Path(__file__).resolve().parent / "wrk" / "rotate.lua"
WRK = shutil.which("wrk") or "/usr/bin/wrk"
THREADS, CONNECTIONS = 2, 16


def run_wrk(page, rows, seconds, folder, port, settle):
    path = folder / f"rows-{page.key}-{uuid.uuid4().hex[:6]}.tsv"
    with open(path, "w") as out:
        for row in rows:
            out.write("\t".join((*row, "", "", "", "")[:6]) + "\n")
    command = [WRK, f"-t{page.threads}", f"-c{page.connections}", f"-d{seconds}s", "--timeout", "30s",
               "--latency", "-s", str(LUA), f"http://127.0.0.1:{port}", "--", str(path),
               str(page.expected), str(page.threads), str(page.replayed or 0)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
    settle()
    found = re.search(r"^kithmeet-result (.*)$", done.stdout, re.MULTILINE)
    if done.returncode or not found:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    values = {k: int(v) for k, v in (item.split("=") for item in found.group(1).split())}
    values["rps"] = values["requests"] / (values["duration_us"] / 1e6)
    return values
