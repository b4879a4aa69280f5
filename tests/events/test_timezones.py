"""Series time zones: times stored in UTC, typed and shown in the series' zone, across DST edges,
far east and far west; unknown zones refused; a zone change keeps each event on the clock."""
import re
from datetime import datetime

import pytest
from sqlalchemy import select, update

from kithmeet.connections import services as connections
from kithmeet.connections.models import Encounter
from kithmeet.database import transaction
from kithmeet.errors import DomainError
from kithmeet.events import series as series_service
from kithmeet.events import services as events
from kithmeet.events import timezones
from kithmeet.events.models import Event, Series
from kithmeet.extensions import db

from ..organizer.conftest import EMAIL, PASSWORD, log_in
from ..pages import field_error

SUNDAY_EVENING = datetime(2026, 12, 6, 19, 0)  # a Sunday


@pytest.fixture
def organizer(make_organizer):
    return make_organizer(EMAIL, PASSWORD)


def create(organizer, zone, starts_at=SUNDAY_EVENING, series_name="Harbour Meetup"):
    return events.create_event(organizer, name="Harbour Meetup", starts_at=starts_at, venue="The Wharf",
                               series_name=series_name, time_zone=zone)


def reload(event):
    db.session.expire_all()
    return db.session.get(Event, event.id)


def test_a_time_is_typed_in_the_series_zone_and_stored_in_utc(make_organizer):
    organizer = make_organizer()
    auckland = create(organizer, "Pacific/Auckland")  # NZDT, UTC+13: still Sunday morning in UTC
    los_angeles = create(organizer, "America/Los_Angeles", series_name="Valley Meetup")  # PST: Monday in UTC
    assert reload(auckland).starts_at == datetime(2026, 12, 6, 6, 0)
    assert reload(los_angeles).starts_at == datetime(2026, 12, 7, 3, 0)
    assert reload(auckland).series.time_zone == "Pacific/Auckland"


def test_pages_show_a_far_east_and_a_far_west_event_at_their_own_sunday_evening(
        client, organizer, make_client):
    auckland = create(organizer, "Pacific/Auckland")
    los_angeles = create(organizer, "America/Los_Angeles", series_name="Valley Meetup")
    for event in (auckland, los_angeles):
        events.set_status(organizer, event.public_id, "open")
    log_in(client)
    dashboard = client.get("/organizer/").get_data(as_text=True)
    assert "Sun 06 Dec 2026, 19:00 NZDT" in dashboard and "Sun 06 Dec 2026, 19:00 PST" in dashboard
    page = client.get(f"/organizer/events/{auckland.public_id}").get_data(as_text=True)
    assert "Sunday 06 December 2026, 19:00 NZDT" in page
    join = make_client().get(f"/J/{los_angeles.join_code}").get_data(as_text=True)
    assert "Sun 06 Dec, 19:00 PST" in join
    series = client.get(f"/organizer/series/{auckland.series.public_id}").get_data(as_text=True)
    assert "Sun 06 Dec 2026, 19:00 NZDT" in series


def test_a_time_the_clocks_skip_is_refused_and_nothing_is_written(make_organizer, db_state):
    organizer = make_organizer()
    before = db_state()
    with pytest.raises(DomainError) as refused:
        create(organizer, "Europe/London", datetime(2026, 3, 29, 1, 30))  # 01:00 -> 02:00 BST
    assert refused.value.code == "nonexistent_time"
    assert db_state() == before


def test_a_time_the_clocks_repeat_is_the_first_of_the_two(make_organizer):
    organizer = make_organizer()
    event = create(organizer, "Europe/London", datetime(2026, 10, 25, 1, 30))  # 02:00 BST -> 01:00 GMT
    assert reload(event).starts_at == datetime(2026, 10, 25, 0, 30)  # 01:30 BST (fold=0), not 01:30 GMT


@pytest.mark.parametrize("local, utc", [
    (datetime(2026, 3, 28, 19, 0), datetime(2026, 3, 28, 19, 0)),   # the day before spring forward: GMT
    (datetime(2026, 3, 29, 19, 0), datetime(2026, 3, 29, 18, 0)),   # the evening after: BST
    (datetime(2026, 10, 25, 19, 0), datetime(2026, 10, 25, 19, 0)),  # the evening after falling back: GMT
])
def test_conversions_on_both_sides_of_each_change(local, utc):
    assert timezones.to_utc(local, "Europe/London") == utc
    assert timezones.to_local(utc, "Europe/London").replace(tzinfo=None) == local


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", " ", "localtime", "Factory", "../../etc/passwd",
                                  "europe/london", "Europe/London\x00", "A" * 65])
