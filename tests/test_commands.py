"""flask --app app create-organizer | setup-code | demo, and the migrations."""
import re

from sqlalchemy import func, inspect, select

from kithmeet.connections.models import Connection
from kithmeet.extensions import db
from kithmeet.organizer import services as organizers
from kithmeet.organizer.models import Organizer
from kithmeet.people.models import Person

from .postgres import BOTH_DATABASES


def test_create_organizer(runner):
    result = runner.invoke(args=["create-organizer", "--email", "Org@Example.org", "--password", "long enough pw"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(Organizer.email)) == "org@example.org"
    again = runner.invoke(args=["create-organizer", "--email", "org@example.org", "--password", "long enough pw"])
    assert again.exit_code != 0 and "[organizer_exists]" in again.output
    short = runner.invoke(args=["create-organizer", "--email", "b@example.org", "--password", "short"])
    assert short.exit_code != 0 and "[weak_password]" in short.output


SETUP_CODE = re.compile(r"\b[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}\b")


def test_setup_code_is_printed_until_setup_is_done(runner, make_organizer):
    first = runner.invoke(args=["setup-code"])
    assert first.exit_code == 0 and SETUP_CODE.findall(first.output) == [organizers.setup_code()]
    make_organizer()
    done = runner.invoke(args=["setup-code"])
    assert done.exit_code == 0 and not SETUP_CODE.search(done.output)


def test_demo_seeds_attendees_with_working_sign_in_links(app, runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    links = re.findall(r"^\s+(.+?)\s+(http://127\.0\.0\.1:5000/signin/\S+)$", result.output, re.MULTILINE)
    assert len(links) >= 6
    assert "password" in result.output  # a demo organizer was made, since none existed
    assert db.session.scalar(select(func.count(Connection.id))) == 2
    name, link = links[0]
    client = app.test_client()
    path = link.removeprefix("http://127.0.0.1:5000")
    assert client.submit(path).location == "/badge"
    assert name in client.get("/badge").get_data(as_text=True)
    # Running it again reuses the same people and prints fresh links.
    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0 and db.session.scalar(select(func.count(Person.id))) == len(links)
    assert "password" not in again.output


@BOTH_DATABASES
def test_migrations_build_the_same_schema_as_the_models(tmp_path, database_url):
    from flask_migrate import upgrade

    from kithmeet import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "k"},
                     instance_path=str(tmp_path / "instance"))
    with app.app_context():
        upgrade()
        inspector = inspect(db.engine)
        tables = set(inspector.get_table_names()) - {"alembic_version"}
        assert tables == set(db.metadata.tables)
        for name, table in db.metadata.tables.items():
            assert {c["name"] for c in inspector.get_columns(name)} == set(table.columns.keys()), name
        from alembic.autogenerate import compare_metadata
        from alembic.migration import MigrationContext

        with db.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
        assert diff == []
        db.engine.dispose()


def test_demo_links_from_a_server_listening_everywhere_point_at_this_machine(runner, monkeypatch):
    monkeypatch.setenv("HOST", "0.0.0.0")
    monkeypatch.setenv("PORT", "8000")
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8000/signin/" in result.output and "0.0.0.0" not in result.output
