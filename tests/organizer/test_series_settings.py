"""A series' settings: retention and the code-of-conduct link, only for its own organizer,
audited, with what the next purge will remove shown as counts."""
import re
from datetime import datetime

import pytest
from sqlalchemy import select

from kithmeet import database
from kithmeet.audit.models import AuditEntry
from kithmeet.errors import DomainError
from kithmeet.events import series as series_service
from kithmeet.events.models import Series
from kithmeet.connections import services as connections
from kithmeet.extensions import db
from kithmeet.organizer.models import Organizer

from ..pages import error_codes, field_error

PASSWORD = "the right password"


@pytest.fixture
def series(make_organizer, make_event):
    organizer = make_organizer("org@example.org", PASSWORD)
    return make_event(organizer).series


def signed_in_organizer(client, email):
    response = client.submit("/organizer/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302
    return client


@pytest.fixture
def organizer_client(client, series):
    return signed_in_organizer(client, "org@example.org")


def url(series):
    return f"/organizer/series/{series.public_id}/settings"


def save(client, series, **data):
    return client.submit(url(series), data={"retention_months": "12", "code_of_conduct_url": "", **data})


def test_the_dashboard_links_each_series_to_its_settings(organizer_client, series, make_event):
    make_event(_organizer(series), name="Week 48")  # a second event of the same series
    html = organizer_client.get("/organizer/").get_data(as_text=True)
    assert html.count(f'href="{url(series)}"') == 1


def _organizer(series):
    return db.session.get(Organizer, series.organizer_id)


def test_the_organizer_sets_retention_and_a_code_of_conduct_link(organizer_client, series):
    page = organizer_client.get(url(series)).get_data(as_text=True)
    assert 'value="12"' in page and 'name="code_of_conduct_url"' in page
    response = save(organizer_client, series, retention_months="6", code_of_conduct_url="example.org/conduct")
    assert response.status_code == 302 and response.location == url(series)
    db.session.expire_all()
    saved = db.session.get(Series, series.id)
    assert (saved.retention_months, saved.code_of_conduct_url) == (6, "https://example.org/conduct")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "series.updated"))
    assert (entry.series_id, entry.organizer_id) == (series.id, series.organizer_id)
    assert 'value="https://example.org/conduct"' in organizer_client.get(url(series)).get_data(as_text=True)
    save(organizer_client, series, retention_months="120", code_of_conduct_url="")
    db.session.expire_all()
    saved = db.session.get(Series, series.id)
    assert (saved.retention_months, saved.code_of_conduct_url) == (120, "")


@pytest.mark.parametrize("data,field,code", [
    ({"retention_months": "0"}, "retention_months", "bad_retention"),
    ({"retention_months": "121"}, "retention_months", "bad_retention"),
    ({"retention_months": "-3"}, "retention_months", "bad_retention"),
    ({"retention_months": "6.5"}, "retention_months", "bad_retention"),
    ({"retention_months": "twelve"}, "retention_months", "bad_retention"),
    ({"retention_months": "²"}, "retention_months", "bad_retention"),  # a digit int() cannot read
    ({"retention_months": "1" * 5000}, "retention_months", "bad_retention"),  # more digits than int() reads
    ({"retention_months": ""}, "retention_months", "required"),
    ({"code_of_conduct_url": "javascript:alert(1)"}, "code_of_conduct_url", "bad_url"),
    ({"code_of_conduct_url": "https://evil.example\\.example.org/coc"}, "code_of_conduct_url", "bad_url"),
    ({"code_of_conduct_url": "https://user:pw@example.org/coc"}, "code_of_conduct_url", "bad_url"),
    ({"code_of_conduct_url": "ftp://example.org/coc"}, "code_of_conduct_url", "bad_url"),
    ({"code_of_conduct_url": "https://[example.org/coc"}, "code_of_conduct_url", "bad_url"),
    ({"code_of_conduct_url": "https://example.org/\u202ecoc"}, "code_of_conduct_url", "control_characters"),
    ({"code_of_conduct_url": "https://example.org/" + "c" * 300}, "code_of_conduct_url", "too_long"),
])
def test_bad_settings_are_explained_beside_their_field_and_change_nothing(organizer_client, series, db_state,
                                                                         data, field, code):
    organizer_client.get(url(series))
    before = {name: rows for name, rows in db_state().items() if name != "web_session"}
    response = save(organizer_client, series, **{"code_of_conduct_url": "https://example.org/kept", **data})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and field_error(html, field) == code and error_codes(html) == [code]
    assert {name: rows for name, rows in db_state().items() if name != "web_session"} == before
    typed = data.get("code_of_conduct_url", "https://example.org/kept")
    if code != "too_long" and "\\" not in typed and "\u202e" not in typed:
        assert f'value="{typed}"' in html  # what was typed is kept


def test_another_organizers_series_does_not_exist_for_them(series, make_organizer, make_client, db_state):
    make_organizer("other@example.org", PASSWORD)
    other = signed_in_organizer(make_client(), "other@example.org")
    other.get("/organizer/")
    before = {name: rows for name, rows in db_state().items() if name != "web_session"}
    assert other.get(url(series)).status_code == 404
    token = other.csrf_token("/organizer/")
    response = other.post(url(series), data={"csrf_token": token, "retention_months": "1",
                                             "code_of_conduct_url": "https://evil.example"})
    assert response.status_code == 404 and error_codes(response.get_data(as_text=True)) == ["unknown_series"]
    assert {name: rows for name, rows in db_state().items() if name != "web_session"} == before
    assert make_client().get(url(series)).status_code == 302  # strangers sign in first


def test_the_service_checks_everything_itself(series, make_organizer):
    owner = _organizer(series)
    for months in (0, 121, True, 6.0, "6", None):
        with pytest.raises(DomainError) as error:
            series_service.update_settings(owner, series.public_id, retention_months=months, code_of_conduct_url="")
        assert error.value.code == "bad_retention"
    for link, code in (("javascript:alert(1)", "bad_url"), ("https://a.example/" + "x" * 300, "too_long")):
        with pytest.raises(DomainError) as error:
            series_service.update_settings(owner, series.public_id, retention_months=6, code_of_conduct_url=link)
        assert error.value.code == code
    with pytest.raises(DomainError) as error:
        series_service.update_settings(make_organizer(), series.public_id, retention_months=6,
                                       code_of_conduct_url="")
    assert (error.value.code, error.value.status) == ("unknown_series", 404)
    assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "series.updated")) is None
    db.session.expire_all()
    assert db.session.get(Series, series.id).retention_months == 12


def counts(html):
    return {name: int(value) for name, value in re.findall(r'data-count="(\w+)">(\d+)<', html)}


def test_the_page_shows_what_the_next_purge_removes_as_counts(organizer_client, series, make_person, monkeypatch):
    event = series.events[0]  # starts 26 November 2026
    ada, bo = make_person("Ada Okafor", event=event), make_person("Bo", event=event)
    connections.connect(ada, bo.badge_token)
    assert counts(organizer_client.get(url(series)).get_data(as_text=True)) == {
        "people": 0, "connections": 0, "check_ins": 0}
    monkeypatch.setattr(database, "utcnow", lambda: datetime(2027, 12, 1))  # a year after the event
    html = organizer_client.get(url(series)).get_data(as_text=True)
    assert counts(html) == {"people": 2, "connections": 1, "check_ins": 2}
    assert "Ada Okafor" not in html
    save(organizer_client, series, retention_months="24")
    assert counts(organizer_client.get(url(series)).get_data(as_text=True)) == {
        "people": 0, "connections": 0, "check_ins": 0}
