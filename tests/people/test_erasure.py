"""Delete my account: every trace of the person's text leaves every column and the database's
files, on SQLite and PostgreSQL; the people they met keep their own notes; every device's
sign-in ends; all or nothing."""
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import LargeBinary, String, func, select

from kithmeet import signals
from kithmeet.connections import notes
from kithmeet.connections import services as connections
from kithmeet.connections.models import Connection, ConnectionSide, Encounter, Scan
from kithmeet.database import transaction
from kithmeet.errors import DomainError
from kithmeet.events.models import CheckIn, SeriesRemoval
from kithmeet.extensions import db
from kithmeet.followup import drafts
from kithmeet.followup.models import EditDraft
from kithmeet.mail import services as mail
from kithmeet.mail.models import OutgoingMail
from kithmeet.people import email_signin, erasure, identity
from kithmeet.people import services as people
from kithmeet.people.models import Person, RevokedBadge
from kithmeet.people.profile import Profile
from kithmeet.reports import services as reports
from kithmeet.reports.models import Report
from kithmeet.sessions import WebSession

from ..pages import field_error, join
from ..postgres import BOTH_DATABASES

# Distinctive, so a hit can only be a leftover of this person (and the shared lines they were part of).
NAME = "Quillon Zembrowski 🦩"
IDENTITY = "quillon.zembrowski@example.org"
CONTACT_EMAIL = "qz-contact-4471@example.org"
PHONE = "+44 20 7946 4471"
WEBSITE = "https://zembrowski-4471.example.org"
HEADLINE = "Glassblower, zembrowski-headline-4471"
ANSWER = "Falconry; zembrowski-answer-4471"
PRIVATE_NOTE = "zembrowski-private-note-4471: lend Bo the kiln"
SHARED_LINE = "zembrowski-shared-line-4471 about kilns"
BO_SHARED_WORDS = "bo-shared-words-8812"  # Bo's words on a line both wrote: they go too
CY_SHARED_WORDS = "cy-shared-words-8812"
DRAFT = "zembrowski-draft-4471"
# Bo's own draft on their connection, quoting Ada: his, but it holds her words, so it goes too.
BO_DRAFT = "bo-draft-quoting-zembrowski-8812"
REPORT_FILED = "zembrowski-report-4471 kept following me"
REPORT_ABOUT = "cy-report-about-zembrowski-8812"
TRACES = [NAME, "Zembrowski", IDENTITY, CONTACT_EMAIL, PHONE, "zembrowski-4471.example.org", HEADLINE, ANSWER,
          PRIVATE_NOTE, SHARED_LINE, BO_SHARED_WORDS, CY_SHARED_WORDS, DRAFT, BO_DRAFT, REPORT_FILED, REPORT_ABOUT]
BO_NOTE = "bo-private-note-survives-8812"


@pytest.fixture
def world(make_organizer, make_event, make_person, signed_in):
    """Ada (the distinctive strings above) met Bo, Cy and Dee; Dee has deleted her account
    already; Ada filed a report and was reported, replaced her badge, left a draft, and was
    removed from a series; Bo left a draft quoting her. Returns a dict of people, the event and Ada's two signed-in devices."""
    organizer = make_organizer()
    event = make_event(organizer)
    ada = make_person(NAME, event=event, headline=HEADLINE, answers=[(event.prompt_labels[0], ANSWER)],
                      contacts={"email": CONTACT_EMAIL, "phone": PHONE, "website": WEBSITE})
    identity.set_email(ada, IDENTITY)
    bo, cy, dee = (make_person(name, event=event) for name in ("Bo", "Cy", "Dee"))
    with_bo, _ = connections.connect(ada, bo.badge_token, talked_about=SHARED_LINE, private_note=PRIVATE_NOTE)
    notes.edit(bo, with_bo.public_id, private_note=BO_NOTE, talked_about=f"{SHARED_LINE}\n{BO_SHARED_WORDS}",
               talked_about_fingerprint=notes.fingerprint(SHARED_LINE))
    # Ada saves over Bo's change from a stale page: her words wait as a draft.
    assert drafts.save_entry(ada, with_bo.public_id, talked_about=DRAFT,
                             talked_about_fingerprint=notes.fingerprint(SHARED_LINE)).conflict
    # So does Bo, from a page drawn before his own change: his draft quotes Ada's line.
    assert drafts.save_entry(bo, with_bo.public_id, talked_about=f"{SHARED_LINE}\n{BO_DRAFT}",
                             talked_about_fingerprint=notes.fingerprint(SHARED_LINE)).conflict
    connections.connect(cy, ada.badge_token, talked_about=CY_SHARED_WORDS)
    with_dee, _ = connections.connect(dee, ada.badge_token, talked_about="dee words")
    erasure.delete_account(dee, "DELETE")
    people.replace_badge(ada)
    # Reports and removals have no service in this domain: rows as the reports domain stores them.
    db.session.add_all([
        Report(series_id=event.series_id, event_id=event.id, reporter_id=ada.id, reported_id=cy.id, reason="other",
               details=REPORT_FILED),
        Report(series_id=event.series_id, event_id=event.id, reporter_id=cy.id, reported_id=ada.id, reason="spam",
               details=REPORT_ABOUT),
        SeriesRemoval(series_id=event.series_id, person_id=ada.id, organizer_id=organizer.id)])
    db.session.commit()
    return {"event_id": event.id, "ada": ada, "ada_id": ada.id, "bo_id": bo.id, "with_bo": with_bo.id,
            "with_dee": with_dee.id, "phone": signed_in(ada), "laptop": signed_in(ada)}


