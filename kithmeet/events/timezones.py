"""Event times: stored as naive UTC (like database.utcnow), typed and shown in the series' zone.

A series names an IANA zone (Series.time_zone). An organizer types the wall-clock time at the
venue; `to_utc` turns it into the stored instant, `to_local` back. At the DST edges a wall-clock
time may not exist (spring forward: refused, nonexistent_time) or exist twice (fall back: the
first, fold=0). The zone list is the tz database's (zoneinfo; the tzdata package where the
system has none).
"""
from datetime import timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from ..errors import DomainError

# Offered first: most meetups are in one of these. The full list follows, alphabetically.
COMMON_ZONES = ("UTC", "Europe/London", "Europe/Berlin", "Europe/Paris", "America/New_York", "America/Chicago",
                "America/Denver", "America/Los_Angeles", "America/Sao_Paulo", "Asia/Kolkata", "Asia/Singapore",
                "Asia/Tokyo", "Australia/Sydney", "Pacific/Auckland")
# Names in the system's zone directory that are not places: never offered or accepted.
_NOT_ZONES = {"localtime", "Factory", "posixrules"}
MAX_ZONE = 64  # Series.time_zone
# The years an event may start in: far enough from datetime's own ends (years 1 and 9999) that
# no zone's offset or a week's shift runs off them (OverflowError).
YEARS = (1900, 9000)


@lru_cache(maxsize=1)
def zone_names():
    """Every zone a series may name: the common ones first, then the rest sorted."""
    known = available_timezones() - _NOT_ZONES
    return [*(name for name in COMMON_ZONES if name in known), *sorted(known - set(COMMON_ZONES))]


@lru_cache(maxsize=1)
def _known():
    return frozenset(zone_names())


def checked_zone(name):
    """The zone name stripped, if the tz database knows it. Raises DomainError bad_time_zone."""
    name = (name or "").strip()
    # Only names from the list: ZoneInfo alone would also open any file-like key it can find.
    if len(name) > MAX_ZONE or name not in _known():
        raise DomainError("Choose a time zone from the list, such as Europe/London.", "bad_time_zone")
    return name


def _zone(name):
    return ZoneInfo(name)


def to_utc(local, zone):
    """The naive UTC instant of the naive wall-clock time `local` in `zone`. An ambiguous time
    (the repeated hour when clocks go back) is the first of the two (fold=0). Raises DomainError
    nonexistent_time for a time the clocks skip, bad_date for a year outside YEARS."""
    if not YEARS[0] <= local.year <= YEARS[1]:
        raise DomainError(f"Choose a date in the years {YEARS[0]} to {YEARS[1]}.", "bad_date")
    instant = lenient_utc(local, zone)
    # A skipped time does not come back from the round trip (Python maps it past the gap).
    if to_local(instant, zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise DomainError(f"{local:%H:%M} doesn't exist on {local:%d %B %Y} in {zone}: the clocks skip it. "
                          "Pick another time.", "nonexistent_time")
    return instant


def lenient_utc(local, zone):
    """As to_utc, but a skipped time is taken with the offset before the gap (it lands past it)."""
    return local.replace(tzinfo=_zone(zone), fold=0).astimezone(timezone.utc).replace(tzinfo=None)


def to_local(utc, zone):
    """The naive UTC instant `utc` as an aware datetime in `zone` (strip tzinfo for a form)."""
    return utc.replace(tzinfo=timezone.utc).astimezone(_zone(zone))


def shift_days(utc, zone, days):
    """The instant `days` later at the same wall-clock time in `zone`, across any DST change;
    where that wall-clock time is skipped, or it falls outside YEARS, exactly days × 24 hours
    later. An instant itself outside YEARS (stored before they were checked) is left as it is."""
    local = to_local(utc, zone).replace(tzinfo=None)
    if not YEARS[0] <= local.year <= YEARS[1]:
        return utc
    try:
        return to_utc(local + timedelta(days=days), zone)
    except DomainError:
        return utc + timedelta(days=days)


def local_time(event, format="%a %d %b %Y, %H:%M"):
    """Jinja filter: the event's start in its series' zone, with the zone's abbreviation
    ("Sun 06 Dec 2026, 19:00 NZDT")."""
    local = to_local(event.starts_at, event.series.time_zone)
    return f"{local.strftime(format)} {local.tzname()}"


def in_zone(utc, event):
    """Jinja filter: a naive UTC time (an encounter's, say) as an aware datetime in the zone of
    `event`'s series, so a date reads as it did at the venue."""
    return to_local(utc, event.series.time_zone)


def local_input(event):
    """The event's start as its series' wall-clock time, naive: what the edit form shows."""
    return to_local(event.starts_at, event.series.time_zone).replace(tzinfo=None)


def init_app(app):
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["in_zone"] = in_zone
    app.jinja_env.globals["time_zone_names"] = zone_names  # organizer/_time_zones.html
