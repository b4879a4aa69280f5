"""The tests' PostgreSQL databases (tests/postgres.py): a schema database handed to the next
test holds nothing of the last one's, and one whose tables a test changed is never reused."""
import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from kithmeet import create_app
from kithmeet.extensions import db
from kithmeet.organizer import services as organizers


def served(url, tmp_path):
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "k", "TESTING": True},
                      instance_path=str(tmp_path / "instance"))


def test_a_schema_database_comes_back_empty_with_its_ids_restarted(postgres, tmp_path):
    url = postgres.schema_database()
    app = served(url, tmp_path)
    with app.app_context():
        first = organizers.create_organizer("first@example.org", "a long enough password").id
        left_open = db.engine.connect()  # a connection the test forgot, inside a transaction
        left_open.execute(text("SELECT id FROM organizer FOR UPDATE")).all()
        db.session.remove()
        postgres.give_back(url)
        assert postgres.schema_database() == url  # the same database, handed on
        left_open.invalidate()
        db.engine.dispose()
        for table in db.metadata.sorted_tables:
            assert db.session.scalar(text(f'SELECT count(*) FROM "{table.name}"')) == 0, table.name
        assert organizers.create_organizer("second@example.org", "a long enough password").id == first
        db.session.remove()
        db.engine.dispose()
    postgres.give_back(url)


def test_a_schema_database_whose_tables_changed_is_dropped(postgres):
    url = postgres.schema_database()
    name = make_url(url).database
    with psycopg.connect(host=postgres.socket_dir, port=postgres.port, user="kithmeet", dbname=name,
                         autocommit=True) as connection:
        connection.execute("ALTER TABLE organizer ADD COLUMN leftover integer")
    postgres.give_back(url)
    assert url not in postgres.emptied
    with postgres._admin() as admin:
        assert admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None
