"""Reports at the service: who may report whom, which organizers hear it, and what those
organizers (and only they) can do about it, down to removing a person from their series."""
from datetime import datetime

import pytest
from sqlalchemy import func, select

from kithmeet.audit.models import AuditEntry
from kithmeet.connections import services as connections
from kithmeet.errors import DomainError
from kithmeet.events import services as events
from kithmeet.events.models import CheckIn, SeriesRemoval
from kithmeet.extensions import db
from kithmeet.people import services as people
from kithmeet.people.profile import Profile
from kithmeet.reports import services as reports
from kithmeet.reports.models import Report

from ..postgres import BOTH_DATABASES


def test_a_report_goes_to_the_series_of_the_latest_event_the_two_met_at(make_organizer, make_event, make_person):
    first, second = make_organizer(), make_organizer()
    week1 = make_event(first, name="Week 1", series_name="Thursday Gathering")
    ada, bo = make_person("Ada", event=week1), make_person("Bo", event=week1)
    connection, _ = connections.connect(ada, bo.badge_token)
    events.set_status(first, week1.public_id, "closed")
    summit = make_event(second, name="Summit", series_name="Career Summit")
    for person in (ada, bo):
        people.join_event(summit, Profile(name=person.name), person=person)
    connections.connect(bo, ada.badge_token)  # met again, at the other organizer's event
    made = reports.report(ada, connection.public_id, reason="harassment", details="  Kept messaging me.\r\nTwice.  ")
    assert (made.series_id, made.event_id) == (summit.series_id, summit.id)
    assert (made.reporter_id, made.reported_id, made.reason, made.details) == (ada.id, bo.id, "harassment",
                                                                             "Kept messaging me.\nTwice.")
    _, first_reports, _ = reports.for_series(first, week1.series.public_id)
    _, second_reports, _ = reports.for_series(second, summit.series.public_id)
    assert (first_reports, [r.id for r in second_reports]) == ([], [made.id])


@pytest.mark.parametrize("reason,details,code", [
    ("rude", "", "bad_reason"), ("", "", "bad_reason"), ("spam", "x" * 2001, "too_long"),
    ("other", "hidden\u202eoverride", "control_characters")])
def test_a_bad_report_is_refused_and_saves_nothing(meetup, db_state, reason, details, code):
    _, _, ada, _, connection = meetup
    before = db_state()
    with pytest.raises(DomainError) as error:
        reports.report(ada, connection.public_id, reason=reason, details=details)
    assert error.value.code == code
    db.session.commit()
    assert db_state() == before
    assert reports.report(ada, connection.public_id, reason="spam", details="x" * 2000).details == "x" * 2000


def test_only_someone_in_the_connection_can_report_through_it(meetup, make_person, db_state):
    _, event, _, _, connection = meetup
    cy = make_person("Cy", event=event)
    with pytest.raises(DomainError) as error:
        reports.report(cy, connection.public_id, reason="spam")
    assert (error.value.code, error.value.status) == ("unknown_connection", 404)


def test_organizers_see_their_own_series_reports_newest_first(meetup, make_organizer, make_person):
    organizer, event, ada, bo, connection = meetup
    cy = make_person("Cy", event=event)
    to_cy, _ = connections.connect(cy, ada.badge_token)
    older = reports.report(ada, connection.public_id, reason="spam")
    newer = reports.report(cy, to_cy.public_id, reason="other", details="Odd questions")
    series, listed, removed = reports.for_series(organizer, event.series.public_id)
    assert series.id == event.series_id and [r.id for r in listed] == [newer.id, older.id] and removed == set()
    assert (listed[0].reporter.name, listed[0].reported.name, listed[0].event.name) == ("Cy", "Ada", event.name)
    stranger = make_organizer()
    for call in (lambda: reports.for_series(stranger, event.series.public_id),
                 lambda: reports.resolve(stranger, older.public_id),
                 lambda: reports.remove_reported(stranger, older.public_id)):
        with pytest.raises(DomainError) as error:
            call()
        assert error.value.status == 404 and error.value.code in ("unknown_series", "unknown_report")
    db.session.expire_all()
    assert db.session.get(Report, older.id).resolved_at is None
    assert db.session.scalar(select(func.count(SeriesRemoval.id))) == 0


