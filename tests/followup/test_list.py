"""The follow-up list's filters, search and sort, and the statuses as the list reads them."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from kithmeet.followup import views
from kithmeet.connections import consent, notes
from kithmeet.connections import services as connections
from kithmeet.connections.models import ConnectionSide
from kithmeet.database import utcnow
from kithmeet.events import services as events
from kithmeet.events.models import Event
from kithmeet.extensions import db
from kithmeet.followup import services as followup
from kithmeet.followup.services import Filters
from kithmeet.people.models import Person

from ..postgres import BOTH_DATABASES
from .test_views import rejoin


def names(page):
    return [entry.other.name for entry in page.entries]


def listed(client, query=""):
    """The names on the list page, in order."""
    html = client.get(f"/followup{query}").get_data(as_text=True)
    return re.findall(r'<span class="row-name" dir="auto">([^<]*)</span>', html)


@pytest.fixture
def two_nights(make_organizer, make_event, make_person):
    """Ada met Bo and Cy at night 1, then Cy again and Di at night 2 (the open one)."""
    organizer = make_organizer()
    first = make_event(organizer, name="Night one")
    ada = make_person("Ada", event=first)
    bo = make_person("Bo", event=first, headline="Bakes 100% rye", answers=[("Ask me about", "Sourdough_starters")])
    cy = make_person("Cy", event=first)
    to_bo, _ = connections.connect(bo, ada.badge_token, talked_about="Bread")
    to_cy, _ = connections.connect(cy, ada.badge_token, talked_about="Chess")
    events.set_status(organizer, first.public_id, "closed")
    second = make_event(organizer, name="Night two")
    ada, cy = rejoin(second, ada), rejoin(second, cy)
    di = make_person("Di", event=second)
    connections.connect(cy, ada.badge_token, talked_about="Chess again")
    to_di, _ = connections.connect(di, ada.badge_token, talked_about="Diving")
    return ada, {"bo": to_bo.public_id, "cy": to_cy.public_id, "di": to_di.public_id}, (first, second)


def test_filter_by_event_and_the_events_offered(two_nights, signed_in):
    ada, _, (first, second) = two_nights
    page = followup.followup_page(ada)
    assert [event.name for event in page.events] == ["Night two", "Night one"]
    assert names(followup.followup_page(ada, filters=Filters(event=first.public_id))) == ["Cy", "Bo"]
    assert names(followup.followup_page(ada, filters=Filters(event=second.public_id))) == ["Di", "Cy"]
    # An event she met no one at (or no event at all) filters nothing: a stale link still shows the list.
    assert names(followup.followup_page(ada, filters=Filters(event="NOSUCHEVENT"))) == ["Di", "Cy", "Bo"]
    client = signed_in(ada)
    html = client.get(f"/followup?event={first.public_id}").get_data(as_text=True)
    assert f'<option selected value="{first.public_id}">Night one</option>' in html
    assert listed(client, f"?event={first.public_id}") == ["Cy", "Bo"]


@BOTH_DATABASES
def test_the_events_offered_are_where_someone_still_on_the_list_was_met(two_nights):
    ada, pids, (first, second) = two_nights
    bo = db.session.scalar(select(Person).where(Person.name == "Bo"))
    assert [event.name for event in followup.followup_page(bo).events] == ["Night one"]  # never Ada's
    consent.remove(ada, pids["bo"])
    assert [event.name for event in followup.followup_page(ada).events] == ["Night two", "Night one"]  # Cy
    consent.remove(ada, pids["cy"])
    assert [event.name for event in followup.followup_page(ada).events] == ["Night two"]
    assert [event.name for event in followup.followup_page(bo).events] == ["Night one"]  # theirs stays


def test_the_filter_fields_show_each_persons_events_as_named_now(two_nights, signed_in):
    """The fields are rendered once per events and filters (views._filter_fields): a renamed
    event or another person's events must never come back from that cache."""
    ada, _, (first, second) = two_nights
    bo = db.session.scalar(select(Person).where(Person.name == "Bo"))

    def offered(person, query=""):
        html = signed_in(person).get(f"/followup{query}").get_data(as_text=True)
        select_html = re.search(r'<select[^>]*name="event".*?</select>', html, re.S).group(0)
        return re.findall(r'<option(?: selected)? value="([^"]*)">([^<]*)</option>', select_html)

    assert offered(ada) == [("", "Any event"), (second.public_id, "Night two"), (first.public_id, "Night one")]
    assert offered(bo) == [("", "Any event"), (first.public_id, "Night one")]
    db.session.execute(update(Event).where(Event.id == first.id).values(name="Night one, renamed"))
    db.session.commit()
    assert offered(ada)[-1] == (first.public_id, "Night one, renamed")
    assert offered(bo) == [("", "Any event"), (first.public_id, "Night one, renamed")]
    html = signed_in(ada).get(f"/followup?event={first.public_id}&q=ch").get_data(as_text=True)
    assert f'<option selected value="{first.public_id}">Night one, renamed</option>' in html
    assert re.search(r'<input[^>]*name="q"[^>]*value="ch"', html)
    # What someone searched for is drawn, never kept in the process's memory.
    kept = views._kept_filter_fields.cache_info().currsize
    signed_in(ada).get("/followup?q=a+private+word")
    assert views._kept_filter_fields.cache_info().currsize == kept


