"""A person's e-mail identity: the migration that fills it, and the identity services."""
import logging
from datetime import datetime

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from kithmeet.database import transaction
from kithmeet.errors import DomainError
from kithmeet.extensions import db
from kithmeet.people.identity import claim_email, normalize_email, person_by_email, set_email

from ..postgres import BOTH_DATABASES

PREVIOUS = "cfa047e649cc"
IDENTITY = "3a7e1d2c9b10"
NOW = datetime(2026, 11, 20, 19, 30)


def _stored_emails():
    """person id → email as the database holds it (not the session's identity map)."""
    return dict(db.session.execute(text("SELECT id, email FROM person")).all())


# ---------------------------------------------------------------- the migration

def _seed_previous_schema(connection):
    """A site as it looked at cfa047e649cc: an organizer, a series, an event, five attendees."""
    connection.execute(text(
        "INSERT INTO organizer (id, email, password_hash, created_at) "
        "VALUES (1, 'org@example.org', 'pbkdf2:sha256:1$x$y', :now)"), {"now": NOW})
    connection.execute(text(
        "INSERT INTO series (id, public_id, organizer_id, name, created_at) "
        "VALUES (1, 'SER1ES00', 1, 'Thursday Gathering', :now)"), {"now": NOW})
    connection.execute(text(
        "INSERT INTO event (id, public_id, join_code, series_id, name, starts_at, venue, description, "
        "status, created_at, opened_at, closed_at) VALUES (1, 'EVENT000', 'JOIN0000', 1, "
        "'Thursday Gathering', :now, 'The Corner Café', '', 'open', :now, :now, NULL)"), {"now": NOW})
    people = [(1, "Grace Hopper"), (2, "Ada Okafor"), (3, "Ada's team inbox"), (4, "Linus Berg"),
              (5, "Sam Reyes")]
    for person_id, name in people:
        connection.execute(text(
            "INSERT INTO person (id, badge_token, name, pronouns, headline, created_at, updated_at, "
            "session_generation) VALUES (:id, :token, :name, '', '', :now, :now, 1)"),
            {"id": person_id, "token": f"BADGE{person_id:04d}", "name": name, "now": NOW})
        connection.execute(text(
            "INSERT INTO check_in (event_id, person_id, created_at) VALUES (1, :id, :now)"),
            {"id": person_id, "now": NOW})
    contacts = [
        (1, "email", "  Grace.Hopper@Example.ORG "),  # unique, mixed case, stray spaces
        (2, "email", "ada@example.org"),  # shared with person 3 in another case: ambiguous
        (3, "email", "ADA@Example.org"),
        (3, "phone", "+44 20 7946 0000"),
        (4, "phone", "+44 20 7946 0001"),  # no e-mail at all
        (5, "email", "find me at the bar"),  # unique, but not an address
    ]
    for person_id, kind, value in contacts:
        connection.execute(text(
            "INSERT INTO contact_field (person_id, kind, value, shared) VALUES (:p, :k, :v, :s)"),
            {"p": person_id, "k": kind, "v": value, "s": True})


@BOTH_DATABASES
def test_migration_fills_the_identity_only_where_the_contact_email_is_unambiguous(tmp_path, database_url):
    from flask_migrate import downgrade, upgrade

    from kithmeet import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "k"},
                     instance_path=str(tmp_path / "instance"))
    with app.app_context():
        upgrade(revision=PREVIOUS)
        with db.engine.begin() as connection:
            _seed_previous_schema(connection)
            contacts_before = connection.execute(text(
                "SELECT person_id, kind, value, shared FROM contact_field ORDER BY id")).all()

        upgrade(revision=IDENTITY)
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == IDENTITY
            emails = dict(connection.execute(text("SELECT id, email FROM person")).all())
            assert emails == {1: "grace.hopper@example.org", 2: None, 3: None, 4: None, 5: None}
            # The contact fields (what connections see) and everything else stay as they were.
            assert connection.execute(text(
                "SELECT person_id, kind, value, shared FROM contact_field ORDER BY id")).all() == contacts_before
            assert connection.execute(text("SELECT count(*) FROM check_in")).scalar() == 5

        downgrade(revision=PREVIOUS)
        assert "email" not in {c["name"] for c in inspect(db.engine).get_columns("person")}
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == PREVIOUS
            assert connection.execute(text("SELECT count(*) FROM person")).scalar() == 5
            assert connection.execute(text(
                "SELECT person_id, kind, value, shared FROM contact_field ORDER BY id")).all() == contacts_before
            assert connection.execute(text("SELECT count(*) FROM check_in")).scalar() == 5
        db.engine.dispose()


# ---------------------------------------------------------------- the services

def test_normalize_email():
    assert normalize_email("  Ada.Okafor@Example.ORG \n") == "ada.okafor@example.org"
    assert normalize_email(None) == normalize_email("   ") == ""


def test_set_email_stores_the_normalised_form_and_looks_up_in_any_case(app, make_person):
    ada = make_person("Ada Okafor")
    set_email(ada, "  Ada.Okafor@Example.ORG ")
    assert _stored_emails()[ada.id] == "ada.okafor@example.org"
    assert person_by_email("ADA.OKAFOR@example.org").id == ada.id
    assert person_by_email(" ada.okafor@EXAMPLE.org ").id == ada.id
    assert person_by_email("grace@example.org") is None
    assert person_by_email("") is None and person_by_email(None) is None
    # Setting one's own address again, in another case, is not "taken".
    set_email(ada, "ADA.OKAFOR@EXAMPLE.ORG")
    assert _stored_emails()[ada.id] == "ada.okafor@example.org"