def test_unknown_zone_names_are_refused(make_organizer, db_state, zone):
    organizer = make_organizer()
    before = db_state()
    with pytest.raises(DomainError) as refused:
        create(organizer, zone)
    assert refused.value.code == "bad_time_zone"
    assert db_state() == before


def test_an_existing_series_keeps_its_zone_whatever_the_new_event_form_says(make_organizer):
    organizer = make_organizer()
    create(organizer, "Pacific/Auckland")
    second = create(organizer, "America/Los_Angeles")  # same series name: the series' own zone wins
    assert second.series.time_zone == "Pacific/Auckland"
    assert reload(second).starts_at == datetime(2026, 12, 6, 6, 0)


def test_a_utc_series_stores_what_was_typed(make_event):
    event = make_event()  # existing rows: zone UTC, so nothing moves
    assert (event.series.time_zone, reload(event).starts_at) == ("UTC", datetime(2026, 11, 26, 19, 0))


def test_changing_the_zone_keeps_each_event_on_the_clock(make_organizer):
    organizer = make_organizer()
    event = create(organizer, "UTC")
    series_service.update_settings(organizer, event.series.public_id, retention_months=12,
                                   code_of_conduct_url="", time_zone="Pacific/Auckland")
    event = reload(event)
    assert event.series.time_zone == "Pacific/Auckland"
    assert timezones.local_input(event) == SUNDAY_EVENING and event.starts_at == datetime(2026, 12, 6, 6, 0)


def test_changing_the_zone_leaves_a_closed_event_when_it_happened(make_organizer):
    organizer = make_organizer()
    held = create(organizer, "UTC")
    coming = create(organizer, "UTC", datetime(2026, 12, 13, 19, 0))
    events.set_status(organizer, held.public_id, "open")
    events.set_status(organizer, held.public_id, "closed")
    series_service.update_settings(organizer, held.series.public_id, retention_months=12,
                                   code_of_conduct_url="", time_zone="Pacific/Auckland")
    assert reload(held).starts_at == SUNDAY_EVENING  # 19:00 UTC, shown as 08:00 NZDT the next day
    assert reload(coming).starts_at == datetime(2026, 12, 13, 6, 0)  # still 19:00 on the clock


@pytest.mark.parametrize("typed, zone", [
    ("0001-01-01T00:00", "Asia/Tokyo"), ("9999-12-31T23:59", "America/Los_Angeles"),
    ("1899-12-31T19:00", "UTC"), ("9001-01-01T19:00", "UTC")])
def test_a_date_at_the_ends_of_the_calendar_is_refused_beside_the_field(client, organizer, typed, zone):
    event = create(organizer, "UTC")
    log_in(client)
    fields = {"name": "Edge", "venue": "", "description": "", "prompt_0": "Ask me about", "starts_at": typed,
              "join_policy": "open"}
    new = client.submit("/organizer/events/new", data={**fields, "series": "Edge", "time_zone": zone})
    assert new.status_code == 200 and field_error(new.get_data(as_text=True), "starts_at") == "bad_date"
    edit = client.submit(f"/organizer/events/{event.public_id}/edit", data=fields)
    assert edit.status_code == 200 and field_error(edit.get_data(as_text=True), "starts_at") == "bad_date"
    assert db.session.scalars(select(Event.starts_at)).all() == [SUNDAY_EVENING]


def test_the_next_event_of_one_stored_near_year_9999_still_opens(client, organizer):
    event = create(organizer, "UTC")
    db.session.execute(update(Event).where(Event.id == event.id).values(starts_at=datetime(9999, 12, 28, 19, 0)))
    db.session.commit()
    log_in(client)
    assert client.get(f"/organizer/events/{event.public_id}/next").status_code == 200


def test_settings_refuse_an_unknown_zone_and_change_nothing(make_organizer, db_state):
    organizer = make_organizer()
    event = create(organizer, "UTC")
    before = db_state()
    with pytest.raises(DomainError) as refused:
        series_service.update_settings(organizer, event.series.public_id, retention_months=6,
                                       code_of_conduct_url="", time_zone="Atlantis/Capital")
    assert refused.value.code == "bad_time_zone" and db_state() == before


