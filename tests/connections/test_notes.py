"""The words of a connection under concurrency: no edit and no scan ever loses the other
person's words, even when their write lands between this one's read and its write."""
import pytest
from sqlalchemy import text

from kithmeet.connections import notes
from kithmeet.connections import services as connections
from kithmeet.extensions import db


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


def test_an_edit_never_overwrites_words_written_after_it_read_the_line(pair, other_writer_between_read_and_write):
    ada, _, connection = pair
    fired = other_writer_between_read_and_write(connection, "Venues\nBo wrote this")
    result = notes.edit(ada, connection.public_id, talked_about="Ada's words",
                        talked_about_fingerprint=notes.fingerprint("Venues"))
    assert fired and result.conflict and result.their_text == "Venues\nBo wrote this"
    assert stored_line(connection) == "Venues\nBo wrote this"


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
    assert client.submit(f"/followup/{pid}", page="/followup", prefix=pid, data={
        f"{pid}-talked_about": "Ada's take", f"{pid}-talked_about_fingerprint": stale,
        f"{pid}-status": "to_follow_up"}).status_code == 302
    notes.edit(bo, pid, talked_about="Venues\nBo v2", talked_about_fingerprint=notes.fingerprint("Venues\nBo v1"))

    def save(words):
        html = client.get("/followup").get_data(as_text=True)
        assert 'data-code="edit_conflict"' in html and "Bo v2" in html
        shown = re.search(rf'name="{pid}-talked_about_fingerprint" type="hidden" value="([^"]*)"', html).group(1)
        client.submit(f"/followup/{pid}", page="/followup", prefix=pid, data={
            f"{pid}-talked_about": words, f"{pid}-talked_about_fingerprint": shown, f"{pid}-status": "to_follow_up"})
    save("Ada's take, after Bo v2")
    assert stored_line(connection) == "Ada's take, after Bo v2"
    assert 'data-code="edit_conflict"' not in client.get("/followup").get_data(as_text=True)
