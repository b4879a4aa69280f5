"""A series' own page: its name and zone, its events (date in the zone, status, check-ins), the
links that run it; a constant number of queries however many events; nobody else's."""
import re
from datetime import datetime

from kithmeet.events import services as events

from .conftest import log_in


def url(series):
    return f"/organizer/series/{series.public_id}"


def test_the_page_lists_the_series_events_with_their_status_and_check_ins(
        client, organizer, make_event, make_person):
    open_event = make_event(organizer, name="Week 48")
    make_person("Ada Okafor", event=open_event)
    make_person("Bo Lindqvist", event=open_event)
    draft = events.create_event(organizer, name="Week 49", starts_at=datetime(2026, 12, 3, 19, 0),
                                series_name="Thursday Gathering")
    make_event(organizer, name="Elsewhere", series_name="Another series")
    log_in(client)
    page = client.get(url(open_event.series)).get_data(as_text=True)
    assert "Thursday Gathering" in page and "UTC" in page
    rows = re.findall(r'<li class="card event-row" data-event="(\w+)">(.*?)</li>', page, re.DOTALL)
    assert [public_id for public_id, _ in rows] == [draft.public_id, open_event.public_id]  # newest first
    by_id = dict(rows)
    assert "Thu 03 Dec 2026, 19:00 UTC" in by_id[draft.public_id] and "Draft" in by_id[draft.public_id]
    assert "2 checked in" in by_id[open_event.public_id] and "Open" in by_id[open_event.public_id]
    assert "Elsewhere" not in page
    assert f'href="/organizer/events/{draft.public_id}/next"' in page  # the newest event is the one to copy
    assert f'href="{url(open_event.series)}/settings"' in page
    assert f'href="{url(open_event.series)}/reports"' in page


def test_the_dashboard_and_event_page_link_to_the_series_page(client, organizer, make_event):
    event = make_event(organizer)
    log_in(client)
    assert f'href="{url(event.series)}"' in client.get("/organizer/").get_data(as_text=True)
    assert f'href="{url(event.series)}"' in client.get(f"/organizer/events/{event.public_id}").get_data(as_text=True)


def test_the_page_takes_the_same_number_of_queries_however_many_events(
        client, organizer, make_event, make_person, count_queries):
    first = make_event(organizer)
    make_person("Ada Okafor", event=first)
    log_in(client)

    def queries():
        with count_queries() as statements:
            assert client.get(url(first.series)).status_code == 200
        return len(statements)
    one = queries()
    for week in range(6):
        event = make_event(organizer, name=f"Week {week}")
        make_person(f"Person {week}", event=event)
    assert queries() == one


def test_another_organizers_series_is_not_found(client, organizer, make_organizer, make_event):
    event = make_event(make_organizer())
    log_in(client)
    assert client.get(url(event.series)).status_code == 404
    assert client.get("/organizer/series/NOSUCHSERIES").status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client, make_event):
    event = make_event()
    response = client.get(url(event.series))
    assert response.status_code == 302 and response.location.startswith("/organizer/login")
