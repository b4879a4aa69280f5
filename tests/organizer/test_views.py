"""First-run setup, organizer sign-in, creating and opening events, the poster."""
import re
from datetime import datetime

import pytest
from sqlalchemy import func, select

from kithmeet.errors import DomainError
from kithmeet.events.models import Event
from kithmeet.extensions import db
from kithmeet.organizer import services as organizers
from kithmeet.organizer.models import Organizer

from ..pages import error_codes, field_error, form_error_codes


def setup_form(client, **data):
    return client.submit("/organizer/setup", data={"email": "org@example.org", "password": "a long password",
                                                   **data})


def test_fresh_site_leads_to_setup_which_needs_the_code(app, client):
    assert client.get("/").location == "/organizer/setup"
    assert client.get("/organizer/setup").status_code == 200
    assert organizers.existing_setup_code() is None  # GET makes nothing: `flask setup-code` does
    code = organizers.setup_code()
    wrong = setup_form(client, code="WRONG-CODE")
    html = wrong.get_data(as_text=True)
    assert wrong.status_code == 200 and field_error(html, "code") == "bad_setup_code"
    assert error_codes(html) == ["bad_setup_code"]
    assert 'value="org@example.org"' in wrong.get_data(as_text=True)  # typed email kept
    assert not organizers.organizer_exists()
    right = setup_form(client, code=code.lower())
    assert right.status_code == 302 and right.location == "/organizer/events/new"
    # Once done, setup is closed for good and the code file is gone.
    again = client.get("/organizer/setup")
    assert again.location == "/organizer/login"
    assert organizers.setup_code() != code


def test_setup_service_refuses_a_wrong_code(app):
    organizers.setup_code()
    with pytest.raises(DomainError) as error:
        organizers.complete_setup("WRONG-CODE", "org@example.org", "a long password")
    assert error.value.code == "bad_setup_code"
    assert not organizers.organizer_exists()


def test_setup_refuses_a_short_password(client):
    response = setup_form(client, code=organizers.setup_code(), password="short")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and field_error(html, "password") == "weak_password"
    assert error_codes(html) == ["weak_password"]
    assert db.session.scalar(select(func.count(Organizer.id))) == 0


def test_login_with_right_and_wrong_password(client, make_organizer):
    make_organizer("org@example.org", "the right password")
    wrong = client.submit("/organizer/login", data={"email": "org@example.org", "password": "nope"})
    assert wrong.status_code == 200 and form_error_codes(wrong.get_data(as_text=True)) == ["bad_credentials"]
    unknown = client.submit("/organizer/login", data={"email": "who@example.org", "password": "nope"})
    assert unknown.status_code == 200 and form_error_codes(unknown.get_data(as_text=True)) == ["bad_credentials"]
    assert client.get("/organizer/").status_code == 302
    right = client.submit("/organizer/login?next=/organizer/", data={"email": "ORG@example.org",
                                                                     "password": "the right password"})
    assert right.location == "/organizer/"
    assert client.get("/organizer/").status_code == 200
    offsite = client.submit("/organizer/login?next=//evil.example/", data={
        "email": "org@example.org", "password": "the right password"})
    assert offsite.location == "/organizer/"


def test_password_is_hashed(make_organizer):
    organizer = make_organizer(password="the right password")
    assert "the right password" not in organizer.password_hash
    assert organizer.password_hash.startswith(("scrypt:", "pbkdf2:"))


@pytest.fixture
def organizer_client(client, make_organizer):
    make_organizer("org@example.org", "the right password")
    client.submit("/organizer/login", data={"email": "org@example.org", "password": "the right password"})
    return client