@BOTH_DATABASES
@pytest.mark.parametrize("query", ["BJÖRN", "björn", "ΣΟΦΊΑ", "софия"])
def test_search_ignores_case_in_every_script(two_nights, make_person, query):
    ada, _, (_, second) = two_nights
    for name in ("Björn Løvås", "Σοφία", "София"):
        connections.connect(make_person(name, event=second), ada.badge_token)
    expected = {"björn": "Björn Løvås", "σοφία": "Σοφία", "софия": "София"}[query.lower()]
    assert names(followup.followup_page(ada, filters=Filters(q=query))) == [expected]


@BOTH_DATABASES
@pytest.mark.parametrize("query, expected", [
    ("bo", ["Bo"]),  # a name, any case
    ("RYE", ["Bo"]),  # a headline
    ("100%", ["Bo"]),  # % is a character, not a wildcard
    ("0%", ["Bo"]),
    ("sourdough_", ["Bo"]),  # and so is _
    ("h_ss", []),  # "_" would match the e of "Chess" as a wildcard
    ("c%s", []),
    ("chess again", ["Cy"]),  # a shared line, of any encounter
    ("chess", ["Cy"]),
    ("my own words", ["Di"]),  # her own private note
    ("bo's own", []),  # another person's note is never searched
    ("nobody", []),
])
def test_search_across_names_headlines_answers_lines_and_own_notes(two_nights, make_person, query, expected):
    ada, pids, _ = two_nights
    notes.edit(ada, pids["di"], private_note="My own words", private_note_seen="")
    bo = followup.followup_page(ada).entries[-1].other
    notes.edit(bo, pids["bo"], private_note="Bo's own note", private_note_seen="")
    assert names(followup.followup_page(ada, filters=Filters(q=query))) == expected


def test_search_form_is_labelled_and_keeps_what_was_typed(two_nights, signed_in):
    ada, _, _ = two_nights
    client = signed_in(ada)
    html = client.get("/followup?q=Chess&status=to_follow_up").get_data(as_text=True)
    for name, label in (("q", "Search"), ("event", "Met at"), ("status", "Status"), ("sort", "Order")):
        assert re.search(rf'<label class="label" for="{name}">{label}</label>', html), name
    assert 'value="Chess"' in html and '<details class="list-filters" open>' in html
    assert listed(client, "?q=Chess") == ["Cy"]


def test_status_filter_hides_archived_by_default(two_nights, signed_in):
    ada, pids, _ = two_nights
    notes.edit(ada, pids["bo"], status="archived")
    notes.edit(ada, pids["cy"], status="followed_up")
    assert names(followup.followup_page(ada)) == ["Di", "Cy"]
    assert names(followup.followup_page(ada, filters=Filters(status="archived"))) == ["Bo"]
    assert names(followup.followup_page(ada, filters=Filters(status="followed_up"))) == ["Cy"]
    assert names(followup.followup_page(ada, filters=Filters(status="to_follow_up"))) == ["Di"]
    assert followup.followup_page(ada).total == 2
    client = signed_in(ada)
    assert listed(client) == ["Di", "Cy"] and listed(client, "?status=archived") == ["Bo"]
    assert listed(client, "?status=sold") == ["Di", "Cy"]  # an unknown status is no filter


def test_a_snooze_ends_on_its_day_without_anything_running(two_nights, signed_in):
    ada, pids, _ = two_nights
    today = utcnow().date()
    notes.edit(ada, pids["bo"], status="snoozed", snoozed_until=today + timedelta(days=3))
    on = {day: followup.followup_page(ada, today=day) for day in (today, today + timedelta(days=2),
                                                                  today + timedelta(days=3))}
    assert [entry.status for entry in on[today].entries] == ["to_follow_up", "to_follow_up", "snoozed"]
    for day, status in ((today + timedelta(days=2), "snoozed"), (today + timedelta(days=3), "to_follow_up")):
        assert on[day].entries[-1].status == status
        snoozed = followup.followup_page(ada, filters=Filters(status="snoozed"), today=day)
        waiting = followup.followup_page(ada, filters=Filters(status="to_follow_up"), today=day)
        assert names(snoozed) == (["Bo"] if status == "snoozed" else [])
        assert ("Bo" in names(waiting)) == (status == "to_follow_up")
    html = signed_in(ada).get("/followup").get_data(as_text=True)
    assert re.search(rf'id="c-{pids["bo"]}" data-state="connected" data-status="snoozed"', html)
    assert "Snoozed until" in html


