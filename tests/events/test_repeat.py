""""Next event in this series": a draft a week later at the same wall-clock time (across DST),
copying what stays week to week, with a new join link and a fresh announced code."""
from datetime import datetime

import pytest
from sqlalchemy import func, select

from kithmeet.audit.models import AuditEntry
from kithmeet.database import transaction
from kithmeet.errors import DomainError, NotFound
from kithmeet.events import repeat
from kithmeet.events import services as events
from kithmeet.events import timezones
from kithmeet.events.models import Event, EventLogo, SeriesMember
from kithmeet.extensions import db

from ..organizer.conftest import EMAIL, PASSWORD, log_in
from ..pages import field_error


@pytest.fixture
def organizer(make_organizer):
    return make_organizer(EMAIL, PASSWORD)


def weekly(organizer, zone="UTC", starts_at=datetime(2026, 11, 26, 19, 0), **changes):
    """A closed event with everything worth copying set."""
    event = events.create_event(organizer, name="Thursday Gathering", starts_at=starts_at, venue="The Corner Café",
                                description="Upstairs.", prompts=["Hometown", "Ask me about"],
                                series_name="Thursday Gathering", time_zone=zone)
    with transaction():
        event.logo = EventLogo(series_id=event.series_id, data=b"\x89PNG", width=1, height=1)
        event.accent_color, event.join_policy, event.entry_code, event.capacity = "#1a5fb4", "code", "OLD-CODE", 120
        for name, value in changes.items():
            setattr(event, name, value)
    for status in ("open", "closed"):
        events.set_status(organizer, event.public_id, status)
    return event


def reload(event):
    db.session.expire_all()
    return db.session.get(Event, event.id)


def test_the_next_event_copies_what_stays_week_to_week(organizer):
    source = weekly(organizer)
    made = reload(repeat.next_event(organizer, source.public_id))
    source = reload(source)
    assert (made.name, made.venue, made.description, made.prompt_labels) == (
        "Thursday Gathering", "The Corner Café", "Upstairs.", ["Hometown", "Ask me about"])
    assert (made.accent_color, made.logo_id, made.join_policy, made.capacity) == (
        "#1a5fb4", source.logo_id, "code", 120)
    assert made.series_id == source.series_id and made.status == "draft"
    assert made.public_id != source.public_id and made.join_code != source.join_code
    assert made.entry_code and made.entry_code != "OLD-CODE"  # said aloud last week: a fresh one
    assert made.starts_at == datetime(2026, 12, 3, 19, 0)
    assert db.session.scalar(select(func.count()).select_from(EventLogo)) == 1  # shared, not copied
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.event_id == made.id)) == "event.repeated"


def test_an_open_event_copies_no_entry_code(organizer):
    source = weekly(organizer, join_policy="open", entry_code="")
    assert reload(repeat.next_event(organizer, source.public_id)).entry_code == ""


@pytest.mark.parametrize("zone, first, utc_first, utc_next", [
    # Europe/London falls back on 25 October: 19:00 BST, then 19:00 GMT a week later.
    ("Europe/London", datetime(2026, 10, 22, 19, 0), datetime(2026, 10, 22, 18, 0), datetime(2026, 10, 29, 19, 0)),
    # New York springs forward on 8 March: 19:00 EST, then 19:00 EDT.
    ("America/New_York", datetime(2026, 3, 5, 19, 0), datetime(2026, 3, 6, 0, 0), datetime(2026, 3, 12, 23, 0)),
    # Auckland springs forward on 27 September: 19:00 NZST, then 19:00 NZDT.
    ("Pacific/Auckland", datetime(2026, 9, 20, 19, 0), datetime(2026, 9, 20, 7, 0), datetime(2026, 9, 27, 6, 0)),
])
def test_a_week_later_is_the_same_wall_clock_time_across_a_dst_change(organizer, zone, first, utc_first, utc_next):
    source = weekly(organizer, zone, first)
    assert reload(source).starts_at == utc_first
    made = reload(repeat.next_event(organizer, source.public_id))
    assert made.starts_at == utc_next
    assert timezones.local_input(made) == first.replace(day=first.day + 7)


def test_a_chosen_date_is_the_series_wall_clock(organizer):
    source = weekly(organizer, "Pacific/Auckland", datetime(2026, 12, 6, 19, 0))
    made = repeat.next_event(organizer, source.public_id, starts_at=datetime(2026, 12, 20, 18, 0))
    assert reload(made).starts_at == datetime(2026, 12, 20, 5, 0)


def test_a_skipped_time_is_refused_and_nothing_is_made(organizer, db_state):
    source = weekly(organizer, "Europe/London", datetime(2026, 3, 22, 19, 0))
    before = db_state()
    with pytest.raises(DomainError) as refused:
        repeat.next_event(organizer, source.public_id, starts_at=datetime(2026, 3, 29, 1, 30))
    assert refused.value.code == "nonexistent_time" and db_state() == before


def test_a_default_week_later_that_the_clocks_skip_is_exactly_seven_days(organizer):
    source = weekly(organizer, "Europe/London", datetime(2026, 3, 22, 1, 30))  # 29 March 01:30 is skipped
    made = reload(repeat.next_event(organizer, source.public_id))
    assert made.starts_at == datetime(2026, 3, 29, 1, 30)  # 02:30 BST: the same instant of the day in UTC


def test_only_an_organizer_of_the_series_may_repeat_its_events(organizer, make_organizer, db_state):
    source = weekly(organizer)
    stranger, door = make_organizer(), make_organizer()
    with transaction():
        db.session.add(SeriesMember(series_id=source.series_id, organizer_id=door.id, role="door"))
    before = db_state()
    with pytest.raises(NotFound):
        repeat.next_event(stranger, source.public_id)
    with pytest.raises(DomainError) as refused:
        repeat.next_event(door, source.public_id)
    assert refused.value.code == "role_too_low" and db_state() == before


def test_the_page_prefills_a_week_later_and_makes_the_draft(client, organizer):
    source = weekly(organizer, "Europe/London", datetime(2026, 10, 22, 19, 0))
    log_in(client)
    assert f'/organizer/events/{source.public_id}/next' in client.get(
        f"/organizer/events/{source.public_id}").get_data(as_text=True)
    url = f"/organizer/events/{source.public_id}/next"
    page = client.get(url).get_data(as_text=True)
    assert 'value="2026-10-29T19:00"' in page and "Europe/London" in page
    refused = client.submit(url, data={"starts_at": "2027-03-28T01:30"})
    assert field_error(refused.get_data(as_text=True), "starts_at") == "nonexistent_time"
    response = client.submit(url, data={"starts_at": "2026-10-29T19:00"})
    made = db.session.scalar(select(Event).where(Event.id != source.id))
    assert response.status_code == 302 and response.location == f"/organizer/events/{made.public_id}/edit"
    assert made.starts_at == datetime(2026, 10, 29, 19, 0) and made.status == "draft"


def test_another_organizers_event_has_no_next_event_page(client, organizer, make_organizer):
    source = weekly(make_organizer())
    log_in(client)
    assert client.get(f"/organizer/events/{source.public_id}/next").status_code == 404
    assert client.submit(f"/organizer/events/{source.public_id}/next", page="/organizer/",
                         data={"starts_at": "2026-12-03T19:00"}).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Event)) == 1
