"""Measure the pages a meetup leans on; print a table. Not a test: numbers to read.

- SQL statements per follow-up page at 10, 100 and 300 connections (must not grow);
- time per follow-up page render, all rows on one page and at the default page size (also
  searched and sorted), and of one connection's page, as a ratio to a bare Flask route timed
  in the same run (targets: the list's first page under 50 ms, a connection page under 20 ms);
- gzip-compressed size of the badge, connect (scan) and follow-up pages plus their CSS and JS.

Run: make benchmark   (or .venv/bin/python benchmarks/pages.py)
"""
import gzip
import re
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import event as sa_event
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kithmeet import create_app  # noqa: E402
from kithmeet.config import Defaults  # noqa: E402
from kithmeet.connections import services as connections  # noqa: E402
from kithmeet.connections.models import Connection, ConnectionSide  # noqa: E402
from kithmeet.events import services as events  # noqa: E402
from kithmeet.extensions import db  # noqa: E402
from kithmeet.organizer import services as organizers  # noqa: E402
from kithmeet.people import services as people  # noqa: E402
from kithmeet.people.models import Person  # noqa: E402
from kithmeet.people.profile import Profile  # noqa: E402

SIZES = (10, 100, 300)
REPEAT = 15
DEFAULT_PAGE_SIZE = Defaults.FOLLOWUP_PAGE_SIZE


def build(tmp):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite3", "SECRET_KEY": "bench",
                      "RATELIMIT_ENABLED": False, "FOLLOWUP_PAGE_SIZE": 300, "CHANGELOG_LEVEL": "WARNING"},
                     instance_path=f"{tmp}/instance")

    @app.get("/__bare")
    def bare():
        return "ok"
    return app


def profile(name, i=0):
    return Profile(name=name, headline=f"Headline number {i}", contacts={"email": f"p{i}@example.org"},
                   shared={"email": True}, answers=(("Ask me about", f"Topic {i}"), ("I can help with", "Things")))


def seed(app):
    with app.app_context():
        db.create_all()
        organizer = organizers.create_organizer("bench@example.org", "benchmark password")
        event = events.create_event(organizer, name="Bench night", starts_at=datetime(2026, 11, 26, 19),
                                    prompts=("Ask me about", "I can help with"))
        events.set_status(organizer, event.public_id, "open")
        hosts = {}
        counter = 0
        for size in SIZES:
            host = people.join_event(event, profile(f"Host {size}", f"host{size}"))  # addresses are unique
            for _ in range(size):
                counter += 1
                other = people.join_event(event, profile(f"Guest {counter}", counter))
                connections.connect(other, host.badge_token, talked_about=f"Conversation {counter}",
                                    private_note="note")
            hosts[size] = host.id
        return hosts


def signed_in_client(app, person_id):
    """A client signed in through a fresh personal sign-in link (each link works once)."""
    with app.app_context():
        secret = people.issue_signin_secret(db.session.get(Person, person_id))
    client = app.test_client()
    page = client.get(f"/signin/{secret}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post(f"/signin/{secret}", data={"csrf_token": token})
    return client


def timed(client, path):
    samples = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        response = client.get(path)
        samples.append(time.perf_counter() - start)
        assert response.status_code == 200, (path, response.status_code)
    return statistics.median(samples)


def count_statements(app, client, path):
    statements = []
    with app.app_context():
        engine = db.engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    client.get(path)  # the first page after signing in also stores the session's new form token
    sa_event.listen(engine, "before_cursor_execute", listener)
    try:
        client.get(path)
    finally:
        sa_event.remove(engine, "before_cursor_execute", listener)
    return len(statements)


def body(client, path):
    """A response's bytes, closing it (static files are streamed from an open file)."""
    response = client.get(path)
    try:
        return response.data
    finally:
        response.close()


def gz(data):
    return len(gzip.compress(data, 6))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        app = build(tmp)
        hosts = seed(app)
        bare = timed(app.test_client(), "/__bare")
        print(f"bare route: {bare * 1000:.2f} ms (median of {REPEAT})")
        print(f"{'connections':>11} {'SQL/page':>8} {'ms/page':>8} {'x bare':>7} {'KB gz':>6}")
        for size in SIZES:
            client = signed_in_client(app, hosts[size])
            queries = count_statements(app, client, "/followup")
            seconds = timed(client, "/followup")
            size_kb = gz(client.get("/followup").data) / 1024
            print(f"{size:>11} {queries:>8} {seconds * 1000:>8.1f} {seconds / bare:>7.0f} {size_kb:>6.1f}")
        # What people get: the list in pages of the default size.
        app.config["FOLLOWUP_PAGE_SIZE"] = DEFAULT_PAGE_SIZE
        client = signed_in_client(app, hosts[SIZES[-1]])
        seconds = timed(client, "/followup")
        print(f"{SIZES[-1]} connections, first page of {DEFAULT_PAGE_SIZE}: {count_statements(app, client, '/followup')} "
              f"SQL, {seconds * 1000:.1f} ms ({seconds / bare:.0f} x bare), "
              f"{gz(client.get('/followup').data) / 1024:.1f} KB gz")
        # The same list searched, filtered and sorted (conditions on the same statements), and one
        # connection's page. Targets: the list's first page under 50 ms, a connection page under 20 ms.
        searched = "/followup?q=topic&status=to_follow_up&sort=untouched"
        seconds = timed(client, searched)
        print(f"{SIZES[-1]} connections, searched and sorted: {count_statements(app, client, searched)} SQL, "
              f"{seconds * 1000:.1f} ms ({seconds / bare:.0f} x bare)")
        with app.app_context():
            pid = db.session.scalar(select(Connection.public_id).join(
                ConnectionSide, ConnectionSide.connection_id == Connection.id)
                .where(ConnectionSide.person_id == hosts[SIZES[-1]]).limit(1))
        seconds = timed(client, f"/followup/{pid}")
        print(f"a connection's page: {count_statements(app, client, f'/followup/{pid}')} SQL, "
              f"{seconds * 1000:.1f} ms ({seconds / bare:.0f} x bare)")

        client = signed_in_client(app, hosts[SIZES[0]])
        badge = client.get("/badge")
        token = re.search(r"/badge/([A-Z0-9]+)\.svg", badge.get_data(as_text=True)).group(1)
        other = signed_in_client(app, hosts[SIZES[1]])
        assets = gz(body(client, "/static/css/app.css")) + gz(body(client, "/static/js/app.js"))
        svg = gz(client.get(f"/badge/{token}.svg").data)
        print("page sizes, gzip level 6 (HTML alone / with CSS+JS, and the QR image where shown):")
        for label, data, extra in (("badge", badge.data, svg), ("connect", other.get(f"/B/{token}").data, 0)):
            print(f"  {label:<8} {gz(data) / 1024:5.1f} KB HTML, {(gz(data) + assets + extra) / 1024:5.1f} KB in all")
        print(f"  css+js   {assets / 1024:5.1f} KB, badge QR svg {svg / 1024:.1f} KB")
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