def test_resolving_is_once_and_audited_with_the_series(meetup):
    organizer, event, ada, _, connection = meetup
    made = reports.report(ada, connection.public_id, reason="spam")
    reports.resolve(organizer, made.public_id)
    first = made.resolved_at
    reports.resolve(organizer, made.public_id)
    assert first is not None and made.resolved_at == first and made.resolved_by_id == organizer.id
    audited = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "report.resolved")).all()
    assert [(entry.organizer_id, entry.series_id) for entry in audited] == [(organizer.id, event.series_id)]


@BOTH_DATABASES
def test_removing_a_person_from_a_series(make_organizer, make_event, make_person, db_state):
    organizer, other_organizer = make_organizer(), make_organizer()
    past = make_event(organizer, name="Week 1")
    bo = make_person("Bo", event=past)
    ada = make_person("Ada", event=past)
    connections.connect(ada, bo.badge_token, client_id="week-1-scan")
    events.set_status(organizer, past.public_id, "closed")
    now = make_event(organizer, name="Week 2")
    draft = make_event(organizer, name="Week 3", status="draft")
    elsewhere = make_event(other_organizer, name="Elsewhere", series_name="Other series")
    for event in (now, elsewhere):
        people.join_event(event, Profile(name="Bo"), person=bo)
    people.join_event(now, Profile(name="Ada"), person=ada)
    connection = connections.connection_between(ada.id, bo.id)
    made = reports.report(ada, connection.public_id, reason="harassment")

    _, removed = reports.remove_reported(organizer, made.public_id)
    assert removed and not reports.remove_reported(organizer, made.public_id)[1]  # a repeat changes nothing
    checked_in = set(db.session.scalars(select(CheckIn.event_id).where(CheckIn.person_id == bo.id)))
    assert checked_in == {past.id, elsewhere.id}  # the closed event keeps its history; other series untouched
    audited = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "person.removed_from_series")).all()
    assert [(entry.organizer_id, entry.series_id) for entry in audited] == [(organizer.id, now.series_id)]
    assert reports.for_series(organizer, now.series.public_id)[2] == {bo.id}

    before = db_state()
    for call in (lambda: people.join_event(now, Profile(name="Bo"), person=bo),
                 lambda: events.check_in(bo.id, now)):
        with pytest.raises(DomainError) as error:
            call()
        assert error.value.code == "removed_from_series"
        db.session.rollback()
    with pytest.raises(DomainError) as error:
        people.join_event(draft, Profile(name="Bo"), person=bo)
    assert error.value.code == "event_not_open"  # a draft says so first; opening it, the removal holds
    db.session.commit()
    assert db_state() == before
    # Elsewhere Bo is welcome: another organizer's series.
    people.join_event(elsewhere, Profile(name="Bo"), person=bo)


def test_a_removed_persons_scans_at_that_series_are_refused(meetup, db_state):
    organizer, event, ada, bo, connection = meetup
    made = reports.report(ada, connection.public_id, reason="harassment")
    connections.connect(bo, ada.badge_token, client_id="bo-scan-1")
    reports.remove_reported(organizer, made.public_id)
    # A check-in that slipped past (or a scan made before the removal and synced later): still refused.
    db.session.add(CheckIn(event_id=event.id, person_id=bo.id, created_at=datetime(2026, 11, 26, 20, 0)))
    db.session.commit()
    before = db_state()
    for client_id in (None, "bo-scan-1"):
        with pytest.raises(DomainError) as error:
            connections.connect(bo, ada.badge_token, talked_about="still here", client_id=client_id)
        assert error.value.code == "removed_from_series"
        db.session.commit()
        assert db_state() == before
