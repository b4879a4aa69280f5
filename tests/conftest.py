"""Fixtures: a fresh app and database per test (SQLite, or PostgreSQL with
KITHMEET_TEST_DATABASE=postgresql), clients that post real CSRF tokens, and factories that
build organizers, events and people through the services."""
import os
import re
from contextlib import contextmanager
from datetime import datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event as sa_event

from kithmeet import create_app
from kithmeet.events import services as events
from kithmeet.events.models import DEFAULT_PROMPTS
from kithmeet.extensions import db
from kithmeet.organizer import services as organizers
from kithmeet.people import services as people
from kithmeet.people.profile import Profile

from .pages import badge_token, join
from .postgres import Server

CSRF = re.compile(r'name="(?:[\w-]+-)?csrf_token"[^>]*value="([^"]+)"')

# The database a test runs on unless it is parametrized (BOTH_DATABASES): `make test` runs
# the suite once on each.
DEFAULT_DATABASE = os.environ.get("KITHMEET_TEST_DATABASE", "sqlite")
if DEFAULT_DATABASE not in ("sqlite", "postgresql"):
    raise pytest.UsageError(f"KITHMEET_TEST_DATABASE={DEFAULT_DATABASE!r}: use sqlite or postgresql")

# Fixtures that run db.create_all() on the test's database: on PostgreSQL their tests get one
# that already has the tables (emptied after the test before). Any other test (one that runs
# the migrations) gets a new empty database.
MAKE_THE_SCHEMA = {"app", "live_server"}


def pytest_addoption(parser):
    parser.addoption("--database-tests-only", action="store_true",
                     help="run only the tests that KITHMEET_TEST_DATABASE changes: `make test`'s run "
                          "on PostgreSQL, after the run of every test on SQLite")


def pytest_collection_modifyitems(config, items):
    """With --database-tests-only, leave out the tests the default database does not reach: those
    without `database_url` (they run alike on any) and those parametrized over it (BOTH_DATABASES
    ran them on both already)."""
    if not config.getoption("--database-tests-only"):
        return
    reached, alike = [], []
    for item in items:
        parametrized = "database_url" in getattr(getattr(item, "callspec", None), "params", {})
        (reached if "database_url" in item.fixturenames and not parametrized else alike).append(item)
    config.hook.pytest_deselected(items=alike)
    items[:] = reached


@pytest.fixture
def app_config():
    """Override per test module to change settings before the app is built."""
    return {}


@pytest.fixture(scope="session")
def postgres():
    server = Server().start()
    yield server
    server.stop()


@pytest.fixture
def database_url(request, tmp_path):
    """DEFAULT_DATABASE; `@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"],
    indirect=True)` runs a test on both. A PostgreSQL database starts with no rows and never
    holds another test's (tests/postgres.py)."""
    if getattr(request, "param", DEFAULT_DATABASE) == "sqlite":
        yield f"sqlite:///{tmp_path / 'kithmeet-test.sqlite3'}"
        return
    server = request.getfixturevalue("postgres")
    if MAKE_THE_SCHEMA & set(request.fixturenames):
        url = server.schema_database()
        yield url
        server.give_back(url)
    else:
        url = server.new_database()
        yield url
        server.drop_database(url)


@pytest.fixture
def app(tmp_path, app_config, database_url):
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret-key",
        "RATELIMIT_ENABLED": False,
        **app_config,
    }
    app = create_app(config, instance_path=str(tmp_path / "instance"))
    app.test_client_class = FormClient
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.engine.dispose()


class FormClient(FlaskClient):
    """A test client that posts forms the way a browser does: with the page's CSRF token."""

    def open(self, *args, **kwargs):
        # Each request gets its own app context, as in production. Flask would otherwise reuse
        # the test's context, and `g` (the signed-in person, the CSRF token) would leak
        # between two clients of one test.
        with self.application.app_context():
            return super().open(*args, **kwargs)

    def csrf_token(self, page="/"):
        match = CSRF.search(self.get(page).get_data(as_text=True))
        assert match, f"no CSRF token on {page}"
        return match.group(1)

    def submit(self, url, data=None, page=None, prefix=None, **kwargs):
        token = self.csrf_token(page or url)
        field = f"{prefix}-csrf_token" if prefix else "csrf_token"
        return self.post(url, data={field: token, **(data or {})}, **kwargs)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_client(app):
    return lambda: app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_organizer(app):
    counter = iter(range(10_000))

    def make(email=None, password="a long enough password"):
        return organizers.create_organizer(email or f"organizer{next(counter)}@example.org", password)
    return make


@pytest.fixture
def make_event(app, make_organizer):
    def make(organizer=None, *, status="open", name="Thursday Gathering", prompts=DEFAULT_PROMPTS,
             series_name="Thursday Gathering"):
        organizer = organizer or make_organizer()
        event = events.create_event(organizer, name=name, starts_at=datetime(2026, 11, 26, 19, 0),
                                    venue="The Corner Café", prompts=prompts, series_name=series_name)
        for step in {"draft": (), "open": ("open",), "closed": ("open", "closed")}[status]:
            event = events.set_status(organizer, event.public_id, step)
        return event
    return make


@pytest.fixture
def make_person(app, make_event):
    def make(name="Ada Okafor", *, event=None, contacts=None, shared=None, answers=None, headline=""):
        event = event or make_event()
        profile = Profile(name=name, headline=headline, contacts=contacts or {},
                          shared=shared if shared is not None else {kind: True for kind in (contacts or {})},
                          answers=tuple(answers if answers is not None else [(event.prompt_labels[0], "Flask")]))
        return people.join_event(event, profile)
    return make


@pytest.fixture
def signed_in(app):
    """A FormClient signed in as `person` (through a real personal sign-in link)."""
    def sign_in(person):
        client = app.test_client()
        secret = people.issue_signin_secret(person)
        response = client.submit(f"/signin/{secret}")
        assert response.status_code == 302
        return client
    return sign_in


@pytest.fixture
def count_queries(app):
    @contextmanager
    def counting():
        statements = []

        def record(_conn, _cursor, statement, *_args):
            statements.append(statement)
        sa_event.listen(db.engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            sa_event.remove(db.engine, "before_cursor_execute", record)
    return counting


@pytest.fixture
def db_state(app):
    """A callable returning every table's committed rows, to compare before and after a change."""
    def take():
        with db.engine.connect() as connection:
            return {table.name: sorted((tuple(row) for row in connection.execute(table.select())), key=repr)
                    for table in db.metadata.sorted_tables}
    return take


@pytest.fixture
def two_attendees(make_event, make_client):
    """An open event that Ada and Bo joined in their own browsers; and Ada's badge token."""
    event = make_event()
    ada, bo = make_client(), make_client()
    join(ada, event, name="Ada")
    join(bo, event, name="Bo")
    return event, ada, bo, badge_token(ada)
