"""Joining, the badge page and personal sign-in links, as a browser uses them: bad input
is explained beside its field, and nothing is ever a 500."""
import re

import pytest
from sqlalchemy import func, select

from kithmeet.extensions import db
from kithmeet.people.models import Person

from ..pages import badge_token, error_codes, field_error, join, new_signin_path


def test_join_lands_on_the_badge_page(client, make_event):
    event = make_event()
    response = join(client, event, headline="Backend dev")
    assert response.status_code == 302 and response.location == "/badge"
    html = client.get("/badge").get_data(as_text=True)
    assert "Ada Okafor" in html and "Flask" in html and "Ask me about" in html
    token = badge_token(client)
    assert " ".join(token[i:i + 4] for i in range(0, len(token), 4)) in html  # the typed-by-hand code


def test_join_again_checks_in_with_one_tap_prefilled(client, make_organizer, make_event):
    organizer = make_organizer()
    week1, week2 = make_event(organizer, name="Week 1"), make_event(organizer, name="Week 2")
    join(client, week1, headline="Rust learner", email="ada@example.org", share_email="y")
    token = badge_token(client)
    page = client.get(f"/J/{week2.join_code}").get_data(as_text=True)
    assert "Check in as Ada Okafor" in page and 'value="Rust learner"' in page and 'value="ada@example.org"' in page
    nonce = re.search(r'name="nonce" type="hidden" value="([^"]+)"', page).group(1)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    form = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page))
    form.update({"nonce": nonce, "csrf_token": csrf})
    assert client.post(f"/J/{week2.join_code}", data=form).status_code == 302
    assert badge_token(client) == token  # the same badge works next week
    assert db.session.scalar(select(func.count(Person.id))) == 1


def test_double_submitted_join_makes_one_person(client, make_event):
    event = make_event()
    page = client.get(f"/J/{event.join_code}").get_data(as_text=True)
    data = {"csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1),
            "nonce": re.search(r'name="nonce" type="hidden" value="([^"]+)"', page).group(1), "name": "Ada"}
    assert client.post(f"/J/{event.join_code}", data=data).status_code == 302
    # Signing in gave the browser a new session and form token, so the copy sent again is
    # refused; the page says who is signed in and links the badge.
    again = client.post(f"/J/{event.join_code}", data=data)
    assert again.status_code == 400 and 'data-code="csrf"' in again.get_data(as_text=True)
    assert 'data-state="signed-in"' in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Person.id))) == 1


@pytest.mark.parametrize("data,field,code", [
    ({"name": ""}, "name", "required"),
    ({"name": "   "}, "name", "required"),
    ({"name": "x" * 81}, "name", "too_long"),
    ({"email": "not-an-email"}, "email", "bad_email"),
    ({"phone": "call me maybe"}, "phone", "bad_phone"),
    ({"website": "javascript:alert(1)"}, "website", "bad_url"),
    ({"linkedin": "https://evil.example/in/x"}, "linkedin", "bad_url"),
    ({"linkedin": "https://evillinkedin.com/in/x"}, "linkedin", "bad_url"),
    ({"website": "javascript:1"}, "website", "bad_url"),
    ({"name": "Ada\x07"}, "name", "control_characters"),
])
def test_bad_join_input_is_explained_and_typed_values_kept(client, make_event, data, field, code):
    event = make_event()
    fields = {"headline": "kept headline ✨", "pronouns": "she/her", **data}
    response = join(client, event, **fields)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    # Beside the field, and in the summary above the form that links to it.
    assert field_error(html, field) == code and error_codes(html) == [code, code]
    assert 'value="kept headline ✨"' in html
    assert db.session.scalar(select(func.count(Person.id))) == 0


def test_unicode_rtl_emoji_and_html_are_kept_and_escaped(client, make_event, make_client):
    event = make_event()
    name = "أمينة <script>alert(1)</script> 🌱"
    join(client, event, name=name, headline='"><img src=x onerror=alert(1)>', prompt_0="<b>bold</b>")
    badge = client.get("/badge").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in badge and "&lt;script&gt;" in badge
    assert "أمينة" in badge and "🌱" in badge and "<b>bold</b>" not in badge
    other = make_client()
    join(other, event, name="Bo")
    scan = other.get(f"/B/{badge_token(client)}").get_data(as_text=True)
    assert "<img src=x" not in scan and "&lt;img src=x" in scan and 'dir="auto"' in scan