def text_hits(strings):
    """(table, column, string) for every string found in any text, string or binary column."""
    hits = []
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            columns = [column for column in table.columns if isinstance(column.type, (String, LargeBinary))]
            for row in connection.execute(select(*columns)) if columns else ():
                for column, value in zip(columns, row):
                    data = value if isinstance(value, bytes) else (value or "").encode()
                    hits += [(table.name, column.name, s) for s in strings if s.encode() in data]
    return hits


def database_bytes(request):
    """The database's files as they lie on disk once compacted: SQLite's main file and WAL after a
    checkpoint and VACUUM; PostgreSQL's files of this database (heap, TOAST, indexes, its
    catalogs) after VACUUM FULL and CHECKPOINT."""
    db.session.remove()
    url = db.engine.url
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if url.get_backend_name() == "sqlite":
            for statement in ("PRAGMA wal_checkpoint(TRUNCATE)", "VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)"):
                connection.exec_driver_sql(statement)
            files = [Path(url.database), Path(f"{url.database}-wal")]
        else:
            oid = connection.exec_driver_sql("SELECT oid FROM pg_database WHERE datname = current_database()").scalar()
            for statement in ("VACUUM FULL", "CHECKPOINT"):
                connection.exec_driver_sql(statement)
            folder = Path(request.getfixturevalue("postgres").data, "base", str(oid))
            files = sorted(folder.iterdir())
    data = b"".join(path.read_bytes() for path in files if path.is_file())
    assert len(data) > 10_000, "no database files read"
    return data


def sessions_signed_in_as(person_id):
    """How many stored sessions hold a sign-in of this person."""
    decode = current_app.session_interface.serializer.decode
    return sum(1 for data in db.session.scalars(select(WebSession.data))
               if (decode(data).get("person") or [None])[0] == person_id)


def count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@BOTH_DATABASES
def test_deleting_an_account_leaves_no_trace_in_any_column_or_database_file(world, request):
    before = database_bytes(request)
    assert {s for _, _, s in text_hits(TRACES)} == set(TRACES)  # the scan finds each of them while they exist
    assert [s for s in TRACES if s.encode() not in before] == []

    phone, laptop = world["phone"], world["laptop"]
    assert sessions_signed_in_as(world["ada_id"]) == 2
    response = phone.submit("/account/delete", data={"confirm": "delete"})
    assert response.status_code == 302 and response.location == "/"
    # This device's session is ended; the laptop's still names a person who no longer exists.
    assert sessions_signed_in_as(world["ada_id"]) == 1

    assert text_hits(TRACES) == []
    after = database_bytes(request)
    assert [s for s in TRACES if s.encode() in after] == []
    # Bo keeps his own note, and his entry keeps where they met, with Ada's end empty.
    assert BO_NOTE.encode() in after
    bo_side = db.session.scalar(select(ConnectionSide).where(ConnectionSide.connection_id == world["with_bo"]))
    assert (bo_side.person_id, bo_side.private_note) == (world["bo_id"], BO_NOTE)
    connection = db.session.get(Connection, world["with_bo"])
    assert world["ada_id"] not in (connection.person_a_id, connection.person_b_id)
    assert {connection.person_a_id, connection.person_b_id} == {None, world["bo_id"]}
    encounter = db.session.scalar(select(Encounter).where(Encounter.connection_id == world["with_bo"]))
    assert (encounter.event_id, encounter.talked_about) == (world["event_id"], "")
    # Dee had deleted her account already: nobody is left on that connection, so it is gone.
    assert db.session.get(Connection, world["with_dee"]) is None
    assert count(ConnectionSide) == 2 and count(Connection) == 2  # Bo's and Cy's entries
    assert count(EditDraft) == 0  # Bo's draft on their connection went with the shared line
    for model, column in ((Person, Person.id), (CheckIn, CheckIn.person_id), (Scan, Scan.scanner_id),
                          (Scan, Scan.scanned_id), (ConnectionSide, ConnectionSide.person_id),
                          (EditDraft, EditDraft.person_id), (Report, Report.reporter_id),
                          (Report, Report.reported_id), (SeriesRemoval, SeriesRemoval.person_id),
                          (RevokedBadge, RevokedBadge.person_id)):
        assert count(model, column == world["ada_id"]) == 0, model.__tablename__
    # Signed out on this device, and on every other one.
    for device in (phone, laptop):
        assert device.get("/badge").status_code == 302
        assert device.get("/account/my-data.json").status_code == 302


