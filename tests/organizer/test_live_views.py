"""The live dashboard, the projector and the JSON they poll: organizer-only pages of
aggregates, whose refresh takes the same queries for any crowd."""
import re

from kithmeet.connections import services as connections
from kithmeet.events.models import SeriesMember
from kithmeet.extensions import db

from .conftest import log_in


def crowd(make_person, event, size, prefix="P"):
    people = [make_person(f"{prefix}{i}", event=event, headline=f"Headline {prefix}{i}") for i in range(size)]
    for scanner, target in zip(people, people[1:] + people[:1]):
        connections.connect(scanner, target.badge_token)
    return people


def test_the_dashboard_shows_the_numbers_chart_and_web_without_names(client, organizer, make_event, make_person):
    event = make_event(organizer)
    people = crowd(make_person, event, 4)
    log_in(client)
    page = client.get(f"/organizer/events/{event.public_id}/live").get_data(as_text=True)
    assert re.search(r'data-live="checked_in">4<', page) and re.search(r'data-live="connections">4<', page)
    assert f'data-live-refresh="/organizer/events/{event.public_id}/live.json"' in page
    # Under one batch of people (LIVE_WEB_BATCH, 10) the web is empty and says when it appears.
    assert page.count("<circle") == 0 and page.count("<line ") == 1  # the chart's axis
    assert "appears once 10 people are in" in page
    assert "Connections made per 15 minutes" in page and "<table" in page  # the chart's text alternative
    assert "/static/js/live." in page and "<script>" not in page
    for person in people:
        assert person.name not in page and person.badge_token not in page


def test_the_projector_shows_the_big_number_and_the_join_qr(client, organizer, make_event, make_person):
    event = make_event(organizer)
    crowd(make_person, event, 3)
    log_in(client)
    page = client.get(f"/organizer/events/{event.public_id}/live/projector").get_data(as_text=True)
    assert re.search(r'<span data-live="connections">3</span> <span[^>]*>connections made tonight', page)
    assert f"/J/{event.join_code}.svg" in page and "P0" not in page


def test_the_refresh_answers_json_with_the_same_queries_for_any_crowd(
        client, organizer, make_event, make_person, count_queries):
    log_in(client)

    def refresh(size):
        event = make_event(organizer, name=f"Night of {size}")
        people = crowd(make_person, event, size, f"N{size}-")
        with count_queries() as seen:
            response = client.get(f"/organizer/events/{event.public_id}/live.json")
        data = response.get_json()
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
        drawn = size // 10 * 10  # whole batches of the web only
        assert (data["checked_in"], data["connections"], len(data["dots"]), len(data["lines"])) == (
            size, size, drawn, drawn)
        assert not any(person.name in response.get_data(as_text=True) for person in people)
        return len(seen)

    assert refresh(3) == refresh(30)


def test_others_are_refused(client, make_client, organizer, make_organizer, make_event):
    event = make_event(organizer)
    other = make_organizer("door@example.org", "a long enough password")
    paths = [f"/organizer/events/{event.public_id}/live", f"/organizer/events/{event.public_id}/live/projector",
             f"/organizer/events/{event.public_id}/live.json"]
    for path in paths:
        assert client.get(path).status_code == 302  # not signed in: to the sign-in page
    log_in(client, email="door@example.org", password="a long enough password")
    for path in paths:
        assert client.get(path).status_code == 404
    db.session.add(SeriesMember(series_id=event.series_id, organizer_id=other.id, role="door"))
    db.session.commit()
    for path in paths:
        response = client.get(path)
        assert response.status_code == 403 and "role_too_low" in response.get_data(as_text=True)


def test_polling_while_people_arrive_never_shows_whose_dot_appeared(client, organizer, make_event, make_person):
    event = make_event(organizer)
    log_in(client)
    url = f"/organizer/events/{event.public_id}/live.json"
    crowd(make_person, event, 10)
    before = client.get(url).get_json()["dots"]
    for i in range(9):  # each arrival is on the attendee list, named, as it happens
        make_person(f"Late {i}", event=event)
        data = client.get(url).get_json()
        assert data["checked_in"] == 11 + i and data["dots"] == before
    make_person("Twentieth", event=event)
    after = {tuple(dot) for dot in client.get(url).get_json()["dots"]}
    assert len(after) == 20 and not after & {tuple(dot) for dot in before}
