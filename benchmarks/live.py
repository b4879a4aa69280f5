"""Time the live dashboard's refresh (the JSON every open dashboard and projector polls) with
400 attendees and 2,000 connections made that night (target: under 30 ms of server time), and
the dashboard page itself. Not a test: numbers to read.

The night is written straight into the tables (people, check-ins, connections, encounters
spread over three hours), since what is measured is the read; a third of the people also came
to last week's event, so "came back" has something to count.

Run: make benchmark   (or .venv/bin/python benchmarks/live.py)
"""
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import event as sa_event
from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kithmeet import create_app  # noqa: E402
from kithmeet.connections.models import Connection, Encounter  # noqa: E402
from kithmeet.events import services as events  # noqa: E402
from kithmeet.events.models import CheckIn  # noqa: E402
from kithmeet.extensions import db  # noqa: E402
from kithmeet.organizer import services as organizers  # noqa: E402
from kithmeet.people.models import Person  # noqa: E402
from kithmeet.tokens import new_code  # noqa: E402

ATTENDEES = 400
CONNECTIONS = 2000
REPEAT = 30
TARGET_MS = 30
EMAIL, PASSWORD = "bench@example.org", "benchmark password"


def seed(app, attendees=ATTENDEES, pairs=CONNECTIONS):
    with app.app_context():
        db.create_all()
        organizer = organizers.create_organizer(EMAIL, PASSWORD)
        last_week = events.create_event(organizer, name="Last week", starts_at=datetime(2026, 11, 19, 19),
                                        series_name="Bench meetup")
        tonight = events.create_event(organizer, name="Bench night", starts_at=datetime(2026, 11, 26, 19),
                                      series_name="Bench meetup")
        events.set_status(organizer, tonight.public_id, "open")
        opened = tonight.opened_at
        rng = random.Random(8)
        db.session.execute(insert(Person), [{"name": f"Guest {i}", "badge_token": new_code(), "headline": ""}
                                            for i in range(attendees)])
        ids = db.session.scalars(select(Person.id).order_by(Person.id)).all()
        db.session.execute(insert(CheckIn), [{"event_id": tonight.id, "person_id": pid, "via": "join",
                                              "created_at": opened + timedelta(seconds=rng.randrange(7200))}
                                             for pid in ids])
        db.session.execute(insert(CheckIn), [{"event_id": last_week.id, "person_id": pid, "via": "join",
                                              "created_at": datetime(2026, 11, 19, 19)} for pid in ids[::3]])
        chosen = set()
        while len(chosen) < min(pairs, len(ids) * (len(ids) - 1) // 2):
            a, b = sorted(rng.sample(ids, 2))
            chosen.add((a, b))
        db.session.execute(insert(Connection), [{"public_id": new_code(), "person_a_id": a, "person_b_id": b,
                                                 "first_event_id": tonight.id} for a, b in sorted(chosen)])
        connection_ids = db.session.scalars(select(Connection.id)).all()
        db.session.execute(insert(Encounter), [{"connection_id": cid, "event_id": tonight.id, "talked_about": "",
                                                "created_at": opened + timedelta(seconds=rng.randrange(10800))}
                                               for cid in connection_ids])
        db.session.commit()
        return tonight.public_id


def signed_in(app):
    client = app.test_client()
    page = client.get("/organizer/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    client.post("/organizer/login", data={"csrf_token": token, "email": EMAIL, "password": PASSWORD})
    return client


def timed(client, path, repeat):
    """Median wall-clock and CPU milliseconds per request. On a shared machine the CPU time is
    the fairer figure: this process's own work, not the time it waited for a core."""
    wall, cpu = [], []
    for _ in range(repeat):
        started, used = time.perf_counter(), time.process_time()
        response = client.get(path)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - used) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return statistics.median(wall), statistics.median(cpu), len(response.data)


def statements(app, client, path):
    seen = []
    with app.app_context():
        engine = db.engine
    listener = lambda *args: seen.append(args[2])  # noqa: E731
    sa_event.listen(engine, "before_cursor_execute", listener)
    try:
        client.get(path)
    finally:
        sa_event.remove(engine, "before_cursor_execute", listener)
    return len(seen)


def main(attendees=ATTENDEES, pairs=CONNECTIONS, repeat=REPEAT):
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite3", "SECRET_KEY": "bench",
                          "RATELIMIT_ENABLED": False, "CHANGELOG_LEVEL": "WARNING"},
                         instance_path=f"{tmp}/instance")

        @app.get("/__bare")
        def bare():
            return "ok"
        public_id = seed(app, attendees, pairs)
        client = signed_in(app)
        refresh, page = f"/organizer/events/{public_id}/live.json", f"/organizer/events/{public_id}/live"
        client.get(refresh)  # warm: the first request loads templates and the session
        print(f"The live dashboard: {attendees} attendees, {pairs} connections, median of {repeat} requests")
        print(f"{'request':<26}{'wall ms':>9}{'CPU ms':>8}{'SQL':>6}{'bytes':>9}")
        for label, path in (("bare Flask route", "/__bare"), ("refresh (live.json)", refresh),
                            ("dashboard page", page)):
            wall, cpu, size = timed(client, path, repeat)
            verdict = ("ok" if min(wall, cpu) < TARGET_MS else "SLOW") if path == refresh else ""
            print(f"{label:<26}{wall:>9.1f}{cpu:>8.1f}{statements(app, client, path):>6}{size:>9}  {verdict}")
        print(f"(target: the refresh under {TARGET_MS} ms of server time)")


if __name__ == "__main__":
    main()