def test_a_flash_never_shown_keeps_no_name_of_a_deleted_person(make_organizer, make_event, make_person, signed_in,
                                                               app):
    """A flash waits in the stored session (kept up to a year) until a page shows it. The
    organizer's "removed" message, never shown, must not keep Ada's name once she deletes her
    account (docs/decisions.md); Bo's connect leaves no flash at all (its message rides on the
    redirect)."""
    organizer = make_organizer("org@example.org", "a long enough password")
    event = make_event(organizer)
    ada, bo = make_person(NAME, event=event), make_person("Bo", event=event)
    bo_client = signed_in(bo)
    connected = bo_client.submit(f"/B/{ada.badge_token}", data={"talked_about": "Kilns", "client_id": "flash-1"})
    assert connected.status_code == 302  # not followed: a flash would wait in Bo's session
    made = reports.report(bo, db.session.scalar(select(Connection.public_id)), reason="spam")
    desk = app.test_client()
    assert desk.submit("/organizer/login", data={"email": "org@example.org",
                                                 "password": "a long enough password"}).status_code == 302
    series = event.series.public_id
    removed = desk.submit(f"/organizer/reports/{made.public_id}/remove-person",
                          page=f"/organizer/series/{series}/reports")
    assert removed.status_code == 302  # not followed either
    decode = current_app.session_interface.serializer.decode
    waiting = [decode(data)["_flashes"] for data in db.session.scalars(select(WebSession.data))
               if "_flashes" in decode(data)]
    assert len(waiting) == 1, waiting  # the organizer's, unshown; none of Bo's connect

    assert signed_in(ada).submit("/account/delete", data={"confirm": "DELETE"}).status_code == 302
    stored = b"".join(db.session.scalars(select(WebSession.data)))
    assert [s for s in (NAME, "Zembrowski") if s.encode() in stored] == []


def rows(db_state):
    """Every table but web_session, which changes whenever a page is loaded (CSRF token, flashes)."""
    return {name: table for name, table in db_state().items() if name != "web_session"}


def test_the_confirmation_word_is_required_and_a_refusal_changes_nothing(world, db_state):
    before = rows(db_state)
    for typed in ("", "delet", "DELETE ME"):
        response = world["phone"].submit("/account/delete", data={"confirm": typed})
        assert response.status_code == 200
        assert field_error(response.get_data(as_text=True), "confirm") in ("required", "confirm_delete")
    with pytest.raises(DomainError) as error:
        erasure.delete_account(world["ada"], "yes")
    assert error.value.code == "confirm_delete"
    assert rows(db_state) == before
    assert world["phone"].get("/badge").status_code == 200


def test_the_delete_page_asks_first_and_a_get_deletes_nothing(world, db_state, client):
    before = rows(db_state)
    page = world["phone"].get("/account/delete")
    assert page.status_code == 200 and 'name="confirm"' in page.get_data(as_text=True)
    assert 'href="/account"' in world["phone"].get("/badge").get_data(as_text=True)
    assert rows(db_state) == before
    assert client.get("/account/delete").status_code == 302  # strangers are sent home


@pytest.mark.parametrize("where", ["a receiver of person_deleted", "after the rows are deleted"])
def test_a_failure_inside_the_deletion_leaves_everything(world, db_state, app, monkeypatch, where):
    """One transaction: a failure at the start or at the very end rolls the whole deletion back."""
    before = rows(db_state)

    def refuse(*_args, **_ids):
        raise DomainError("Not now.", "refused")
    if where == "after the rows are deleted":
        monkeypatch.setattr(erasure.changelog, "record", refuse)
    else:
        signals.person_deleted.connect(refuse, sender=app)
    try:
        with pytest.raises(DomainError):
            erasure.delete_account(world["ada"], "DELETE")
    finally:
        signals.person_deleted.disconnect(refuse, sender=app)
    db.session.commit()  # as a later caller would: nothing is left half-done to save
    assert rows(db_state) == before