def test_sort_longest_untouched_first(two_nights, signed_in):
    ada, pids, _ = two_nights
    assert names(followup.followup_page(ada)) == ["Di", "Cy", "Bo"]  # newest meeting first
    now = utcnow()
    for key, days in (("bo", 1), ("cy", 9), ("di", 5)):
        db.session.execute(update(ConnectionSide).where(
            ConnectionSide.person_id == ada.id,
            ConnectionSide.connection_id == followup.connection_page(ada, pids[key]).connection.id)
            .values(touched_at=now - timedelta(days=days)))
    db.session.commit()
    assert names(followup.followup_page(ada, filters=Filters(sort="untouched"))) == ["Cy", "Di", "Bo"]
    notes.edit(ada, pids["cy"], private_note="called", private_note_seen="")  # an edit touches it
    assert names(followup.followup_page(ada, filters=Filters(sort="untouched"))) == ["Di", "Bo", "Cy"]
    assert listed(signed_in(ada), "?sort=untouched") == ["Di", "Bo", "Cy"]


def test_page_links_keep_the_filters(app, make_event, make_person, signed_in):
    app.config["FOLLOWUP_PAGE_SIZE"] = 2
    event = make_event()
    ada = make_person("Ada", event=event)
    for i in range(5):
        connections.connect(make_person(f"P{i}", event=event), ada.badge_token, talked_about=f"topic {i}")
    client = signed_in(ada)
    html = client.get("/followup?q=topic&sort=untouched").get_data(as_text=True)
    link = re.search(r'<a class="button button-secondary" href="([^"]+)">Next</a>', html).group(1).replace("&amp;", "&")
    assert set(link.split("?")[1].split("&")) == {"page=2", "q=topic", "sort=untouched"}
    assert listed(client, "?" + link.split("?")[1]) == ["P2", "P3"]


def test_rows_are_links_with_no_forms_inside(two_nights, signed_in):
    ada, pids, _ = two_nights
    html = signed_in(ada).get("/followup").get_data(as_text=True)
    rows = re.search(r'<ol class="followup-list">(.*?)</ol>', html, re.DOTALL).group(1)
    assert "<textarea" not in rows and "<form" not in rows and "<button" not in rows
    for pid in pids.values():
        assert f'<a class="followup-row" href="/followup/{pid}">' in html


def test_snooze_needs_a_later_day_on_the_page(two_nights, signed_in):
    ada, pids, _ = two_nights
    pid = pids["bo"]
    client = signed_in(ada)
    too_far = (utcnow().date() + timedelta(days=2 * 366 + 1)).isoformat()  # an archive that hides itself
    for day in ("", utcnow().date().isoformat(), "2001-01-01", too_far, "9999-12-31"):
        response = client.submit(f"/followup/{pid}", page=f"/followup/{pid}", prefix=pid, data={
            f"{pid}-status": "snoozed", f"{pid}-snoozed_until": day, f"{pid}-private_note": "kept as typed"})
        assert response.status_code == 400, day
        html = response.get_data(as_text=True)
        assert re.search(rf'id="{pid}-snoozed_until-error" data-code="bad_snooze_date"', html), day
        assert "kept as typed" in html
    later = (utcnow().date() + timedelta(days=7)).isoformat()
    response = client.submit(f"/followup/{pid}", page=f"/followup/{pid}", prefix=pid, data={
        f"{pid}-status": "snoozed", f"{pid}-snoozed_until": later})
    assert response.status_code == 302
    html = client.get(f"/followup/{pid}").get_data(as_text=True)
    assert f'value="{later}"' in html and '<option selected value="snoozed">' in html


def test_a_snooze_into_another_year_shows_its_year(two_nights, signed_in):
    ada, pids, _ = two_nights
    day = utcnow().date() + timedelta(days=400)
    notes.edit(ada, pids["bo"], status="snoozed", snoozed_until=day)
    html = signed_in(ada).get("/followup?status=snoozed").get_data(as_text=True)
    assert f"until {day.strftime('%d %b %Y')}" in html


def test_every_word_on_a_row_is_escaped_and_keeps_its_direction(make_organizer, make_event, make_person, signed_in):
    """The rows are drawn in Python (views._row), not by the template's autoescaping."""
    organizer = make_organizer()
    event = make_event(organizer, name="Night <i>one</i> & co")
    ada = make_person("Ada", event=event)
    bo = make_person('Bo <script>alert(1)</script> "quoted" O\'Neil', event=event, headline="שלום <b>bold</b>")
    connections.connect(bo, ada.badge_token, talked_about="Chess </span><img src=x onerror=alert(1)> 🎉")
    html = signed_in(ada).get("/followup").get_data(as_text=True)
    row = re.search(r'<li class="followup-entry".*?</li>', html, re.S).group(0)
    assert "<script" not in row and "<img" not in row and "<b>" not in row and "<i>" not in row
    assert ('<span class="row-name" dir="auto">Bo &lt;script&gt;alert(1)&lt;/script&gt; &#34;quoted&#34; O&#39;Neil</span>'
            in row)
    assert '<span class="row-line row-headline" dir="auto">שלום &lt;b&gt;bold&lt;/b&gt;</span>' in row
    assert '<bdi class="row-event">Night &lt;i&gt;one&lt;/i&gt; &amp; co</bdi>' in row
    assert ('<span class="row-line row-shared" dir="auto">Chess &lt;/span&gt;&lt;img src=x onerror=alert(1)&gt; 🎉</span>'
            in row)
    assert '<span class="row-fixed">met once</span>' in row