def test_the_contact_email_is_left_alone(app, make_person):
    ada = make_person("Ada Okafor", contacts={"email": "Ada@Work.example.org"}, shared={"email": False})
    set_email(ada, "ada@home.example.org")
    contact = db.session.execute(text("SELECT value, shared FROM contact_field WHERE kind = 'email'")).one()
    assert tuple(contact) == ("Ada@Work.example.org", False)


def test_another_persons_address_is_taken_in_any_case(app, make_event, make_person):
    event = make_event()
    ada, grace = make_person("Ada Okafor", event=event), make_person("Grace Hopper", event=event)
    set_email(ada, "ada@example.org")
    with pytest.raises(DomainError) as error:
        set_email(grace, "  ADA@Example.org")
    assert error.value.code == "email_taken"
    with pytest.raises(DomainError) as error:
        claim_email(grace, "Ada@example.org")
    assert error.value.code == "email_taken"
    assert _stored_emails() == {ada.id: "ada@example.org", grace.id: None}


def test_claim_email_works_in_the_callers_transaction_and_never_commits(app, make_person):
    ada = make_person("Ada Okafor")
    claim_email(ada, "Ada@example.org")
    db.session.rollback()  # the caller changed its mind: nothing of the claim remains
    assert _stored_emails()[ada.id] is None

    with transaction(conflict=DomainError("taken", "email_taken")):
        claim_email(ada, "Ada@example.org")
    assert _stored_emails()[ada.id] == "ada@example.org"


@pytest.mark.parametrize("bad", [
    "not-an-address", "ada@", "@example.org", "ada okafor@example.org", "ada@@example.org",
    "a" * 10 + "@" + ".".join(["b" * 60] * 4) + ".org",  # 259 characters: too long
])
def test_bad_email(app, make_person, bad):
    ada = make_person("Ada Okafor")
    set_email(ada, "ada@example.org")
    with pytest.raises(DomainError) as error:
        set_email(ada, bad)
    assert error.value.code == "bad_email"
    with pytest.raises(DomainError) as error:
        claim_email(ada, bad)
    assert error.value.code == "bad_email"
    db.session.commit()
    assert _stored_emails()[ada.id] == "ada@example.org"


def test_an_empty_address_clears_the_identity_and_frees_it(app, make_event, make_person):
    event = make_event()
    ada, grace = make_person("Ada Okafor", event=event), make_person("Grace Hopper", event=event)
    set_email(ada, "ada@example.org")
    set_email(ada, "   ")
    assert _stored_emails()[ada.id] is None
    assert person_by_email("ada@example.org") is None
    set_email(grace, "ADA@example.org")  # free again
    assert person_by_email("ada@example.org").id == grace.id
    set_email(grace, None)
    assert _stored_emails() == {ada.id: None, grace.id: None}  # many people without one: no clash


def test_a_failed_set_email_leaves_nothing_for_a_later_commit(app, make_event, make_person):
    event = make_event()
    ada, grace = make_person("Ada Okafor", event=event), make_person("Grace Hopper", event=event)
    set_email(ada, "ada@example.org")
    set_email(grace, "grace@example.org")
    for attempt, code in [("ADA@example.org", "email_taken"), ("grace@", "bad_email")]:
        with pytest.raises(DomainError) as error:
            set_email(grace, attempt)
        assert error.value.code == code
        db.session.commit()  # e.g. the next item of a batch commits
        assert _stored_emails() == {ada.id: "ada@example.org", grace.id: "grace@example.org"}


@BOTH_DATABASES
def test_a_claim_that_loses_a_race_is_email_taken_and_saves_nothing(app, make_event, make_person):
    """Another request claims the address between set_email's check and its write."""
    event = make_event()
    ada, grace = make_person("Ada Okafor", event=event), make_person("Grace Hopper", event=event)
    set_email(grace, "grace@example.org")
    ada_id, session = ada.id, db.session()

    def rival_claims_first(session, _context, _instances):
        if grace in session.dirty:
            with db.engine.begin() as other:
                other.execute(text("UPDATE person SET email = 'ada@example.org' WHERE id = :id"), {"id": ada_id})

    sa_event.listen(session, "before_flush", rival_claims_first)
    try:
        with pytest.raises(DomainError) as error:
            set_email(grace, "Ada@Example.org")
    finally:
        sa_event.remove(session, "before_flush", rival_claims_first)
    assert error.value.code == "email_taken"
    db.session.commit()
    assert _stored_emails() == {ada_id: "ada@example.org", grace.id: "grace@example.org"}


@BOTH_DATABASES
def test_the_unique_index_refuses_a_second_holder(app, make_event, make_person):
    event = make_event()
    ada, grace = make_person("Ada Okafor", event=event), make_person("Grace Hopper", event=event)
    ada.email = grace.email = "same@example.org"  # bypassing the services
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_nothing_personal_is_logged(app, make_person, caplog):
    ada = make_person("Ada Okafor")
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="kithmeet.changes"):
        set_email(ada, "Ada.Secret@example.org")
        set_email(ada, "")
    assert [r.getMessage() for r in caplog.records] == [f"person.email_set actor=person:{ada.id}",
                                                        f"person.email_cleared actor=person:{ada.id}"]
    assert "secret" not in caplog.text.lower() and "Ada" not in caplog.text