def test_website_and_linkedin_are_normalised_to_https(client, make_event):
    event = make_event()
    join(client, event, website="ada.example", linkedin="ada-okafor")
    person = db.session.scalar(select(Person))
    assert {c.kind: c.value for c in person.contacts} == {
        "website": "https://ada.example", "linkedin": "https://www.linkedin.com/in/ada-okafor"}


@pytest.mark.parametrize("status,code", [("draft", "event_not_open"), ("closed", "event_closed")])
def test_join_link_of_an_event_not_open_says_so(client, make_event, status, code):
    event = make_event(status=status)
    response = client.get(f"/J/{event.join_code}")
    assert response.status_code == 400 and error_codes(response.get_data(as_text=True)) == [code]


def test_unknown_join_code_and_lowercase_join_link(client, make_event):
    event = make_event()
    unknown = client.get("/J/AAAAAAAAAA")
    assert unknown.status_code == 404 and error_codes(unknown.get_data(as_text=True)) == ["unknown_event"]
    response = client.get(f"/j/{event.join_code.lower()}")
    assert response.status_code == 301 and response.location.endswith(f"/J/{event.join_code}")


def test_joining_from_a_scanned_badge_comes_back_to_it(make_event, make_client):
    event = make_event()
    ada, newcomer = make_client(), make_client()
    join(ada, event, name="Ada")
    token = badge_token(ada)
    response = newcomer.submit(f"/J/{event.join_code}?next=/B/{token}", data={"name": "New"})
    assert response.location == f"/B/{token}"
    evil = make_client().submit(f"/J/{event.join_code}?next=https://evil.example/", data={"name": "N2"})
    assert evil.location == "/badge"


def test_pages_that_need_an_attendee_send_strangers_home(client):
    for path in ("/badge", "/followup"):
        response = client.get(path)
        assert response.status_code == 302 and response.location == "/"


def test_signin_link_get_does_not_sign_in_post_does(make_event, make_client):
    event = make_event()
    ada, laptop = make_client(), make_client()
    join(ada, event, name="Ada")
    html = ada.submit("/badge/sign-in-link", page="/badge", follow_redirects=True).get_data(as_text=True)
    link = re.search(r'value="(http[^"]+/signin/[^"]+)"', html).group(1)
    path = link.split("localhost", 1)[1]
    assert "Continue as Ada" in laptop.get(path).get_data(as_text=True)
    assert laptop.get("/badge").status_code == 302  # GET changed nothing
    assert laptop.submit(path).location == "/badge"
    assert "Ada" in laptop.get("/badge").get_data(as_text=True)
    bad = make_client().get("/signin/not-a-real-secret")
    assert bad.status_code == 404 and error_codes(bad.get_data(as_text=True)) == ["bad_signin_link"]


def test_opening_someone_elses_sign_in_link_says_who_you_are_and_who_you_would_become(two_attendees,
                                                                                    make_client):
    _, ada, bo, _ = two_attendees
    path = new_signin_path(ada)
    page = bo.get(path).get_data(as_text=True)
    switching = re.search(r'data-state="switching">(.*?)</p>', page, re.S).group(1)
    assert "Bo" in switching and "Ada" in switching  # who you are now, and who you would become
    assert 'href="/badge"' in page  # a way to stay as Bo
    assert "Bo" in bo.get("/badge").get_data(as_text=True)  # opening it switched nothing
    assert 'data-state="switching"' not in make_client().get(path).get_data(as_text=True)
    assert 'data-state="same-person"' in ada.get(path).get_data(as_text=True)
    assert bo.submit(path).location == "/badge"  # continuing does switch
    assert "Ada" in bo.get("/badge").get_data(as_text=True)


def test_replaced_badge_code_stops_working(two_attendees):
    _, ada, bo, old = two_attendees
    ada.submit("/badge/replace", page="/badge")
    new = badge_token(ada)
    assert new != old
    revoked = bo.get(f"/B/{old}")
    assert revoked.status_code == 404 and error_codes(revoked.get_data(as_text=True)) == ["revoked_badge"]
    assert bo.get(f"/B/{new}").status_code == 200


