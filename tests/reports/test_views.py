"""Reports as browsers use them: the attendee's form from a card, and the organizer's list."""
import re

import pytest
from hypothesis import given
from sqlalchemy import select

from kithmeet.connections import services as connections
from kithmeet.events.models import Series
from kithmeet.extensions import db
from kithmeet.reports import services as reports
from kithmeet.reports.models import Report

from ..pages import badge_token, error_codes, field_error, join
from ..test_properties import SETTINGS, assert_safe, csrf, values_for


def test_report_from_the_followup_entry(meetup, signed_in):
    _, event, ada, bo, connection = meetup
    client = signed_in(ada)
    pid = connection.public_id
    assert f'href="/report/{pid}"' in client.get(f"/followup/{pid}").get_data(as_text=True)
    form = client.get(f"/report/{pid}").get_data(as_text=True)
    assert "Report <bdi>Bo</bdi>" in form and event.series.name in form
    assert all(f'value="{reason}"' in form for reason in ("harassment", "spam", "other"))
    response = client.submit(f"/report/{pid}", data={"reason": "harassment", "details": "Followed me around"})
    assert response.status_code == 302 and response.location == "/followup"
    made = db.session.scalar(select(Report))
    assert (made.reporter_id, made.reported_id, made.details) == (ada.id, bo.id, "Followed me around")


@pytest.mark.parametrize("data,field,code", [
    ({"reason": ""}, "reason", "bad_reason"),
    ({"reason": "made-up"}, "reason", "bad_reason"),
    ({"reason": "other", "details": "y" * 2001}, "details", "too_long"),
    ({"reason": "other", "details": "a\u200bb"}, "details", "control_characters"),
])
def test_a_bad_report_is_explained_beside_its_field_and_kept(meetup, signed_in, data, field, code):
    _, _, ada, _, connection = meetup
    response = signed_in(ada).submit(f"/report/{connection.public_id}", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and field_error(html, field) == code and error_codes(html) == [code]
    if data.get("details"):
        assert data["details"][:50] in html
    assert db.session.scalar(select(Report)) is None


def test_the_card_page_offers_a_report_only_where_there_is_a_connection(make_event, make_client):
    event = make_event()
    ada, bo, cy = make_client(), make_client(), make_client()
    for client, name in ((ada, "Ada"), (bo, "Bo"), (cy, "Cy")):
        join(client, event, name=name)
    bo_token = badge_token(bo)
    assert "/report/" not in ada.get(f"/B/{bo_token}").get_data(as_text=True)
    ada.submit(f"/B/{bo_token}", data={"client_id": "a1"})
    assert re.search(r'href="/report/\w+">Report Bo</a>', ada.get(f"/B/{bo_token}").get_data(as_text=True))
    assert "/report/" not in cy.get(f"/B/{bo_token}").get_data(as_text=True)


def test_someone_elses_connection_cannot_be_reported_through(meetup, make_person, signed_in):
    _, event, *_, connection = meetup
    cy = signed_in(make_person("Cy", event=event))
    for response in (cy.get(f"/report/{connection.public_id}"),
                     cy.submit(f"/report/{connection.public_id}", page="/", data={"reason": "spam"})):
        assert response.status_code == 404 and error_codes(response.get_data(as_text=True)) == ["unknown_connection"]


def test_the_organizer_reads_resolves_and_removes(meetup, organizer_signed_in, signed_in):
    organizer, event, ada, bo, connection = meetup
    made = reports.report(ada, connection.public_id, reason="harassment", details="<b>loud</b>")
    client = organizer_signed_in(organizer)
    series = event.series.public_id
    dashboard = client.get("/organizer/").get_data(as_text=True)
    assert f'href="/organizer/series/{series}/reports"' in dashboard
    page = client.get(f"/organizer/series/{series}/reports").get_data(as_text=True)
    assert 'data-state="open"' in page and "&lt;b&gt;loud&lt;/b&gt;" in page and "Bo" in page and "Ada" in page
    response = client.submit(f"/organizer/reports/{made.public_id}/resolve", page=f"/organizer/series/{series}/reports")
    assert response.status_code == 302
    page = client.get(f"/organizer/series/{series}/reports").get_data(as_text=True)
    assert 'data-state="resolved"' in page and "/resolve" not in page
    client.submit(f"/organizer/reports/{made.public_id}/remove-person", page=f"/organizer/series/{series}/reports")
    page = client.get(f"/organizer/series/{series}/reports").get_data(as_text=True)
    assert 'data-state="removed-from-series"' in page and "/remove-person" not in page
    # Bo, signed in, is refused at the join form with the code beside it.
    bo_client = signed_in(bo)
    refused = bo_client.submit(f"/J/{event.join_code}", data={"name": "Bo", "prompt_0": "Flask"})
    assert error_codes(refused.get_data(as_text=True)) == ["removed_from_series"]


def test_another_organizer_gets_not_found(meetup, make_organizer, organizer_signed_in):
    _, event, ada, _, connection = meetup
    made = reports.report(ada, connection.public_id, reason="spam")
    stranger = organizer_signed_in(make_organizer("other@example.org", "a long enough password"))
    series = event.series.public_id
    responses = [stranger.get(f"/organizer/series/{series}/reports"),
                 stranger.submit(f"/organizer/reports/{made.public_id}/resolve", page="/organizer/"),
                 stranger.submit(f"/organizer/reports/{made.public_id}/remove-person", page="/organizer/")]
    assert [response.status_code for response in responses] == [404, 404, 404]
    assert [error_codes(r.get_data(as_text=True)) for r in responses] == [["unknown_series"], ["unknown_report"],
                                                                          ["unknown_report"]]
    db.session.expire_all()
    assert db.session.get(Report, made.id).resolved_at is None


def test_the_reports_page_does_not_grow_in_queries_with_reports(meetup, make_person, organizer_signed_in,
                                                                 count_queries):
    organizer, event, ada, _, connection = meetup
    reports.report(ada, connection.public_id, reason="spam")
    client = organizer_signed_in(organizer)
    series = db.session.scalar(select(Series.public_id))

    def statements():
        client.get(f"/organizer/series/{series}/reports")
        with count_queries() as run:
            assert client.get(f"/organizer/series/{series}/reports").status_code == 200
        return len(run)
    few = statements()
    for i in range(6):
        other = make_person(f"P{i}", event=event)
        connection, _ = connections.connect(other, ada.badge_token)
        reports.report(other, connection.public_id, reason="spam", details=f"number {i}")
    assert statements() == few


@SETTINGS
@given(data=values_for(["reason", "details"]))
def test_the_report_form_takes_any_text_and_shows_it_escaped(meetup, signed_in, organizer_signed_in, data):
    """As tests/test_properties.py drives every form: never a 500, never markup on a page,
    neither the reporter's nor the organizer's."""
    organizer, event, ada, _, connection = meetup
    path = f"/report/{connection.public_id}"
    client = signed_in(ada)
    response = client.post(path, data={"csrf_token": csrf(client, path), "reason": "other", **data})
    organizer_page = organizer_signed_in(organizer).get(f"/organizer/series/{event.series.public_id}/reports")
    assert_safe(response, client.get(path).get_data(as_text=True), organizer_page.get_data(as_text=True))
