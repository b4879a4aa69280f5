"""Many pairs writing their shared words at the same instant, on SQLite and PostgreSQL:
no edit is lost silently, no scan's line goes missing."""
import threading

from kithmeet.connections import notes
from kithmeet.connections import services as connections
from kithmeet.extensions import db
from kithmeet.people.models import Person

from ..postgres import BOTH_DATABASES

PAIRS = 20


def at_once(app, calls):
    """Run each call in its own thread and session, released together; returns results by index."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        with app.app_context():
            try:
                barrier.wait()
                results[index] = call()
            except Exception as error:  # noqa: BLE001 - any error at all fails the test
                results[index] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def connected_pairs(make_event, make_person):
    event = make_event()
    pairs = []
    for i in range(PAIRS):
        a, b = make_person(f"A{i}", event=event), make_person(f"B{i}", event=event)
        connection, _ = connections.connect(a, b.badge_token, talked_about="Venues", client_id=f"a{i}")
        pairs.append((a.id, b.id, b.badge_token, a.badge_token, connection.public_id, connection.id))
    return pairs


def person(person_id):
    return db.session.get(Person, person_id)


def stored_line(connection_id):
    with db.engine.connect() as other:
        return other.exec_driver_sql(
            f"SELECT talked_about FROM encounter WHERE connection_id = {int(connection_id)}").scalar()


@BOTH_DATABASES
def test_both_sides_saving_the_same_version_at_once_never_lose_an_edit_silently(app, make_event, make_person):
    pairs = connected_pairs(make_event, make_person)
    seen = notes.fingerprint("Venues")
    calls = []
    for a, b, _, _, pid, _ in pairs:
        calls.append(lambda a=a, pid=pid: notes.edit(person(a), pid, talked_about="A's words",
                                                     talked_about_fingerprint=seen))
        calls.append(lambda b=b, pid=pid: notes.edit(person(b), pid, talked_about="B's words",
                                                     talked_about_fingerprint=seen))
    results = at_once(app, calls)
    assert not [r for r in results if isinstance(r, Exception)], results
    for index, (_, _, _, _, _, connection_id) in enumerate(pairs):
        first, second = results[2 * index], results[2 * index + 1]
        # Exactly one was saved; the other was told, with the words that were saved.
        assert sorted([first.conflict, second.conflict]) == [False, True]
        loser = first if first.conflict else second
        assert loser.their_text == stored_line(connection_id) in ("A's words", "B's words")


@BOTH_DATABASES
def test_both_sides_rescanning_at_once_keep_both_lines(app, make_event, make_person):
    pairs = connected_pairs(make_event, make_person)
    calls = []
    for i, (a, b, b_token, a_token, _, _) in enumerate(pairs):
        calls.append(lambda a=a, b_token=b_token, i=i: connections.connect(
            person(a), b_token, talked_about="from A", client_id=f"a{i}"))  # a resend of A's scan
        calls.append(lambda b=b, a_token=a_token: connections.connect(person(b), a_token, talked_about="from B"))
    results = at_once(app, calls)
    assert not [r for r in results if isinstance(r, Exception)], results
    for _, _, _, _, _, connection_id in pairs:
        assert sorted(stored_line(connection_id).split("\n")) == ["Venues", "from A", "from B"]