def test_sign_in_links_work_once(two_attendees, make_client):
    _, ada, _, _ = two_attendees
    path = new_signin_path(ada)
    assert make_client().submit(path).location == "/badge"
    second = make_client()
    token = second.csrf_token("/")
    used = second.post(path, data={"csrf_token": token})
    assert used.status_code == 404 and error_codes(used.get_data(as_text=True)) == ["bad_signin_link"]


def test_sign_out_other_devices(make_event, make_client):
    event = make_event()
    phone, laptop = make_client(), make_client()
    join(phone, event, name="Ada")
    laptop.submit(new_signin_path(phone))
    assert laptop.get("/badge").status_code == 200
    phone.submit("/badge/sign-out-everywhere", page="/badge")
    assert laptop.get("/badge").status_code == 302  # signed out
    assert phone.get("/badge").status_code == 200  # the device that asked stays in


def test_a_join_nonce_from_another_browser_signs_nobody_in(make_event, make_client):
    event = make_event()
    vera, other = make_client(), make_client()
    page = vera.get(f"/J/{event.join_code}").get_data(as_text=True)
    nonce = re.search(r'name="nonce" type="hidden" value="([^"]+)"', page).group(1)
    vera.submit(f"/J/{event.join_code}", data={"name": "Vera", "nonce": nonce, "phone": "+1 555 0100"})
    other.submit(f"/J/{event.join_code}", data={"name": "Mallory", "nonce": nonce})
    badge = other.get("/badge").get_data(as_text=True)
    assert "Mallory" in badge and "Vera" not in badge
    assert "555 0100" not in other.get(f"/J/{event.join_code}").get_data(as_text=True)
    assert db.session.scalar(select(func.count(Person.id))) == 2


def test_newline_in_next_is_ignored_not_an_error(client, make_event, make_organizer):
    event = make_event()
    response = client.submit(f"/J/{event.join_code}?next=/B/ABCDEFGHJK%0A", data={"name": "Ada"})
    assert response.status_code == 302 and response.location == "/badge"
    make_organizer("org@example.org", "the right password")
    for target in ("/organizer/%0aX", "/organizer\\@evil.example", "https://evil.example/organizer"):
        login = make_client_login(client, target)
        assert login.status_code == 302 and login.location == "/organizer/", target


def make_client_login(client, target):
    return client.submit(f"/organizer/login?next={target}", page="/organizer/login",
                         data={"email": "org@example.org", "password": "the right password"})


def test_reloading_the_sign_in_link_page_neither_shows_nor_voids_it(two_attendees, make_client):
    _, ada, _, _ = two_attendees
    path = new_signin_path(ada)
    reloaded = ada.get("/badge/sign-in-link").get_data(as_text=True)
    assert "/signin/" not in reloaded and "shown only once" in reloaded
    assert make_client().submit(path).location == "/badge"  # the copied link still works


def test_a_stale_join_form_sent_after_signing_out_signs_nobody_in_as_its_first_sender(client, make_event):
    event = make_event()
    page = client.get(f"/J/{event.join_code}").get_data(as_text=True)
    form = {"csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1),
            "nonce": re.search(r'name="nonce" type="hidden" value="([^"]+)"', page).group(1),
            "name": "Vera", "phone": "+1 555 0100"}
    assert client.post(f"/J/{event.join_code}", data=form).status_code == 302
    client.submit("/signout", page="/badge")
    # The same form, sent again from the same browser (the back button) by whoever uses it
    # next: signing in and out each began a new session, so its token is refused.
    form["name"] = "Next person"
    stale = client.post(f"/J/{event.join_code}", data=form)
    assert stale.status_code == 400 and 'data-code="csrf"' in stale.get_data(as_text=True)
    assert client.get("/badge").status_code == 302  # nobody is signed in
    # Reloaded, the form makes the next person, not Vera.
    assert join(client, event, name="Next person").status_code == 302
    badge = client.get("/badge").get_data(as_text=True)
    assert "Next person" in badge and "Vera" not in badge
    assert db.session.scalar(select(func.count(Person.id))) == 2


