"""Reports: an attendee tells the organizers of the series where they met someone about that
person's conduct. Only that series' organizers read a report; they mark it resolved and may
remove the person from the series (events.services.remove_from_series). Authorization is
checked here: another organizer's report or series does not exist for them."""
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from .. import changelog
from ..audit import services as audit
from ..connections import notes
from ..connections.models import Encounter
from ..database import transaction, utcnow
from ..errors import DomainError, NotFound
from ..events import services as events
from ..events import access
from ..events.models import Event
from ..events.series import series_for_organizer
from ..extensions import db
from ..formtools import hidden_characters
from ..people.models import Person
from .models import REASONS, Report

MAX_DETAILS = 2000


@dataclass
class Target:
    """Whom a report from this connection would be about, and whose organizers would read it."""
    connection_public_id: str
    person: Person
    event: Event


def target(reporter, connection_public_id):
    """The other person of one of the reporter's connections and the latest event they met at.

    Raises NotFound unknown_connection (not the reporter's); DomainError account_deleted,
    no_event (every event they met at was deleted).
    """
    connection = notes.own_side(reporter, connection_public_id).connection
    other_id = connection.other_id(reporter.id)
    if other_id is None:
        raise DomainError("That person deleted their account; there is no one left to report.", "account_deleted")
    event = db.session.scalar(
        select(Event).join(Encounter, Encounter.event_id == Event.id).options(joinedload(Event.series))
        .where(Encounter.connection_id == connection.id)
        .order_by(Encounter.created_at.desc(), Encounter.id.desc()).limit(1))
    if event is None:
        raise DomainError("The events where you met no longer exist, so there are no organizers to tell.",
                          "no_event")
    return Target(connection_public_id, db.session.get(Person, other_id), event)


def report(reporter, connection_public_id, *, reason, details=""):
    """Report the other person of one of the reporter's connections to the organizers of the
    latest event the two met at. Returns the Report. Raises NotFound unknown_connection;
    DomainError account_deleted, no_event, bad_reason, too_long, control_characters."""
    about = target(reporter, connection_public_id)
    details = (details or "").replace("\r\n", "\n").strip()
    if reason not in REASONS:
        raise DomainError("Choose what best describes it.", "bad_reason")
    if len(details) > MAX_DETAILS:
        raise DomainError(f"Keep the details to {MAX_DETAILS} characters or fewer.", "too_long")
    if hidden_characters(details, multiline=True):
        raise DomainError("Remove the invisible or direction-changing characters.", "control_characters")
    with transaction():
        made = Report(series_id=about.event.series_id, event_id=about.event.id, reporter_id=reporter.id,
                      reported_id=about.person.id, reason=reason, details=details)
        db.session.add(made)
        db.session.flush()
        changelog.record("report.made", changelog.person(reporter), report=made.id, series=made.series_id)
    return made


def for_series(organizer, series_public_id):
    """(series, its reports newest first with their people and event, ids of the people already
    removed from it): three queries. Raises NotFound unknown_series for another organizer's series."""
    series = series_for_organizer(organizer, series_public_id)
    reports = db.session.scalars(
        select(Report).options(joinedload(Report.reporter), joinedload(Report.reported), joinedload(Report.event))
        .where(Report.series_id == series.id)
        .order_by(Report.created_at.desc(), Report.id.desc())).all()
    return series, reports, events.removed_from_series(series.id, [r.reported_id for r in reports])


def _organizers_report(organizer, report_public_id):
    found = db.session.scalar(
        select(Report).where(Report.public_id == report_public_id,
                             Report.series_id.in_(access.member_series_ids(organizer, "organizer"))))
    if found is None:
        raise NotFound("There is no such report for your series.", "unknown_report")
    return found


def resolve(organizer, report_public_id):
    """Mark a report of the organizer's series resolved (once; a repeat changes nothing).
    Raises NotFound unknown_report."""
    found = _organizers_report(organizer, report_public_id)
    with transaction():
        done = db.session.execute(
            update(Report).where(Report.id == found.id, Report.resolved_at.is_(None))
            .values(resolved_at=utcnow(), resolved_by_id=organizer.id)
            .execution_options(synchronize_session=False)).rowcount == 1
        if done:
            audit.record(organizer.id, "report.resolved", series_id=found.series_id)
    db.session.refresh(found)
    return found


def remove_reported(organizer, report_public_id):
    """Remove the reported person from the report's series (events.services.remove_from_series).
    Returns (report, whether they were removed now). Raises NotFound unknown_report."""
    found = _organizers_report(organizer, report_public_id)
    removed = events.remove_from_series(organizer, found.series_id, found.reported_id)
    return found, removed
