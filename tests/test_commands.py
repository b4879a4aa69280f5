"""flask --app app create-organizer | setup-code | demo | purge | send-mail, and the migrations."""
import os
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


def test_demo_refuses_a_site_with_a_real_organizer_unless_forced(app, runner, make_organizer):
    from kithmeet.events.models import Series, SeriesMember

    real = make_organizer("real@example.org")
    refused = runner.invoke(args=["demo"])
    assert refused.exit_code != 0 and "[real_organizer]" in refused.output
    assert db.session.scalar(select(func.count(Person.id))) == 0
    assert db.session.scalar(select(func.count(Series.id))) == 0
    assert db.session.scalar(select(func.count(Organizer.id))) == 1  # no demo organizer either
    forced = runner.invoke(args=["demo", "--force"])
    assert forced.exit_code == 0, forced.output
    assert "password" not in forced.output  # the real organizer runs the demo series
    assert db.session.scalar(select(func.count(Person.id)).where(Person.is_demo.is_(False))) == 0
    assert db.session.scalar(select(SeriesMember.role).where(SeriesMember.organizer_id == real.id)) == "owner"


def test_demo_remove_takes_out_the_demo_and_leaves_real_people(app, runner, make_person):
    from kithmeet.connections import services as connections
    from kithmeet.events.models import Event, Series

    assert runner.invoke(args=["demo"]).exit_code == 0
    event = db.session.scalar(select(Event))
    demo_person = db.session.scalar(select(Person).where(Person.is_demo.is_(True)).limit(1))
    real = make_person("Real Person", event=event)  # someone real tried the demo night
    assert not real.is_demo
    connections.connect(real, demo_person.badge_token)
    result = runner.invoke(args=["demo", "--remove"])
    assert result.exit_code == 0, result.output
    assert "Removed 6 demo people and 1 demo series" in result.output
    db.session.expire_all()
    assert db.session.scalars(select(Person.name)).all() == ["Real Person"]
    assert db.session.scalar(select(func.count(Series.id))) == 0
    assert db.session.scalar(select(func.count(Organizer.id))) == 0  # the demo organizer made for it
    # The real person keeps their entry for someone whose account is gone, as after any deletion.
    connection = db.session.scalar(select(Connection))
    assert connection is not None and None in (connection.person_a_id, connection.person_b_id)
    # And the demo can be seeded again.
    assert runner.invoke(args=["demo"]).exit_code == 0


def test_reset_password_prints_a_one_time_link_for_an_hour(app, runner, make_organizer):
    import hashlib

    from werkzeug.security import check_password_hash

    organizer = make_organizer("org@example.org", "the old password")
    result = runner.invoke(args=["reset-password", "ORG@example.org"])
    assert result.exit_code == 0, result.output
    link = re.search(r"http://127\.0\.0\.1:5000(/organizer/reset/(\S+))$", result.output, re.MULTILINE)
    path, secret = link.group(1), link.group(2)
    db.session.expire_all()
    stored = db.session.get(Organizer, organizer.id)
    assert stored.reset_secret_hash == hashlib.sha256(secret.encode()).hexdigest()  # the secret itself is not kept
    client = app.test_client()
    assert client.get(path).status_code == 200
    assert client.submit(path, data={"password": "the new password", "confirm_password": "the new password"}
                         ).location == "/organizer/login"
    db.session.expire_all()
    assert check_password_hash(db.session.get(Organizer, organizer.id).password_hash, "the new password")
    assert client.get(path).status_code == 404  # once
    unknown = runner.invoke(args=["reset-password", "nobody@example.org"])
    assert unknown.exit_code != 0 and "[unknown_organizer]" in unknown.output


