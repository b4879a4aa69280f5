"""A series' own settings: how long attendee data is kept, and its code-of-conduct link."""
from wtforms.validators import ValidationError

from ..audit import services as audit
from ..database import transaction
from ..errors import DomainError
from ..formtools import web_url
from . import access

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


def update_settings(organizer, public_id, *, retention_months, code_of_conduct_url):
    """Set how many months attendee data is kept after a person's last event in the series
    (RETENTION_MONTHS), and the code-of-conduct link the join page shows ("" for none).

    Raises NotFound unknown_series; DomainError bad_retention, bad_url, too_long.
    """
    series = series_for_organizer(organizer, public_id)
    low, high = RETENTION_MONTHS
    if isinstance(retention_months, bool) or not isinstance(retention_months, int) \
            or not low <= retention_months <= high:
        raise DomainError(f"Choose from {low} to {high} months.", "bad_retention")
    url = checked_url(code_of_conduct_url)
    if (series.retention_months, series.code_of_conduct_url) == (retention_months, url):
        return series
    with transaction():
        series.retention_months, series.code_of_conduct_url = retention_months, url
        audit.record(organizer.id, "series.updated", series_id=series.id)
    return series