def test_create_open_and_close_an_event(organizer_client):
    form = organizer_client.get("/organizer/events/new").get_data(as_text=True)
    assert 'value="Ask me about"' in form and 'value="I can help with"' in form and 'value="I&#39;m looking for"' in form
    response = organizer_client.submit("/organizer/events/new", data={
        "series": "Thursday Gathering", "name": "Week 47", "starts_at": "2026-11-26T19:00",
        "venue": "The Corner Café", "description": "Bring a friend",
        "prompt_0": "Ask me about", "prompt_1": "I can help with", "prompt_2": "I'm looking for"})
    assert response.status_code == 302
    event = db.session.scalar(select(Event))
    assert event.status == "draft" and event.starts_at == datetime(2026, 11, 26, 19, 0)
    assert event.prompt_labels == ["Ask me about", "I can help with", "I'm looking for"]
    page_url = response.location
    organizer_client.submit(f"{page_url}/status", page=page_url, data={"status": "open"})
    page = organizer_client.get(page_url).get_data(as_text=True)
    join_link = re.search(r'id="join-link"[^>]*value="([^"]+)"', page).group(1)
    assert join_link == f"http://localhost/J/{event.join_code}" and "Open:" in page
    poster = organizer_client.get(f"{page_url}/poster").get_data(as_text=True)
    assert f"/J/{event.join_code}.svg" in poster and join_link in poster
    bogus = organizer_client.submit(f"{page_url}/status", page=page_url, data={"status": "deleted"})
    assert bogus.status_code == 400 and error_codes(bogus.get_data(as_text=True)) == ["bad_status"]
    organizer_client.submit(f"{page_url}/status", page=page_url, data={"status": "closed"})
    db.session.expire_all()
    assert db.session.get(Event, event.id).status == "closed"


@pytest.mark.parametrize("data,field,code", [
    ({"name": ""}, "name", "required"),
    ({"starts_at": "next thursday"}, "starts_at", "required"),
    ({"starts_at": ""}, "starts_at", "required"),
    # Across the prompts, shown under the first one.
    ({"prompt_1": "Ask me about"}, "prompt_0", "duplicate_prompt"),
    ({"prompt_0": "", "prompt_1": "", "prompt_2": ""}, "prompt_0", "no_prompt"),
    ({"name": "<script>x</script>" * 20}, "name", "too_long"),
])
def test_bad_event_input_is_explained_and_kept(organizer_client, data, field, code):
    fields = {"series": "Thursday Gathering", "name": "Week 47", "starts_at": "2026-11-26T19:00",
              "venue": "Café ☕ upstairs", "prompt_0": "Ask me about", "prompt_1": "I can help with",
              "prompt_2": "I'm looking for", **data}
    response = organizer_client.submit("/organizer/events/new", data=fields)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and field_error(html, field) == code and error_codes(html) == [code]
    assert 'value="Café ☕ upstairs"' in html
    assert db.session.scalar(select(func.count(Event.id))) == 0


def test_the_date_format_the_hint_shows_is_accepted(organizer_client):
    response = organizer_client.submit("/organizer/events/new", data={
        "name": "Week 48", "starts_at": "2026-12-03 19:30", "prompt_0": "Ask me about"})
    assert response.status_code == 302
    assert db.session.scalar(select(Event.starts_at)) == datetime(2026, 12, 3, 19, 30)


def test_dashboard_queries_do_not_grow_with_events(app, organizer_client, make_event, count_queries):
    organizer = db.session.scalar(select(Organizer))
    make_event(organizer, series_name="Series 0")

    def queries():
        with count_queries() as statements:
            assert organizer_client.get("/organizer/").status_code == 200
        return len(statements)
    organizer_client.get("/organizer/")  # the first page after signing in stores a new form token
    few = queries()
    for i in range(1, 12):
        make_event(organizer, name=f"Event {i}", series_name=f"Series {i}")
    assert queries() == few


def test_the_setup_code_sent_many_times_at_once_makes_one_organizer(app):
    import threading

    code = organizers.setup_code()
    barrier, outcomes = threading.Barrier(8), []

    def send(i):
        with app.app_context():
            try:
                barrier.wait()
                organizers.complete_setup(code, f"org{i}@example.org", "a long enough password")
                outcomes.append("ok")
            except DomainError as error:
                outcomes.append(error.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert outcomes.count("ok") == 1 and len(outcomes) == 8
    assert set(outcomes) - {"ok"} <= {"setup_done", "bad_setup_code"}
    assert db.session.scalar(select(func.count(Organizer.id))) == 1
    assert organizers.existing_setup_code() is None


def test_a_setup_that_fails_after_claiming_the_code_gives_it_back(app, monkeypatch):
    code = organizers.setup_code()

    def refuse(*_args):
        raise DomainError("taken", "organizer_exists")
    monkeypatch.setattr(organizers, "create_organizer", refuse)
    with pytest.raises(DomainError):
        organizers.complete_setup(code, "org@example.org", "a long enough password")
    assert organizers.existing_setup_code() == code