def test_reset_password_can_turn_two_factor_off_for_a_lost_phone(app, runner, make_organizer):
    import pyotp

    from kithmeet.audit.models import AuditEntry
    from kithmeet.organizer import twofactor
    from kithmeet.organizer.models import RecoveryCode

    organizer = make_organizer("org@example.org", "the old password")
    twofactor.start(organizer)
    twofactor.turn_on(organizer, "the old password", pyotp.TOTP(organizer.totp_secret).now())
    generation = db.session.get(Organizer, organizer.id).session_generation
    assert runner.invoke(args=["reset-password", "org@example.org"]).exit_code == 0
    assert twofactor.is_on(db.session.get(Organizer, organizer.id))  # a reset alone leaves the code asked for
    result = runner.invoke(args=["reset-password", "org@example.org", "--two-factor-off"])
    assert result.exit_code == 0 and "/organizer/reset/" in result.output, result.output
    db.session.expire_all()
    stored = db.session.get(Organizer, organizer.id)
    assert not twofactor.is_on(stored) and stored.totp_secret is None
    assert stored.session_generation == generation + 1  # every sign-in ended
    assert db.session.scalar(select(func.count(RecoveryCode.id))) == 0
    assert db.session.scalar(select(AuditEntry.action).order_by(AuditEntry.id.desc()).limit(1)) in (
        "organizer.reset_issued", "organizer.two_factor_off")
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(
        AuditEntry.action == "organizer.two_factor_off")) == 1
    again = runner.invoke(args=["reset-password", "org@example.org", "--two-factor-off"])
    assert again.exit_code != 0 and "[two_factor_off]" in again.output


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


@BOTH_DATABASES
def test_migrations_downgrade_past_a_deleted_account_and_upgrade_again(tmp_path, database_url):
    """A connection left with one person cannot return to NOT NULL columns: the downgrade deletes
    it with its sides, encounters, scans and drafts, so nothing is left pointing at it (SQLite
    migrates with foreign keys off, and env.py checks them afterwards)."""
    from datetime import datetime

    from flask_migrate import downgrade, upgrade
    from sqlalchemy import delete, text

    from kithmeet import create_app
    from kithmeet.connections import services as connections
    from kithmeet.database import transaction
    from kithmeet.events import services as events
    from kithmeet.followup import drafts
    from kithmeet.people import services as people
    from kithmeet.people.profile import Profile

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "k"},
                     instance_path=str(tmp_path / "instance"))
    with app.app_context():
        upgrade()
        organizer = organizers.create_organizer("org@example.org", "a long enough password")
        event = events.create_event(organizer, name="Week 1", starts_at=datetime(2026, 11, 26, 19, 0), venue="",
                                    prompts=["Ask me about"], series_name="Meetup")
        events.set_status(organizer, event.public_id, "open")
        ada, bo, cy = (people.join_event(event, Profile(name=name, answers=(("Ask me about", "Kilns"),)))
                       for name in ("Ada", "Bo", "Cy"))
        gone, _ = connections.connect(bo, ada.badge_token, talked_about="Kilns")
        kept, _ = connections.connect(bo, cy.badge_token, talked_about="Bikes")
        with transaction():
            drafts.remember(bo.id, gone.id, "Bo's unsaved words")
        gone_id, kept_id = gone.id, kept.id
        # Ada's row goes as account deletion takes it: her side and scans with it, her end set NULL.
        db.session.execute(delete(Person).where(Person.id == ada.id))
        db.session.commit()
        db.session.remove()

        downgrade(revision="b7d3e9f0a412")
        with db.engine.connect() as connection:
            def ids(sql):
                return sorted(connection.execute(text(sql)).scalars())
            assert ids("SELECT id FROM connection") == [kept_id]
            for table in ("connection_side", "encounter", "scan", "edit_draft"):
                assert gone_id not in ids(f"SELECT connection_id FROM {table}"), table
            assert ids("SELECT connection_id FROM connection_side") == [kept_id, kept_id]  # Bo and Cy keep theirs
        upgrade()
        db.engine.dispose()


def test_demo_links_from_a_server_listening_everywhere_point_at_this_machine(runner, monkeypatch):
    monkeypatch.setenv("HOST", "0.0.0.0")
    monkeypatch.setenv("PORT", "8000")
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8000/signin/" in result.output and "0.0.0.0" not in result.output


