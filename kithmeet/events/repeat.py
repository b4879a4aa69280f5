"""The next event of a series: a draft copied from one of its events, a week later by default.

What is copied is what stays the same week to week: name (the organizer edits it), venue,
description, prompts, branding (the logo row is shared, not duplicated) and who may join with
what capacity. What is not: the join link and public id (new, so last week's poster does not
open next week's event), check-ins, history, and the entry code announced at the venue: it was
said aloud to a room last week, so a "code" event gets a fresh one.
"""
from ..audit import services as audit
from ..database import transaction
from ..extensions import db
from . import access, timezones
from .join_policy import new_entry_code
from .models import Event, EventPrompt

REPEAT_DAYS = 7


def default_start(event):
    """A week after `event`, at the same wall-clock time in its series' zone (across DST), naive UTC."""
    return timezones.shift_days(event.starts_at, event.series.time_zone, REPEAT_DAYS)


def next_event(organizer, public_id, starts_at=None):
    """A draft copy of one of the organizer's events (see the module's docstring), starting at
    `starts_at`, the wall-clock time in the series' zone; by default a week later at the same
    wall-clock time. Raises NotFound unknown_event; DomainError role_too_low, nonexistent_time, bad_date."""
    source = access.event_for(organizer, public_id, "organizer")
    start = default_start(source) if starts_at is None else timezones.to_utc(starts_at, source.series.time_zone)
    with transaction():
        event = Event(series_id=source.series_id, name=source.name, starts_at=start, venue=source.venue,
                      description=source.description, accent_color=source.accent_color, logo_id=source.logo_id,
                      join_policy=source.join_policy, capacity=source.capacity,
                      entry_code=new_entry_code() if source.join_policy == "code" else "")
        event.prompts = [EventPrompt(position=prompt.position, label=prompt.label) for prompt in source.prompts]
        db.session.add(event)
        db.session.flush()
        audit.record(organizer.id, "event.repeated", event_id=event.id)
    return event
