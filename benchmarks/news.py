"""Time one "connected with you" check (GET /api/v1/news, what every open home and badge page
asks every three seconds) with 1,500 attendees' data, and count its SQL statements (target:
one). Not a test: numbers to read.

The night is written straight into the tables, since what is measured is the read: 1,500
people at one event and 6,000 connections among them, most already seen by both sides; the
person whose page asks has met 300 people, 5 of them not yet seen. Each check is timed
through the test client, with a bare Flask route timed the same way as the baseline, as a
200 (something new) and as a 304 (nothing new: the usual answer). Then the same again with a
partial index on the unseen sides, made in this throwaway database only, to show what such
an index (a migration) would save.

Run: make benchmark   (or .venv/bin/python benchmarks/news.py)
"""
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import event as sa_event
from sqlalchemy import insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kithmeet import create_app  # noqa: E402
from kithmeet.connections import news  # noqa: E402
from kithmeet.connections.models import Connection, ConnectionSide  # noqa: E402
from kithmeet.events import services as events  # noqa: E402
from kithmeet.events.models import CheckIn  # noqa: E402
from kithmeet.extensions import db  # noqa: E402
from kithmeet.organizer import services as organizers  # noqa: E402
from kithmeet.people.models import Person  # noqa: E402
from kithmeet.tokens import new_code  # noqa: E402

ATTENDEES = 1500
CONNECTIONS = 6000
MET = 300  # the asking person's connections
UNSEEN = 5  # of which they have not seen yet
REPEAT = 2000
PARTIAL_INDEX = ("CREATE INDEX bench_unseen_sides ON connection_side (person_id) "
                 "WHERE acknowledged_at IS NULL AND removed_at IS NULL")


def seed(app, attendees, pairs, met, unseen):
    """Returns the asking person's id."""
    with app.app_context():
        db.create_all()
        organizer = organizers.create_organizer("bench@example.org", "benchmark password")
        event = events.create_event(organizer, name="Bench night", starts_at=datetime(2026, 11, 26, 19),
                                    series_name="Bench meetup")
        events.set_status(organizer, event.public_id, "open")
        rng = random.Random(9)
        db.session.execute(insert(Person), [{"name": f"Guest {i}", "badge_token": new_code(), "headline": ""}
                                            for i in range(attendees)])
        ids = db.session.scalars(select(Person.id).order_by(Person.id)).all()
        db.session.execute(insert(CheckIn), [{"event_id": event.id, "person_id": pid, "via": "join"} for pid in ids])
        me = ids[0]
        chosen = {(me, other) for other in rng.sample(ids[1:], min(met, len(ids) - 1))}
        while len(chosen) < min(pairs, len(ids) * (len(ids) - 1) // 2):
            a, b = sorted(rng.sample(ids[1:], 2))
            chosen.add((a, b))
        start = datetime(2026, 11, 26, 19)
        db.session.execute(insert(Connection), [
            {"public_id": new_code(), "person_a_id": a, "person_b_id": b, "first_event_id": event.id,
             "last_met_at": start + timedelta(seconds=rng.randrange(10800))} for a, b in sorted(chosen)])
        rows = db.session.execute(select(Connection.id, Connection.person_a_id, Connection.person_b_id)).all()
        mine = [row.id for row in rows if row.person_a_id == me]
        not_seen = set(rng.sample(mine, min(unseen, len(mine))))
        sides = []
        for row in rows:
            for person in (row.person_a_id, row.person_b_id):
                # A tenth of everyone's scanned sides are unseen; the asker's exactly `unseen`.
                told = row.id not in not_seen if person == me else rng.random() > 0.05
                sides.append({"connection_id": row.id, "person_id": person, "acknowledged_at": start if told else None})
        db.session.execute(insert(ConnectionSide), sides)
        db.session.commit()
        return me


def timed(client, path, headers, repeat, status):
    """Median wall-clock and CPU microseconds per request. On a shared machine the CPU time is
    the fairer figure: this process's own work, not the time it waited for a core."""
    wall, cpu = [], []
    for _ in range(repeat):
        started, used = time.perf_counter(), time.process_time()
        response = client.get(path, headers=headers)
        wall.append((time.perf_counter() - started) * 1e6)
        cpu.append((time.process_time() - used) * 1e6)
        assert response.status_code == status, (path, response.status_code)
    return statistics.median(wall), statistics.median(cpu)


def statements(app, client, path, headers):
    seen = []
    with app.app_context():
        engine = db.engine
    listener = lambda *args: seen.append(args[2])  # noqa: E731
    sa_event.listen(engine, "before_cursor_execute", listener)
    try:
        client.get(path, headers=headers)
    finally:
        sa_event.remove(engine, "before_cursor_execute", listener)
    return len(seen)


def main(attendees=ATTENDEES, pairs=CONNECTIONS, met=MET, unseen=UNSEEN, repeat=REPEAT):
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite3", "SECRET_KEY": "bench",
                          "CHANGELOG_LEVEL": "WARNING"}, instance_path=f"{tmp}/instance")  # the limiter on, as run

        @app.get("/__bare")
        def bare():
            return "ok"
        me = seed(app, attendees, pairs, met, unseen)
        with app.app_context():
            token = news.token_for(db.session.get(Person, me))
        client = app.test_client()
        ask = {"X-Kithmeet-News": token}
        etag = client.get("/api/v1/news", headers=ask).headers["ETag"]  # warm: the first request loads code
        again = {**ask, "If-None-Match": etag}
        print(f'The "connected with you" check: {attendees} attendees, {pairs} connections, the asker met {met} '
              f"({unseen} unseen); median of {repeat} requests")
        print(f"{'request':<40}{'wall µs':>9}{'CPU µs':>8}{'SQL':>5}")
        for label, path, headers, status in (("bare Flask route", "/__bare", {}, 200),
                                             ("check, something new (200)", "/api/v1/news", ask, 200),
                                             ("check, nothing new (304)", "/api/v1/news", again, 304)):
            wall, cpu = timed(client, path, headers, repeat, status)
            print(f"{label:<40}{wall:>9.0f}{cpu:>8.0f}{statements(app, client, path, headers):>5}")
        with app.app_context():
            wall, cpu = alone(token, repeat)
            print(f"{'news.check alone (no HTTP)':<40}{wall:>9.0f}{cpu:>8.0f}{1:>5}")
            db.session.execute(text(PARTIAL_INDEX))
            db.session.commit()
        wall, cpu = timed(client, "/api/v1/news", again, repeat, 304)
        print(f"{'304, with a partial index (not migrated)':<40}{wall:>9.0f}{cpu:>8.0f}"
              f"{statements(app, client, '/api/v1/news', again):>5}")
        print("(target: one SQL statement per check; the partial index exists only in this benchmark's database)")


def alone(token, repeat):
    """The check's own work, without the request around it: verify the token, run the statement."""
    wall, cpu = [], []
    for _ in range(repeat):
        started, used = time.perf_counter(), time.process_time()
        news.check(token)
        db.session.rollback()  # as the request's teardown would: no transaction held between checks
        wall.append((time.perf_counter() - started) * 1e6)
        cpu.append((time.process_time() - used) * 1e6)
    return statistics.median(wall), statistics.median(cpu)


if __name__ == "__main__":
    main()
