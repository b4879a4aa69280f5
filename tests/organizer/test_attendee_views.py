"""The attendee list page, hide and remove behind their confirmation pages, and the CSV download."""
import csv
import io
import re

from sqlalchemy import func, select

from kithmeet.events import attendees
from kithmeet.events.models import EventRemoval, SeriesRemoval
from kithmeet.extensions import db

from ..pages import error_codes, field_error
from .conftest import log_in


def listed(page):
    return re.findall(r'<h2 class="attendee-name" dir="auto">([^<]+)</h2>', page)


def test_the_list_shows_attendees_without_contacts_and_searches(client, organizer, make_event, make_person,
                                                                monkeypatch):
    event = make_event(organizer)
    make_person("Ada", event=event, headline="Data engineer", contacts={"email": "ada@example.org",
                                                                       "phone": "+44 20 7946 0958"})
    make_person("Bo", event=event)
    log_in(client)
    url = f"/organizer/events/{event.public_id}/attendees"
    page = client.get(url).get_data(as_text=True)
    assert listed(page) == ["Ada", "Bo"] and "Data engineer" in page and "Own phone" in page
    assert "ada@example.org" not in page and "7946" not in page
    assert listed(client.get(url + "?q=engineer").get_data(as_text=True)) == ["Ada"]
    monkeypatch.setattr(attendees, "PAGE_SIZE", 1)
    second = client.get(url + "?page=2").get_data(as_text=True)
    assert listed(second) == ["Bo"] and "Page 2 of 2" in second
    assert listed(client.get(url + "?page=x").get_data(as_text=True)) == ["Ada"]
    for page in ("%C2%B2", "%D9%A3", "%EF%BC%92"):  # ², Arabic-Indic 3, fullwidth 2: digits int() refuses or reads
        assert listed(client.get(url + f"?page={page}").get_data(as_text=True)) == ["Ada"]


def test_hiding_asks_first_then_takes_them_off(client, organizer, make_event, make_person):
    event = make_event(organizer)
    make_person("Ada", event=event)
    bo = make_person("Bo", event=event)
    log_in(client)
    hide = f"/organizer/events/{event.public_id}/attendees/hide"
    bo_key = attendees.attendee_key(event, bo.id)
    confirm = client.get(f"{hide}?attendee={bo_key}").get_data(as_text=True)
    assert "Hide <bdi>Bo</bdi> from this event?" in confirm
    unticked = client.submit(f"{hide}?attendee={bo_key}", data={"attendee": bo_key})
    assert unticked.status_code == 200 and field_error(unticked.get_data(as_text=True), "confirm") == "confirm_required"
    assert db.session.scalar(select(func.count(EventRemoval.id))) == 0
    done = client.submit(f"{hide}?attendee={bo_key}", data={"attendee": bo_key, "confirm": "y"})
    assert done.status_code == 302 and done.location == f"/organizer/events/{event.public_id}/attendees"
    page = client.get(done.location).get_data(as_text=True)
    assert listed(page) == ["Ada"] and "1 hidden or removed" in page
    again = client.get(f"{hide}?attendee={bo_key}")  # a stale link: Bo is no longer on the list
    assert again.status_code == 404 and error_codes(again.get_data(as_text=True)) == ["unknown_attendee"]
    assert client.get(hide).location == f"/organizer/events/{event.public_id}/attendees"  # no one picked


def test_removing_from_the_series_asks_first(client, organizer, make_event, make_person):
    event = make_event(organizer)
    bo = make_person("Bo", event=event)
    log_in(client)
    remove = f"/organizer/events/{event.public_id}/attendees/remove"
    bo_key = attendees.attendee_key(event, bo.id)
    assert "Remove <bdi>Bo</bdi> from" in client.get(f"{remove}?attendee={bo_key}").get_data(as_text=True)
    assert client.submit(f"{remove}?attendee={bo_key}", data={"attendee": bo_key, "confirm": "y"}).status_code == 302
    assert db.session.scalar(select(SeriesRemoval.person_id)) == bo.id
    assert listed(client.get(f"/organizer/events/{event.public_id}/attendees").get_data(as_text=True)) == []


def test_the_csv_downloads_safely(client, organizer, make_event, make_person):
    event = make_event(organizer, name="Thursday / Night")
    make_person("=cmd|' /C calc'!A0", event=event, headline="-2+3")
    log_in(client)
    response = client.get(f"/organizer/events/{event.public_id}/attendees.csv")
    assert response.mimetype == "text/csv" and response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="Thursday Night check-ins.csv"')
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[1][:2] == ["'=cmd|' /C calc'!A0", "'-2+3"] and rows[1][3] == "join"


def test_the_list_takes_the_same_queries_for_any_crowd(client, organizer, make_event, make_person, count_queries):
    log_in(client)

    def statements(size):
        event = make_event(organizer, name=f"Night of {size}")
        for i in range(size):
            make_person(f"P{size}-{i}", event=event, headline="Flask" if i % 2 else "")
        with count_queries() as seen:
            page = client.get(f"/organizer/events/{event.public_id}/attendees").get_data(as_text=True)
        assert len(listed(page)) == size
        return len(seen)

    assert statements(2) == statements(20)
