"""A series' own settings: how long attendee data is kept, its code-of-conduct link, its time zone
and whether a label printer is set up at the door."""
from sqlalchemy import func, select
from wtforms.validators import ValidationError

from ..audit import services as audit
from ..database import transaction
from ..errors import DomainError
from ..extensions import db
from ..formtools import web_url
from . import access, timezones
from .models import CheckIn, Event

RETENTION_MONTHS = (1, 120)
MAX_URL = 300


def series_for_organizer(organizer, public_id, need="organizer"):
    """A series where the organizer holds at least `need` (events.access): NotFound unknown_series
    for any other, DomainError role_too_low for a weaker role."""
    return access.series_for(organizer, public_id, need)


def checked_url(value):
    """An http(s) address parsed as strictly as a profile's website ("" for none); raises bad_url, too_long."""
    try:
        url = web_url(value)
    except ValidationError as error:
        raise DomainError(str(error), "bad_url") from None
    if len(url) > MAX_URL:
        raise DomainError(f"Keep the address to {MAX_URL} characters or fewer.", "too_long")
    return url


def update_settings(organizer, public_id, *, retention_months, code_of_conduct_url, time_zone=None,
                    label_printer=None):
    """Set how many months attendee data is kept after a person's last event in the series
    (RETENTION_MONTHS), the code-of-conduct link the join page shows ("" for none), its time
    zone and whether a label printer is set up at the door (None: unchanged).

    A new zone keeps every draft and open event of the series at its wall-clock time: the zone
    says how its times were meant, so 19:00 stays 19:00 (an instant the new zone skips moves
    past the gap). A closed event keeps its instant: it happened when it happened, and is only
    shown in the new zone.

    Raises NotFound unknown_series; DomainError bad_retention, bad_url, too_long, bad_time_zone.
    """
    series = series_for_organizer(organizer, public_id)
    low, high = RETENTION_MONTHS
    if isinstance(retention_months, bool) or not isinstance(retention_months, int) \
            or not low <= retention_months <= high:
        raise DomainError(f"Choose from {low} to {high} months.", "bad_retention")
    url = checked_url(code_of_conduct_url)
    zone = series.time_zone if time_zone is None else timezones.checked_zone(time_zone)
    printer = series.label_printer if label_printer is None else bool(label_printer)
    settings = (retention_months, url, zone, printer)
    if (series.retention_months, series.code_of_conduct_url, series.time_zone, series.label_printer) == settings:
        return series
    with transaction():
        if zone != series.time_zone:
            for event in db.session.scalars(select(Event).where(Event.series_id == series.id,
                                                                Event.status != "closed")):
                wall_clock = timezones.to_local(event.starts_at, series.time_zone).replace(tzinfo=None)
                event.starts_at = timezones.lenient_utc(wall_clock, zone)
        series.retention_months, series.code_of_conduct_url, series.time_zone, series.label_printer = settings
        audit.record(organizer.id, "series.updated", series_id=series.id)
    return series


def events_of(series):
    """The series' events, newest first, each with its check-in count: one query however many."""
    return db.session.execute(
        select(Event, func.count(CheckIn.id)).outerjoin(CheckIn, CheckIn.event_id == Event.id)
        .where(Event.series_id == series.id).group_by(Event.id)
        .order_by(Event.starts_at.desc(), Event.id.desc())).all()
