"""Every state change logs one structured line of ids; no note, contact, name, token or
secret ever reaches the log. Organizer actions also land in the audit table."""
import logging
import re

import pytest

from kithmeet import changelog
from kithmeet.audit.models import AuditEntry
from kithmeet.extensions import db

TALKED = "Quantum sourdough fermentation"
PRIVATE = "Remember her cat is called Pixel"
EDITED = "Sourdough and quantum both need patience"
EMAIL, PHONE, SITE = "ada.secret@example.org", "+44 20 7946 0958", "https://ada-secret.example"


def join(client, event_code, name, **fields):
    data = {"name": name, "prompt_0": f"{name}'s hobby", **fields}
    assert client.submit(f"/J/{event_code}", data=data).status_code == 302


def test_a_full_loop_logs_ids_never_words(app, make_client, make_organizer, caplog):
    caplog.set_level(logging.DEBUG)
    organizer = make_client()
    make_organizer("org@example.org", "the right password")
    organizer.submit("/organizer/login", data={"email": "org@example.org", "password": "the right password"})
    created = organizer.submit("/organizer/events/new", data={
        "series": "Thursday Gathering", "name": "Week 47", "starts_at": "2026-11-26T19:00",
        "prompt_0": "Ask me about"})
    event_page = created.location
    organizer.submit(f"{event_page}/status", page=event_page, data={"status": "open"})
    code = re.search(r"/J/([A-Z0-9]+)", organizer.get(event_page).get_data(as_text=True)).group(1)

    ada, bo = make_client(), make_client()
    join(ada, code, "Ada Lovelace-Okafor", email=EMAIL, share_email="y", phone=PHONE, website=SITE)
    join(bo, code, "Bo Ng", headline="Secret headline words")
    token = re.search(r"/badge/([A-Z0-9]+)\.svg", ada.get("/badge").get_data(as_text=True)).group(1)
    assert bo.submit(f"/B/{token}", data={"talked_about": TALKED, "private_note": PRIVATE}).status_code == 302
    pid = re.search(r'id="c-([A-Z0-9]+)"', bo.get("/followup").get_data(as_text=True)).group(1)
    bo.submit(f"/followup/{pid}", page="/followup", prefix=pid, data={
        f"{pid}-talked_about": EDITED, f"{pid}-private_note": PRIVATE + " and dog", f"{pid}-status": "followed_up"})
    link_page = ada.submit("/badge/sign-in-link", page="/badge", follow_redirects=True).get_data(as_text=True)
    secret = re.search(r"/signin/([^\"<]+)", link_page).group(1)
    ada.submit("/badge/replace", page="/badge")
    new_token = re.search(r"/badge/([A-Z0-9]+)\.svg", ada.get("/badge").get_data(as_text=True)).group(1)
    organizer.submit(f"{event_page}/status", page=event_page, data={"status": "closed"})

    lines = [record for record in caplog.records if record.name == "kithmeet.changes"]
    actions = [record.getMessage().split(" ", 1)[0] for record in lines]
    for expected in ("organizer.signed_in", "event.created", "event.opened", "person.joined", "person.checked_in",
                     "connection.made", "connection.edited", "signin_link.issued", "badge.replaced",
                     "event.closed"):
        assert expected in actions, expected
    text = caplog.text + "\n".join(record.getMessage() for record in caplog.records)
    for secret_text in (TALKED, PRIVATE, EDITED, EMAIL, PHONE, SITE, "Ada Lovelace", "Secret headline", "hobby",
                        token, new_token, secret, "the right password", "org@example.org", code):
        assert secret_text not in text, secret_text
    # The organizer's actions are also in the audit table, and on the event page.
    assert [entry.action for entry in db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id))] == [
        "organizer.created", "organizer.signed_in", "event.created", "event.opened", "event.closed"]
    page = organizer.get(event_page).get_data(as_text=True)
    assert page.index("Event closed") < page.index("Event opened") < page.index("Event created")


@pytest.mark.parametrize("value", ["Ada Okafor", "ada@example.org", "K7QM4XTR9PA", "a note\nwith lines", 1.5,
                                   b"bytes", {"a": 1}])
def test_the_log_helper_refuses_anything_but_ids_and_words(value):
    with pytest.raises(TypeError):
        changelog.record("person.updated", "person:1", detail=value)


def test_the_log_line_is_structured(caplog):
    caplog.set_level(logging.INFO, logger="kithmeet.changes")
    changelog.record("connection.made", changelog.person(3), connection=9, event=2, people=(3, 4),
                     status="followed_up", conflict=False)
    assert caplog.records[-1].getMessage() == (
        "connection.made actor=person:3 conflict=False connection=9 event=2 people=3,4 status=followed_up")


def test_a_rolled_back_change_logs_nothing(make_event, make_person, caplog):
    from kithmeet import signals
    from kithmeet.connections import services as connections

    event = make_event()
    ada, bo = make_person("Ada", event=event), make_person("Bo", event=event)

    def refuse(_sender, **_ids):
        raise RuntimeError("a receiver failed after the change was logged")

    caplog.set_level(logging.INFO, logger="kithmeet.changes")
    caplog.clear()
    signals.connection_made.connect(refuse)
    try:
        with pytest.raises(RuntimeError):
            connections.connect(ada, bo.badge_token)
    finally:
        signals.connection_made.disconnect(refuse)
    assert [r for r in caplog.records if r.name == "kithmeet.changes"] == []
    connections.connect(ada, bo.badge_token)
    assert [r.getMessage().split()[0] for r in caplog.records if r.name == "kithmeet.changes"] == [
        "connection.made"]


def test_the_served_app_writes_change_lines_to_its_log(tmp_path):
    """Outside pytest's log capture, as gunicorn runs it: the lines reach stderr."""
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "from kithmeet import create_app\n"
        "from kithmeet.extensions import db\n"
        "from kithmeet.organizer import services\n"
        f"app = create_app({{'SQLALCHEMY_DATABASE_URI': 'sqlite:///{tmp_path}/log.sqlite3', 'SECRET_KEY': 'k'}},"
        f" instance_path='{tmp_path}/instance')\n"
        "with app.app_context():\n"
        "    db.create_all()\n"
        "    services.create_organizer('org@example.org', 'a long enough password')\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr
    assert "organizer.created actor=organizer:1" in done.stderr
    assert "org@example.org" not in done.stderr + done.stdout
