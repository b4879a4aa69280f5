"""Many phones at once against the app as `make run` serves it (gunicorn, four workers of eight
threads), on SQLite and on PostgreSQL: 500 scans from 50 signed-in attendees, among them 100
pairs scanning each other at the same instant and 100 sends of a scan already sent (the same
client id again, some while the first is still under way). Not one error, and exactly the rows
those scans make: one connection per pair, its two sides, one encounter, one scan per client id.
"""
import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from limits import parse
from limits.storage import storage_from_string

from kithmeet import ratelimit_file
from kithmeet.connections import services as connections
from kithmeet.extensions import db

from ..postgres import BOTH_DATABASES
from ..servers import Gunicorn
from .scanning import GENEROUS_LIMITS, Attendee, broken_rows, counts, seed, stored_scans

PEOPLE = 50
MUTUAL_ROUNDS = 4  # each round pairs everyone off: 4 x 25 = 100 pairs scanning each other at once
ONE_WAY = 4  # scans each person makes on their own: 200
RETRIED = 2  # of those, sent again with the same client id: 100
WAIT = 60  # seconds any one step may take before the test gives up


def plan(rng):
    """(rounds, one_way): rounds of pairs [(i, j)] that scan each other at once, and each person's
    own scans [(i, j, client id, how it is sent again or None)], all as indexes into the people."""
    used, rounds = set(), []
    while len(rounds) < MUTUAL_ROUNDS:
        order = rng.sample(range(PEOPLE), PEOPLE)
        pairs = [tuple(sorted(order[k:k + 2])) for k in range(0, PEOPLE, 2)]
        if not used & set(pairs):
            used |= set(pairs)
            rounds.append(pairs)
    one_way = []
    for i in range(PEOPLE):
        targets = rng.sample([j for j in range(PEOPLE) if j != i], ONE_WAY)
        # Half the resends race the first send (a double tap); half follow its answer (a retry).
        again = ["at_once", "after"][:RETRIED] + [None] * (ONE_WAY - RETRIED)
        one_way.append([(i, j, f"load-{i}-{j}-{n}", again[n]) for n, j in enumerate(targets)])
    return rounds, one_way


@pytest.fixture
def served(app, database_url, tmp_path):
    seeded = seed(PEOPLE)
    db.session.remove()
    settings = dict(GENEROUS_LIMITS)
    if database_url.startswith("postgresql"):
        # 4 workers x (6 + 4) stays below the test server's 60 connections.
        settings["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_size": 6, "max_overflow": 4}
    server = Gunicorn(tmp_path / "served", database_url, settings, workers=4, threads=8, make_schema=False)
    server.start()
    try:
        yield server, seeded
    finally:
        server.stop()


@BOTH_DATABASES
def test_500_scans_from_50_phones_make_exactly_the_rows_they_should(served):
    server, seeded = served
    attendees = [Attendee(server.base, *row) for row in seeded]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(Attendee.sign_in, attendees, timeout=WAIT))
    rounds, one_way = plan(random.Random(10))
    partner = [{} for _ in range(MUTUAL_ROUNDS)]
    for number, pairs in enumerate(rounds):
        for i, j in pairs:
            partner[number][i], partner[number][j] = j, i
    barrier = threading.Barrier(PEOPLE, timeout=WAIT)
    answers, lock = [], threading.Lock()  # (status, code, client id) of every request
    took = []  # seconds each answer took, for the failure message

    def send(attendee, badge, client_id):
        try:
            status, code, seconds = attendee.scan(badge, client_id)
        except OSError as error:  # no answer at all: an error as much as a 500
            status, code, seconds = 0, repr(error), None
        with lock:
            answers.append((status, code, client_id))
            if seconds is not None:
                took.append(seconds)

    def phone(i):
        me = attendees[i]
        for number in range(MUTUAL_ROUNDS):
            barrier.wait()  # both of each pair, and every other pair, let go at once
            send(me, attendees[partner[number][i]].badge, f"mutual-{number}-{i}")
        for _, j, client_id, again in one_way[i]:
            if again == "at_once":
                twin = threading.Thread(target=send, args=(me, attendees[j].badge, client_id), daemon=True)
                twin.start()
                send(me, attendees[j].badge, client_id)
                twin.join(WAIT)
            else:
                send(me, attendees[j].badge, client_id)
                if again == "after":
                    send(me, attendees[j].badge, client_id)

    phones = [threading.Thread(target=phone, args=(i,), daemon=True) for i in range(PEOPLE)]
    for thread in phones:
        thread.start()
    for thread in phones:
        thread.join(WAIT * (MUTUAL_ROUNDS + 1))
    assert not any(thread.is_alive() for thread in phones), "a phone never finished"

    assert len(answers) == 500
    took.sort()
    slowest = f"answers took {took[len(took) // 2]:.2f} s (median), {took[-1]:.2f} s (slowest)"
    assert [answer for answer in answers if answer[0] not in (200, 201)] == [], slowest
    # Each client id is recorded by exactly one send (201); every other send of it is told it
    # was there already (200).
    assert sorted(status for status, _, _ in answers).count(201) == 400
    by_id = {}
    for status, _, client_id in answers:
        by_id.setdefault(client_id, []).append(status)
    assert sorted(statuses.count(201) for statuses in by_id.values()) == [1] * 400

    def ids(i):
        return attendees[i].id

    expected_scans = {f"mutual-{number}-{i}": (ids(i), ids(partner[number][i]))
                      for number in range(MUTUAL_ROUNDS) for i in range(PEOPLE)}
    expected_scans.update({client_id: (ids(i), ids(j)) for scans in one_way for i, j, client_id, _ in scans})
    pairs = {frozenset(pair) for pair in expected_scans.values()}
    with db.engine.connect() as connection:
        assert broken_rows(connection) == {}
        assert stored_scans(connection) == expected_scans
        assert counts(connection) == {"connection": len(pairs), "connection_side": 2 * len(pairs),
                                      "encounter": len(pairs), "scan": 400}
    # The limiter was on: it counted each person's scans, where the served app counts by default
    # (a file in its instance folder on SQLite, the database on PostgreSQL).
    store = storage_from_string(ratelimit_file.uri_for(server.instance / ratelimit_file.FILE_NAME)
                                if db.engine.dialect.name == "sqlite" else "kithmeet+db://")
    scan_limit = parse(GENEROUS_LIMITS["RATELIMIT_SCAN"])
    assert [store.get(scan_limit.key_for("kithmeet", "scan", f"person:{ids(i)}")) > 0 for i in range(PEOPLE)] == \
        [True] * PEOPLE


@pytest.mark.parametrize("damage, rule", [
    ("DELETE FROM connection_side WHERE id = (SELECT min(id) FROM connection_side)",
     "connection without exactly its two people's sides"),
    ("UPDATE scan SET connection_id = NULL", "scan without its pair's connection"),
    ("DELETE FROM encounter", "scan without its encounter"),
    ("UPDATE scan SET made_encounter = false", "encounter no scan made"),
    ("UPDATE scan SET made_connection = false", "connection no scan made, or two"),
])
def test_the_checks_find_half_written_rows(make_event, make_person, damage, rule):
    # What the load and fault tests rely on to see a half-written scan: each rule, broken on purpose.
    event = make_event()
    ada, bo = make_person("Ada", event=event), make_person("Bo", event=event)
    connections.connect(ada, bo.badge_token, client_id="whole")
    with db.engine.connect() as connection:
        assert broken_rows(connection) == {}
        connection.exec_driver_sql(damage)
        assert rule in broken_rows(connection)
        connection.rollback()
