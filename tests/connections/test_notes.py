"""The words of a connection under concurrency: no edit and no scan ever loses the other
person's words, even when their write lands between this one's read and its write."""
import pytest
from sqlalchemy import text

from kithmeet.connections import notes
from kithmeet.connections import services as connections
from kithmeet.extensions import db

from ..postgres import SQLITE_ONLY


@pytest.fixture
def pair(make_event, make_person):
    event = make_event()
    ada, bo = make_person("Ada", event=event), make_person("Bo", event=event)
    connection, _ = connections.connect(ada, bo.badge_token, talked_about="Venues", client_id="ada-scan-1")
    return ada, bo, connection


def stored_line(connection):
    with db.engine.connect() as other:
        return other.execute(text("SELECT talked_about FROM encounter WHERE connection_id = :c"),
                             {"c": connection.id}).scalar()


@pytest.fixture
def other_writer_between_read_and_write(monkeypatch):
    """Make another connection commit `words` to the encounter right before our first write.

    SQLite only: a read there takes no lock, which is exactly the window this closes. (On
    PostgreSQL the row is read FOR UPDATE, so the other writer would wait for us instead.)
    """
    def arrange(connection, words):
        original = notes._swap
        fired = []

        def swap(row, column, new):
            if not fired:
                fired.append(True)
                with db.engine.begin() as other:
                    other.execute(text("UPDATE encounter SET talked_about = :t WHERE connection_id = :c"),
                                  {"t": words, "c": connection.id})
            return original(row, column, new)
        monkeypatch.setattr(notes, "_swap", swap)
        return fired
    return arrange


@SQLITE_ONLY  # the other writer's window exists on SQLite alone (see the fixture)
def test_an_edit_never_overwrites_words_written_after_it_read_the_line(pair, other_writer_between_read_and_write):
    ada, _, connection = pair
    fired = other_writer_between_read_and_write(connection, "Venues\nBo wrote this")
    result = notes.edit(ada, connection.public_id, talked_about="Ada's words",
                        talked_about_fingerprint=notes.fingerprint("Venues"))
    assert fired and result.conflict and result.their_text == "Venues\nBo wrote this"
    assert stored_line(connection) == "Venues\nBo wrote this"


@SQLITE_ONLY  # the other writer's window exists on SQLite alone (see the fixture)
def test_a_resent_scan_merges_again_onto_words_written_meanwhile(pair, other_writer_between_read_and_write):
    ada, bo, connection = pair
    fired = other_writer_between_read_and_write(connection, "Venues\nSponsors (from Bo's phone)")
    connections.connect(ada, bo.badge_token, talked_about="Rust study group", client_id="ada-scan-1")
    assert fired
    assert stored_line(connection) == "Venues\nSponsors (from Bo's phone)\nRust study group"


def test_an_edit_without_a_fingerprint_never_replaces_words(pair):
    ada, _, connection = pair
    result = notes.edit(ada, connection.public_id, talked_about="Replaced blindly")
    assert result.conflict and stored_line(connection) == "Venues"


def test_after_a_conflict_the_next_save_knows_the_latest_words(pair, signed_in):
    """The conflict page carries the fingerprint of the words it shows: saving goes through
    at once, unless the other person changes them yet again."""
    import re

    ada, bo, connection = pair
    pid = connection.public_id
    stale = notes.fingerprint("Venues")
    notes.edit(bo, pid, talked_about="Venues\nBo v1", talked_about_fingerprint=stale)
    client = signed_in(ada)
    assert client.submit(f"/followup/{pid}", page=f"/followup/{pid}", prefix=pid, data={
        f"{pid}-talked_about": "Ada's take", f"{pid}-talked_about_fingerprint": stale,
        f"{pid}-status": "to_follow_up"}).status_code == 302
    notes.edit(bo, pid, talked_about="Venues\nBo v2", talked_about_fingerprint=notes.fingerprint("Venues\nBo v1"))

    def save(words):
        html = client.get(f"/followup/{pid}").get_data(as_text=True)
        assert 'data-code="edit_conflict"' in html and "Bo v2" in html
        shown = re.search(rf'name="{pid}-talked_about_fingerprint" type="hidden" value="([^"]*)"', html).group(1)
        client.submit(f"/followup/{pid}", page=f"/followup/{pid}", prefix=pid, data={
            f"{pid}-talked_about": words, f"{pid}-talked_about_fingerprint": shown, f"{pid}-status": "to_follow_up"})
    save("Ada's take, after Bo v2")
    assert stored_line(connection) == "Ada's take, after Bo v2"
    assert 'data-code="edit_conflict"' not in client.get(f"/followup/{pid}").get_data(as_text=True)


@pytest.mark.parametrize("words", ["Rust\nVenues", "Rust"])
def test_a_resent_scan_adds_its_words_once_even_across_lines(pair, words):
    ada, bo, connection = pair
    connections.connect(bo, ada.badge_token, talked_about="Bo's line")
    for _ in range(3):
        connections.connect(ada, bo.badge_token, talked_about=words, client_id="ada-scan-1")
    assert stored_line(connection) == f"Venues\nBo's line\n{words}"