def test_a_sign_in_secret_never_travels_in_a_cookie(two_attendees, app):
    _, ada, _, _ = two_attendees
    response = ada.submit("/badge/sign-in-link", page="/badge")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    secret = re.search(r'value="http://localhost/signin/([^"]+)"', response.get_data(as_text=True)).group(1)
    assert secret not in ada.get_cookie("session").value
    # Nor is it kept in the server-side session the cookie names.
    from kithmeet.sessions import WebSession

    stored = [app.session_interface.serializer.decode(row.data) for row in db.session.scalars(select(WebSession))]
    assert any("person" in data for data in stored) and secret not in str(stored)


@pytest.mark.parametrize("data,field,code", [
    ({"linkedin": "https://evil.example\\.linkedin.com/in/x"}, "linkedin", "bad_url"),
    ({"linkedin": "https://www.linkedin.com@evil.example/in/x"}, "linkedin", "bad_url"),
    ({"website": "https://user:pw@ada.example"}, "website", "bad_url"),
    ({"website": "https://ada.example\x00/"}, "website", "control_characters"),
    ({"website": "https://exa mple.org"}, "website", "bad_url"),
    ({"website": "https://ada..example"}, "website", "bad_url"),
    ({"website": "https://ada.example:99999/"}, "website", "bad_url"),
    ({"email": "ada@example.org\x00"}, "email", "control_characters"),
    ({"phone": "+44 20\x00 7946"}, "phone", "control_characters"),
    ({"name": "\u202eanilomA"}, "name", "control_characters"),
    ({"name": "Ada\u200b Okafor"}, "name", "control_characters"),
    ({"headline": "Backend \u2066dev\u2069"}, "headline", "control_characters"),
    ({"prompt_0": "Rust\ufeff"}, "prompt_0", "control_characters"),
    ({"name": "Ada\u00adLovelace"}, "name", "control_characters"),
    ({"name": "\u3164"}, "name", "control_characters"),
    ({"name": "Ada\U000e0041"}, "name", "control_characters"),
    ({"name": "Ada\u061c"}, "name", "control_characters"),
    ({"name": "A" + "\u0301" * 70}, "name", "control_characters"),
    ({"headline": "one\u2028two"}, "headline", "control_characters"),
    ({"website": "["}, "website", "bad_url"),
    ({"website": "https://ada.example:0/"}, "website", "bad_url"),
])
def test_disguised_and_malformed_input_is_refused_beside_its_field(client, make_event, data, field, code):
    event = make_event()
    response = join(client, event, **{"name": "Ada", "headline": "kept headline ✨", **data})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and field_error(html, field) == code
    assert db.session.scalar(select(func.count(Person.id))) == 0


def test_emoji_sequences_and_persian_joiners_are_kept(client, make_event):
    event = make_event()
    name, headline = "Mina 👩‍💻", "می‌خواهم یاد بگیرم"  # a zero-width joiner in the emoji, a non-joiner in the Persian
    assert join(client, event, name=name, headline=headline, website="https://bücher.example").status_code == 302
    person = db.session.scalar(select(Person))
    assert (person.name, person.headline) == (name, headline)
    assert [c.value for c in person.contacts] == ["https://bücher.example"]


