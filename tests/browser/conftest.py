"""Browser-test fixtures: the real app served over HTTP on 127.0.0.1, and Debian's Chromium
driven by Playwright (sync API).

Each test gets its own server, database (the tests' `database_url`: a SQLite file under
tmp_path, or a fresh PostgreSQL database) and instance folder under tmp_path, so nothing
leaks between tests or into the instance/ folder `make run` uses. One Chromium process is
shared by the whole session (launching it is the slow part); every test opens its own
browser contexts, which share no cookies or storage.
"""
import threading
from dataclasses import dataclass
from datetime import datetime

import pytest
from playwright.sync_api import sync_playwright
from sqlalchemy import select
from werkzeug.serving import make_server

from kithmeet import create_app
from kithmeet.connections import notes
from kithmeet.connections import services as connections
from kithmeet.events import services as events
from kithmeet.events.models import DEFAULT_PROMPTS
from kithmeet.extensions import db
from kithmeet.organizer import services as organizers
from kithmeet.organizer.models import Organizer
from kithmeet.people import services as people
from kithmeet.people.profile import Profile

from .support import CHROMIUM, CHROMIUM_ARGS, ORGANIZER_EMAIL, ORGANIZER_PASSWORD


@pytest.fixture(autouse=True)
def _browser_marker_only(request):
    """Every test in this folder must carry @pytest.mark.browser, so `-m "not browser"` skips them all."""
    assert request.node.get_closest_marker("browser"), f"{request.node.nodeid} lacks @pytest.mark.browser"


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class LiveServer:
    app: object
    url: str

    def setup_code(self):
        """The first-run setup code, as `make run` would print it."""
        with self.app.app_context():
            return organizers.setup_code()


@pytest.fixture
def live_server(tmp_path, database_url):
    """The app on a random port of 127.0.0.1, with a fresh database and instance folder."""
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": database_url,
        "RATELIMIT_ENABLED": False,
        "SECRET_KEY": "browser-test-secret-key",
        # CSRF stays on: the browser posts the tokens the pages carry, as it would in production.
    }, instance_path=str(tmp_path / "instance"))
    with app.app_context():
        db.create_all()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app=app, url=f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def new_context(browser):
    """Open a fresh browser context (its own cookie jar: one person's phone).

    Every page of every context is watched: console errors (a CSP violation shows up as
    one) and uncaught script errors are collected in `new_context.errors`.
    """
    contexts = []
    errors = []

    def watch(page):
        page.on("console", lambda message: message.type == "error" and errors.append(
            f"{page.url}: console error: {message.text}"))
        page.on("pageerror", lambda error: errors.append(f"{page.url}: script error: {error}"))

    def open_context(**options):
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        context.on("page", watch)
        contexts.append(context)
        return context

    open_context.errors = errors
    yield open_context
    for context in contexts:
        context.close()


@pytest.fixture
def seed(live_server):
    """Build data straight through the services (fast), for tests that are not about making it.

    Returns plain values, never ORM objects: the browser talks to the server thread, and
    the test reads back through pages.
    """
    app = live_server.app

    class Seed:
        @staticmethod
        def organizer(email=ORGANIZER_EMAIL, password=ORGANIZER_PASSWORD):
            with app.app_context():
                organizers.create_organizer(email, password)
            return email, password

        @staticmethod
        def event(email=ORGANIZER_EMAIL, *, name="Thursday Gathering #12", venue="The Corner Café",
                  series="Thursday Gathering", prompts=DEFAULT_PROMPTS, status="open"):
            """An event of the organizer with `email` (made if missing); returns (public_id, join_code)."""
            with app.app_context():
                organizer = _organizer_by_email(email) or organizers.create_organizer(email, ORGANIZER_PASSWORD)
                event = events.create_event(organizer, name=name, starts_at=datetime(2026, 11, 26, 19, 0),
                                            venue=venue, prompts=prompts, series_name=series,
                                            description="Drinks, demos and people to meet.")
                if status == "open":
                    event = events.set_status(organizer, event.public_id, "open")
                return event.public_id, event.join_code

        @staticmethod
        def person(join_code, name, *, pronouns="", headline="", answers=(), contacts=None, shared=None):
            """Someone who joined the event; returns (badge token, personal sign-in path)."""
            with app.app_context():
                event = events.event_by_join_code(join_code)
                contacts = contacts or {}
                profile = Profile(name=name, pronouns=pronouns, headline=headline, contacts=contacts,
                                  shared=shared if shared is not None else {kind: True for kind in contacts},
                                  answers=tuple(zip(event.prompt_labels, answers)))
                person = people.join_event(event, profile)
                return person.badge_token, f"/signin/{people.issue_signin_secret(person)}"

        @staticmethod
        def signin_path(badge_token):
            """A new personal sign-in link for someone already seeded (each link works once)."""
            with app.app_context():
                return f"/signin/{people.issue_signin_secret(people.person_by_badge(badge_token))}"

        @staticmethod
        def connect(scanner_token, badge_token, *, talked_about="", private_note=""):
            """The owner of `scanner_token` scans `badge_token` and connects."""
            with app.app_context():
                connections.connect(people.person_by_badge(scanner_token), badge_token,
                                    talked_about=talked_about, private_note=private_note)

        @staticmethod
        def edit_talked_about(editor_token, other_token, text):
            """The owner of `editor_token` rewrites the shared line of their connection with `other_token`."""
            with app.app_context():
                editor, other = people.person_by_badge(editor_token), people.person_by_badge(other_token)
                connection = connections.connection_between(editor.id, other.id)
                seen = connections.encounters_of(connection)[0].talked_about
                notes.edit(editor, connection.public_id, talked_about=text,
                           talked_about_fingerprint=notes.fingerprint(seen))

        @staticmethod
        def guest(event_public_id, name, email):
            """An imported guest of the event's series, not yet claimed; returns their badge token."""
            from kithmeet.guests import services as guests
            from kithmeet.people.models import Person

            with app.app_context():
                from kithmeet.events.models import Event

                event = db.session.scalar(select(Event).where(Event.public_id == event_public_id))
                organizer = db.session.get(Organizer, event.series.organizer_id)
                pending = guests.upload(organizer, event.series.public_id, "guests.csv",
                                        f"Name,Email\n{name},{email}\n".encode())
                guests.run_import(organizer, pending.public_id, {"name": 0, "email": 1})
                return db.session.scalar(select(Person.badge_token).where(Person.email == email))

    return Seed


def _organizer_by_email(email):
    return db.session.scalar(select(Organizer).where(Organizer.email == email))