def test_the_edit_form_shows_and_takes_the_series_wall_clock(client, organizer):
    event = create(organizer, "Pacific/Auckland")
    log_in(client)
    url = f"/organizer/events/{event.public_id}/edit"
    page = client.get(url).get_data(as_text=True)
    assert 'value="2026-12-06T19:00"' in page and "Pacific/Auckland" in page
    fields = {"name": "Harbour Meetup", "venue": "", "description": "", "prompt_0": "Ask me about"}
    assert client.submit(url, data={**fields, "starts_at": "2026-12-13T18:30"}).status_code == 302
    assert reload(event).starts_at == datetime(2026, 12, 13, 5, 30)


def test_the_forms_show_a_skipped_time_beside_the_date_field(client, organizer):
    event = create(organizer, "Europe/London", datetime(2026, 3, 22, 19, 0))
    log_in(client)
    fields = {"name": "Harbour Meetup", "venue": "", "description": "", "prompt_0": "Ask me about",
              "starts_at": "2026-03-29T01:15"}
    edit = client.submit(f"/organizer/events/{event.public_id}/edit", data=fields)
    assert edit.status_code == 200 and field_error(edit.get_data(as_text=True), "starts_at") == "nonexistent_time"
    assert reload(event).starts_at == datetime(2026, 3, 22, 19, 0)
    new = client.submit("/organizer/events/new", data={**fields, "series": "Harbour Meetup"})
    assert field_error(new.get_data(as_text=True), "starts_at") == "nonexistent_time"


def test_the_new_event_form_offers_zones_and_refuses_an_unknown_one(client, organizer):
    create(organizer, "Pacific/Auckland")
    log_in(client)
    page = client.get("/organizer/events/new").get_data(as_text=True)
    assert 'name="time_zone"' in page and 'value="Pacific/Auckland"' in page  # the latest series' zone
    assert '<option value="America/Los_Angeles">' in page
    fields = {"series": "Brand New Series", "name": "First", "starts_at": "2026-12-06T19:00",
              "prompt_0": "Ask me about"}
    refused = client.submit("/organizer/events/new", data={**fields, "time_zone": "Nowhere/Special"})
    assert field_error(refused.get_data(as_text=True), "time_zone") == "bad_time_zone"
    assert client.submit("/organizer/events/new", data={**fields, "time_zone": "Asia/Tokyo"}).status_code == 302
    made = db.session.scalar(select(Series).where(Series.name == "Brand New Series"))
    assert made.time_zone == "Asia/Tokyo"
    assert db.session.scalar(select(Event.starts_at).where(Event.series_id == made.id)) == datetime(2026, 12, 6, 10, 0)


def test_series_settings_save_the_zone_and_the_label_printer(client, organizer):
    event = create(organizer, "UTC")
    log_in(client)
    url = f"/organizer/series/{event.series.public_id}/settings"
    base = {"retention_months": "12", "code_of_conduct_url": ""}
    refused = client.submit(url, data={**base, "time_zone": "Atlantis/Capital"})
    assert field_error(refused.get_data(as_text=True), "time_zone") == "bad_time_zone"
    assert client.submit(url, data={**base, "time_zone": "Pacific/Auckland", "label_printer": "y"}).status_code == 302
    db.session.expire_all()
    series = db.session.get(Series, event.series_id)
    assert (series.time_zone, series.label_printer) == ("Pacific/Auckland", True)
    page = client.get(url).get_data(as_text=True)
    assert 'value="Pacific/Auckland"' in page and re.search(r'<input[^>]* checked[^>]*name="label_printer"', page)
    assert client.submit(url, data={**base, "time_zone": "Pacific/Auckland"}).status_code == 302  # unticked
    db.session.expire_all()
    assert db.session.get(Series, event.series_id).label_printer is False


def test_zone_names_put_the_common_ones_first_and_skip_non_places():
    names = timezones.zone_names()
    assert names[0] == "UTC" and "Pacific/Auckland" in names[:20]
    assert "localtime" not in names and "Factory" not in names
    rest = names[len([n for n in names if n in timezones.COMMON_ZONES]):]
    assert rest == sorted(rest) and len(names) == len(set(names))


def test_a_follow_up_row_dates_the_meeting_as_it_was_at_the_venue(organizer, make_person, signed_in):
    event = create(organizer, "America/Los_Angeles")
    events.set_status(organizer, event.public_id, "open")
    ada, bo = make_person("Ada", event=event), make_person("Bo", event=event)
    connections.connect(ada, bo.badge_token)
    with transaction():  # Sunday 19:30 in Los Angeles is already Monday in UTC
        db.session.execute(update(Encounter).values(created_at=datetime(2026, 12, 7, 3, 30)))
    row = signed_in(ada).get("/followup").get_data(as_text=True)
    assert '<time datetime="2026-12-06">06 Dec 2026</time>' in row