def test_person_deleted_is_sent_once_inside_the_transaction_while_the_person_still_exists(world, app):
    heard = []

    def listen(sender, **ids):
        heard.append((ids, db.session.get(Person, ids["person_id"]) is not None))
    signals.person_deleted.connect(listen, sender=app)
    try:
        erasure.delete_account(world["ada"], "DELETE")
    finally:
        signals.person_deleted.disconnect(listen, sender=app)
    assert heard == [({"person_id": world["ada_id"]}, True)]


def test_a_later_person_never_inherits_a_deleted_persons_sign_in(make_event, make_client, signed_in):
    """SQLite gives a new row the highest id plus one: the next person to join may get the
    deleted person's id. Sign-ins made by the deleted person must not sign anyone in as them."""
    event = make_event()
    ada = people.join_event(event, Profile(name="Ada"))
    ada_id, laptop = ada.id, signed_in(ada)
    erasure.delete_account(ada, "DELETE")
    newcomer = make_client()
    join(newcomer, event, name="Newcomer")
    assert laptop.get("/badge").status_code == 302
    assert "Newcomer" not in laptop.get("/account/my-data.json").get_data(as_text=True)
    assert db.session.scalar(select(Person.id).where(Person.name == "Newcomer")) in (ada_id, ada_id + 1)


def test_deleting_takes_the_same_statements_however_many_connections(make_event, make_person, count_queries):
    event = make_event()

    def erase_with(connection_count):
        person = make_person("Host", event=event)
        for i in range(connection_count):
            other = make_person(f"Guest {i}", event=event)
            connections.connect(other, person.badge_token, talked_about=f"words {i}", private_note=f"note {i}")
        with count_queries() as statements:
            erasure.delete_account(person, "DELETE")
        return len(statements)

    assert erase_with(1) == erase_with(15)



def queued_to():
    db.session.expire_all()
    return sorted(db.session.scalars(select(OutgoingMail.to_address).where(OutgoingMail.status == "queued")))


@BOTH_DATABASES
def test_deleting_an_account_deletes_the_mail_still_queued_to_it_and_no_one_elses(world, app, make_person):
    """A sign-in link waiting in the queue holds the secret and the address, a digest the names
    and lines it quotes: they go with the account, in its transaction. So does a link sent to
    an address Ada has since given up, unless someone else's identity is that address now."""
    app.config["PUBLIC_URL"] = "https://meet.example.org"  # sign-in links are absolute
    ada, bo = world["ada"], db.session.get(Person, world["bo_id"])
    identity.set_email(ada, "quillon.old@example.org")
    email_signin.request_link("quillon.old@example.org")
    identity.set_email(ada, "given.up@example.org")
    email_signin.request_link("given.up@example.org")
    identity.set_email(ada, IDENTITY)
    identity.set_email(bo, "given.up@example.org")  # Bo took the address Ada gave up
    email_signin.request_link(IDENTITY)
    email_signin.request_link("given.up@example.org")
    identity.set_email(make_person("Cy Other"), "cy@example.org")
    with transaction():
        mail.queue(IDENTITY, "Who you met at the night", f"You met Bo. {SHARED_LINE}")
        mail.queue("cy@example.org", "Who you met at the night", f"You met {NAME}.")
    assert queued_to() == ["cy@example.org", "given.up@example.org", "given.up@example.org",
                           "quillon.old@example.org", IDENTITY, IDENTITY]

    erasure.delete_account(ada, "DELETE")
    # Cy's digest stays (it quotes Ada, but was written before: it still goes, emptied once
    # sent); so does Ada's link to the address Bo holds now, which cannot be told from his.
    assert queued_to() == ["cy@example.org", "given.up@example.org", "given.up@example.org"]


def test_deleting_takes_the_same_statements_however_much_mail_is_queued(make_event, make_person, count_queries):
    event = make_event()

    def erase_with(messages):
        people = [make_person(f"Host {messages}-{n}", event=event) for n in range(2)]
        for n, person in enumerate(people):
            identity.set_email(person, f"host-{messages}-{n}@example.org")
        with transaction():
            for n in range(messages):
                mail.queue(f"host-{messages}-{n % 2}@example.org", "Hello", "Text")
        with count_queries() as statements, transaction():
            erasure.erase([person.id for person in people], actor="system")
        assert db.session.scalar(select(func.count(OutgoingMail.id)).where(
            OutgoingMail.to_address.like(f"host-{messages}-%"))) == 0
        return len(statements)

    assert erase_with(1) == erase_with(15)