def test_saving_an_old_page_keeps_note_lines_a_scan_added_since(pair):
    ada, bo, connection = pair
    notes.edit(ada, connection.public_id, private_note="first")
    # The list is open on the laptop (showing "first"); the phone rescans with a note.
    connections.connect(ada, bo.badge_token, private_note="from the phone later", client_id="ada-scan-1")
    # Only the status changes on the laptop: the note stays whole.
    notes.edit(ada, connection.public_id, status="followed_up", private_note="first", private_note_seen="first")
    assert own_note(ada, connection) == "first\nfrom the phone later"
    # The laptop rewrites its line too: both edits are kept.
    notes.edit(ada, connection.public_id, private_note="first, rewritten", private_note_seen="first")
    assert own_note(ada, connection) == "first, rewritten\nfrom the phone later"


def own_note(person, connection):
    with db.engine.connect() as other:
        return other.execute(text("SELECT private_note FROM connection_side WHERE connection_id = :c AND "
                                  "person_id = :p"), {"c": connection.id, "p": person.id}).scalar()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_an_edit_and_a_scan_of_the_same_pair_at_once_never_deadlock(app, pair):
    """Both lock the encounter, then the side. Each thread is held, after its first write or
    lock, until the other has had its chance: locking in opposite orders deadlocked here.
    (PostgreSQL only: SQLite lets one writer at a time in, so it cannot deadlock.)"""
    import threading

    from sqlalchemy import event as sa_event

    from kithmeet.people.models import Person

    ada, bo, connection = pair
    pid, ada_id, bo_token = connection.public_id, ada.id, bo.badge_token
    edit_wrote, scan_locked = threading.Event(), threading.Event()

    def hold(_conn, _cursor, statement, *_args):
        name = threading.current_thread().name
        if name == "edit" and statement.startswith("UPDATE connection_side"):
            edit_wrote.set()
            scan_locked.wait(3)
        if name == "scan" and "FROM encounter" in statement and "FOR UPDATE" in statement:
            scan_locked.set()
            edit_wrote.wait(3)

    errors = {}

    def run(name, call):
        with app.app_context():
            try:
                call(db.session.get(Person, ada_id))
            except Exception as error:  # noqa: BLE001 - any error at all fails the test
                errors[name] = repr(error)
            finally:
                db.session.remove()

    sa_event.listen(db.engine, "after_cursor_execute", hold)
    try:
        threads = [
            threading.Thread(name="edit", target=run, args=("edit", lambda person: notes.edit(
                person, pid, status="followed_up", private_note="from the laptop", private_note_seen="",
                talked_about="Venues",
                talked_about_fingerprint=notes.fingerprint("Venues")))),
            threading.Thread(name="scan", target=run, args=("scan", lambda person: connections.connect(
                person, bo_token, private_note="from the phone", client_id="ada-scan-1")))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        sa_event.remove(db.engine, "after_cursor_execute", hold)
    assert errors == {}
    assert set(own_note(ada, connection).split("\n")) == {"from the laptop", "from the phone"}


def test_snoozing_needs_a_day_after_today_and_any_other_status_clears_it(pair):
    from datetime import timedelta

    from kithmeet.database import utcnow
    from kithmeet.errors import DomainError

    ada, _, connection = pair
    pid, today = connection.public_id, utcnow().date()
    for day in (None, today, today - timedelta(days=1)):
        with pytest.raises(DomainError) as refused:
            notes.edit(ada, pid, status="snoozed", snoozed_until=day, private_note="not saved")
        assert refused.value.code == "bad_snooze_date"
    db.session.expire_all()
    side = notes.own_side(ada, pid)
    assert (side.status, side.snoozed_until, side.private_note) == ("to_follow_up", None, "")
    notes.edit(ada, pid, status="snoozed", snoozed_until=today + timedelta(days=1))
    db.session.expire_all()
    side = notes.own_side(ada, pid)
    assert (side.status, side.snoozed_until) == ("snoozed", today + timedelta(days=1))
    assert notes.current_status(side, today) == "snoozed"
    assert notes.current_status(side, today + timedelta(days=1)) == "to_follow_up"  # back on its day
    notes.edit(ada, pid, status="archived", snoozed_until=today + timedelta(days=9))
    db.session.expire_all()
    side = notes.own_side(ada, pid)
    assert (side.status, side.snoozed_until) == ("archived", None)


def test_every_edit_touches_only_the_editors_side(pair):
    from datetime import timedelta

    from sqlalchemy import update

    from kithmeet.connections.models import ConnectionSide

    ada, bo, connection = pair
    long_ago = connection.created_at - timedelta(days=30)
    db.session.execute(update(ConnectionSide).values(touched_at=long_ago))
    db.session.commit()
    notes.edit(ada, connection.public_id, private_note="called her", private_note_seen="")
    db.session.expire_all()
    assert notes.own_side(ada, connection.public_id).touched_at > long_ago
    assert notes.own_side(bo, connection.public_id).touched_at == long_ago