def test_bytes_that_are_not_utf8_are_explained_beside_their_field(client, make_event):
    event = make_event()
    page = client.get(f"/J/{event.join_code}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    body = f"csrf_token={token}&name=Ada%FF%FEOkafor&headline=Fine+words".encode()
    response = client.post(f"/J/{event.join_code}", data=body, content_type="application/x-www-form-urlencoded")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and field_error(html, "name") == "invalid_utf8"
    assert field_error(html, "headline") is None and 'value="Fine words"' in html
    assert db.session.scalar(select(func.count(Person.id))) == 0
    # The same letters typed on purpose, percent-encoded as a browser sends them, are kept.
    literal = f"csrf_token={token}&name=Ada+%25FF&headline=x".encode()
    assert client.post(f"/J/{event.join_code}", data=literal,
                       content_type="application/x-www-form-urlencoded").status_code == 302
    assert db.session.scalar(select(Person.name)) == "Ada %FF"


def test_a_join_form_replayed_later_signs_nobody_in(make_event, make_client, monkeypatch):
    from datetime import timedelta

    from kithmeet.people import services as people_services

    event = make_event()
    victim, attacker = make_client(), make_client()
    page = victim.get(f"/J/{event.join_code}").get_data(as_text=True)
    form = {"csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1),
            "nonce": re.search(r'name="nonce" type="hidden" value="([^"]+)"', page).group(1), "name": "Victim"}
    cookie = victim.get_cookie("session").value  # the pre-join cookie, copied off the network
    assert victim.post(f"/J/{event.join_code}", data=form).status_code == 302
    monkeypatch.setattr(people_services, "NONCE_WINDOW", timedelta(seconds=-1))  # the minutes have passed
    attacker.set_cookie("session", cookie)
    # Joining began a new session: the copied one, and the form token it held, are gone.
    replayed = attacker.post(f"/J/{event.join_code}", data={**form, "name": "Mallory"})
    assert replayed.status_code == 400 and 'data-code="csrf"' in replayed.get_data(as_text=True)
    assert attacker.get("/badge").status_code == 302
    assert db.session.scalar(select(func.count(Person.id))) == 1


def test_a_person_removed_from_the_series_is_told_on_the_join_page(make_organizer, make_event, make_person,
                                                                   signed_in):
    from kithmeet.events import services as events

    organizer = make_organizer()
    event = make_event(organizer)
    ada = make_person("Ada", event=event)
    client = signed_in(ada)
    assert error_codes(client.get(f"/J/{event.join_code}").get_data(as_text=True)) == []
    events.remove_from_series(organizer, event.series_id, ada.id)
    assert error_codes(client.get(f"/J/{event.join_code}").get_data(as_text=True)) == ["removed_from_series"]


def error_summary(html):
    """(field id, code) of each link in the error summary at the top of a form, in order."""
    box = re.search(r'<div class="flash flash-error error-summary" role="alert"[^>]*>(.*?)</div>', html, re.DOTALL)
    return re.findall(r'<a href="#([^"]+)" data-code="([^"]+)"', box.group(1)) if box else []


def test_a_refused_join_sums_up_its_field_errors_above_the_form(make_client, make_event, make_person):
    event = make_event()
    make_person("Ada Okafor", event=event, contacts={"email": "ada@example.org"})
    response = join(make_client(), event, name="Ada again", email="ada@example.org")
    html = response.get_data(as_text=True)
    assert field_error(html, "email") == "email_known"
    assert error_summary(html) == [("email", "email_known")]
    assert html.index('data-state="error-summary"') < html.index("<form method=\"post\" novalidate>")
    bad = join(make_client(), event, name="", headline="x" * 121).get_data(as_text=True)
    assert error_summary(bad) == [("name", "required"), ("headline", "too_long")]
    assert error_summary(make_client().get(f"/J/{event.join_code}").get_data(as_text=True)) == []


def test_text_inputs_stop_at_the_length_the_form_accepts(client, make_event):
    html = client.get(f"/J/{make_event().join_code}").get_data(as_text=True)
    limits = {name: re.search(rf'<input[^>]*\bname="{name}"[^>]*>', html).group(0) for name in
              ("name", "pronouns", "headline", "prompt_0")}
    for name, limit in (("name", 80), ("pronouns", 40), ("headline", 120), ("prompt_0", 200)):
        assert f'maxlength="{limit}"' in limits[name], name


def test_a_closed_events_join_link_leads_back_in_or_to_the_people_met(client, make_event, make_person, signed_in):
    event = make_event(status="closed")
    response = client.get(f"/J/{event.join_code}")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and error_codes(html) == ["event_closed"]
    assert 'class="button button-big" href="/signin/email"' in html and 'href="/followup"' not in html
    mine = signed_in(make_person("Ada")).get(f"/J/{event.join_code}")
    html = mine.get_data(as_text=True)
    assert mine.status_code == 400 and error_codes(html) == ["event_closed"]
    assert 'class="button button-big" href="/followup"' in html and 'href="/signin/email"' not in html
    assert "Go to the start page" not in html