def test_purge_deletes_expired_attendees_and_prints_counts_never_names(app, runner, make_event, make_person,
                                                                     monkeypatch):
    from datetime import datetime

    from kithmeet import database
    from kithmeet.connections import services as connections
    from kithmeet.sessions import WebSession

    event = make_event()  # starts 26 November 2026, 19:00; its series keeps data for 12 months
    ada, bo = make_person("Ada Okafor", event=event), make_person("Bo Ångström", event=event)
    connections.connect(ada, bo.badge_token)
    db.session.add(WebSession(id_hash="0" * 64, data=b"", expires_at=datetime(2020, 1, 1)))
    db.session.commit()

    def run(*args, at):
        monkeypatch.setattr(database, "utcnow", lambda: at)
        result = runner.invoke(args=["purge", *args])
        assert result.exit_code == 0, result.output
        assert "Ada" not in result.output and "Bo" not in result.output
        return result.output

    assert run(at=datetime(2027, 11, 26, 19, 0)) == ("Removed 0 people, their side of 0 connections and 0 "
                                                     "check-ins.\nRemoved 0 sent or failed e-mails older than "
                                                     "30 days.\nRemoved 0 guest-list uploads never imported.\n"
                                                     "Removed 1 expired sessions.\n")
    assert db.session.scalar(select(func.count(Person.id))) == 2
    assert run("--dry-run", at=datetime(2027, 11, 27)) == \
        "Would remove 2 people, their side of 1 connections and 2 check-ins.\n" \
        "Would remove 0 sent or failed e-mails older than 30 days.\n" \
        "Would remove 0 guest-list uploads never imported.\n"
    assert db.session.scalar(select(func.count(Person.id))) == 2
    assert run(at=datetime(2027, 11, 27)).startswith("Removed 2 people, their side of 1 connections and 2 check-ins.")
    assert db.session.scalar(select(func.count(Person.id))) == 0
    assert db.session.scalar(select(func.count(Connection.id))) == 0


def test_purge_deletes_old_sent_mail_and_prints_a_count_never_an_address(app, runner, monkeypatch):
    from datetime import datetime, timedelta

    from kithmeet import database
    from kithmeet.database import transaction
    from kithmeet.mail import services as mail
    from kithmeet.mail import worker
    from kithmeet.mail.models import OutgoingMail

    sent_at = datetime(2026, 11, 26, 21, 0)
    with transaction():
        for n in range(3):
            mail.queue(f"person{n}@example.org", "Hello", "Text").next_attempt_at = sent_at
    assert worker.send_due(now=sent_at).sent == 3  # no MAIL_SERVER: the outbox
    with transaction():
        mail.queue("waiting@example.org", "Hello", "Text")

    def run(*args, at):
        monkeypatch.setattr(database, "utcnow", lambda: at)
        result = runner.invoke(args=["purge", *args])
        assert result.exit_code == 0, result.output
        assert "example.org" not in result.output and "…" not in result.output
        return result.output

    assert "Removed 0 sent or failed e-mails older than 30 days." in run(at=sent_at + timedelta(days=30))
    later = sent_at + timedelta(days=30, seconds=1)
    assert "Would remove 3 sent or failed e-mails older than 30 days." in run("--dry-run", at=later)
    assert db.session.scalar(select(func.count(OutgoingMail.id))) == 4
    assert "Removed 3 sent or failed e-mails older than 30 days." in run(at=later)
    db.session.remove()
    assert db.session.scalars(select(OutgoingMail.status)).all() == ["queued"]


def test_send_mail_sends_what_is_due_once_and_prints_counts(app, runner):
    import socket

    from kithmeet.database import transaction
    from kithmeet.mail import services as mail

    with transaction():
        for n in range(3):
            mail.queue(f"person{n}@example.org", "Hello", "Text")
    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 0, result.output
    assert "Sent 3 messages; 0 will be retried; 0 failed for good." in result.output
    assert len(os.listdir(os.path.join(app.instance_path, "outbox"))) == 3  # no MAIL_SERVER: the outbox

    with transaction():
        mail.queue("person9@example.org", "Hello", "Text")
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=probe.getsockname()[1])
    result = runner.invoke(args=["send-mail"])
    assert "Sent 0 messages; 1 will be retried; 0 failed for good." in result.output
