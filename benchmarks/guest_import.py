"""Time a 5,000-row guest-list import (target: under 10 s), on SQLite: parse, decide each row,
and write the people, the guest list and the report in one transaction. Not a test: a number.

Run: make benchmark   (or .venv/bin/python benchmarks/guest_import.py)
"""
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kithmeet import create_app  # noqa: E402
from kithmeet.events import services as events  # noqa: E402
from kithmeet.extensions import db  # noqa: E402
from kithmeet.guests import services as guests  # noqa: E402
from kithmeet.organizer import services as organizers  # noqa: E402

ROWS = 5000
REPEAT = 3


def guest_list(rows, offset):
    # An Eventbrite-like export: a byte-order mark, first and last names, job title and company.
    lines = ["Order #,First Name,Last Name,Email,Job Title,Company"]
    lines += [f"{100000 + n},Guest,Number {n},guest{offset + n}@example.org,Engineer,Company {n % 40}"
              for n in range(rows)]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()


def main():
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite3", "SECRET_KEY": "bench",
                          "RATELIMIT_ENABLED": False, "CHANGELOG_LEVEL": "WARNING"}, instance_path=f"{tmp}/instance")
        with app.app_context():
            db.create_all()
            organizer = organizers.create_organizer("bench@example.org", "benchmark password")
            times = []
            for run in range(REPEAT):
                event = events.create_event(organizer, name=f"Bench {run}", starts_at=datetime(2026, 11, 26, 19, 0),
                                            series_name=f"Bench series {run}")
                data = guest_list(ROWS, run * ROWS)
                started = time.perf_counter()
                pending = guests.upload(organizer, event.series.public_id, "bench.csv", data)
                done = guests.run_import(organizer, pending.public_id, guests.settings_of(pending)["mapping"])
                times.append(time.perf_counter() - started)
                assert done.added == ROWS, done.added
            print(f"guest-list import, {ROWS} rows ({len(data) / 1024:.0f} KB), SQLite: "
                  f"best {min(times):.2f} s, worst {max(times):.2f} s of {REPEAT} (target under 10 s)")
            db.engine.dispose()


if __name__ == "__main__":
    main()
