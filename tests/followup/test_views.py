"""The follow-up list and a connection's page: content, editing, paging, and query counts that
do not grow."""
import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import func, select

from kithmeet.connections import notes
from kithmeet.connections import services as connections
from kithmeet.connections.models import Connection, ConnectionSide, Encounter
from kithmeet.events import services as events
from kithmeet.events.models import Event
from kithmeet.extensions import db
from kithmeet.followup import services as followup
from kithmeet.people import services as people
from kithmeet.people.profile import Profile

from ..pages import error_codes, field_error
from ..plans import plan, statements_run
from ..postgres import BOTH_DATABASES


@pytest.fixture
def app_config():
    return {"FOLLOWUP_PAGE_SIZE": 400}


def met(person, others, event):
    for i, other in enumerate(others):
        connections.connect(other, person.badge_token, talked_about=f"topic {i}", private_note=f"note {i}")


def test_followup_lists_newest_first_with_event_and_talked_about(make_event, make_person, signed_in):
    event = make_event(name="Thursday Gathering #12")
    ada = make_person("Ada", event=event)
    others = [make_person(name, event=event, contacts={"email": f"{name.lower()}@example.org"}) for name in ("Bo", "Cy")]
    met(ada, others, event)
    client = signed_in(ada)
    html = client.get("/followup").get_data(as_text=True)
    assert html.index("Cy") < html.index("Bo")  # Cy was met last
    assert "Thursday Gathering #12" in html and "topic 0" in html
    assert "cy@example.org" not in html  # contacts are on the connection's own page
    pid = re.search(r'href="/followup/([A-Z0-9]+)"', html).group(1)
    assert "cy@example.org" in client.get(f"/followup/{pid}").get_data(as_text=True)


def row(html, pid):
    """The text of one row of the list, tags removed and spaces collapsed."""
    match = re.search(rf'<li class="followup-entry" id="c-{pid}"[^>]*>(.*?)</li>', html, re.DOTALL)
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def test_a_row_is_one_link_with_name_headline_last_meeting_line_status_and_times_met(
        make_organizer, make_event, make_person, signed_in):
    organizer = make_organizer()
    first = make_event(organizer, name="Thursday Gathering #1")
    ada = make_person("Ada", event=first)
    bo = make_person("Bo Brave", event=first, headline="Repairs bikes")
    connection, _ = connections.connect(bo, ada.badge_token, talked_about="Spokes")
    events.set_status(organizer, first.public_id, "closed")
    second = make_event(organizer, name="Thursday Gathering #2")
    rejoin(second, ada), rejoin(second, bo)
    connections.connect(bo, ada.badge_token, talked_about="Brakes, and a long story " + "x" * 300)
    pid = connection.public_id
    html = signed_in(ada).get("/followup").get_data(as_text=True)
    text = row(html, pid)
    assert re.fullmatch(r"Bo Brave To follow up Repairs bikes Thursday Gathering #2 · \d\d \w{3} \d{4} · met 2 times "
                        r"Brakes, and a long story x+", text), text
    assert html.count(f'href="/followup/{pid}"') == 1 and "<textarea" not in html and "<button" in html  # filters' Show


def test_editing_note_and_status_saves_for_this_side_only(make_event, make_person, signed_in):
    event = make_event()
    ada, bo = make_person("Ada", event=event), make_person("Bo", event=event)
    connection, _ = connections.connect(ada, bo.badge_token, talked_about="first words")
    client, pid = signed_in(ada), connection.public_id
    form = entry_form(client, pid)  # as the page drew it, with the shared line's fingerprint
    form.update({f"{pid}-talked_about": "first words, and more", f"{pid}-private_note": "call on Monday",
                 f"{pid}-status": "followed_up"})
    response = client.submit(f"/followup/{pid}", page=f"/followup/{pid}", prefix=pid, data=form)
    assert response.status_code == 302 and response.location == f"/followup/{pid}#edit"
    html = client.get(f"/followup/{pid}").get_data(as_text=True)
    # Confirmed beside the form, once: a reload no longer says it.
    assert re.search(r'id="edit".*role="status".*Saved\..*<form', html, re.DOTALL)
    assert "Saved." not in client.get(f"/followup/{pid}").get_data(as_text=True)
    assert "call on Monday" in html and '<option selected value="followed_up">' in html
    assert "Followed up" in row(client.get("/followup").get_data(as_text=True), pid)
    bo_html = signed_in(bo).get(f"/followup/{pid}").get_data(as_text=True)
    assert "first words, and more" in bo_html and "call on Monday" not in bo_html


@pytest.fixture
def ada_met_bo(make_event, make_person):
    """Ada and Bo, connected; returns (ada, bo, the connection's public id)."""
    event = make_event()
    ada, bo = make_person("Ada", event=event), make_person("Bo", event=event)
    connection, _ = connections.connect(ada, bo.badge_token)
    return ada, bo, connection.public_id


def test_bad_edit_keeps_what_was_typed(ada_met_bo, signed_in):
    ada, _, pid = ada_met_bo
    response = signed_in(ada).submit(f"/followup/{pid}", page=f"/followup/{pid}", prefix=pid, data={
        f"{pid}-private_note": "kept text " + "x" * 1200, f"{pid}-talked_about": "", f"{pid}-status": "to_follow_up"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "kept text" in html and "1000 characters or fewer" in html


def test_unknown_status_is_refused_without_saving(ada_met_bo, signed_in):
    ada, _, pid = ada_met_bo
    response = signed_in(ada).submit(f"/followup/{pid}", page=f"/followup/{pid}", prefix=pid, data={
        f"{pid}-private_note": "should not save", f"{pid}-status": "sold"})
    assert response.status_code == 400
    assert "should not save" not in signed_in(ada).get(f"/followup/{pid}").get_data(as_text=True)


def test_another_persons_connection_cannot_be_edited(make_event, make_person, signed_in):
    event = make_event()
    ada, bo, cy = (make_person(n, event=event) for n in ("Ada", "Bo", "Cy"))
    connection, _ = connections.connect(ada, bo.badge_token)
    pid = connection.public_id
    cy_client = signed_in(cy)
    response = cy_client.submit(f"/followup/{pid}", page="/", prefix=pid, data={
        f"{pid}-private_note": "x", f"{pid}-status": "followed_up"})
    assert response.status_code == 404 and error_codes(response.get_data(as_text=True)) == ["unknown_connection"]
    assert followup.followup_page(ada).entries[0].side.private_note == ""
    # Nor seen: to anyone but its two people the page does not exist.
    assert cy_client.get(f"/followup/{pid}").status_code == 404
    assert signed_in(bo).get(f"/followup/{pid}").status_code == 200


def followup_queries(person, signed_in, count_queries, path="/followup"):
    client = signed_in(person)
    client.get(path)  # the first page after signing in stores the session's new form token
    with count_queries() as statements:
        response = client.get(path)
    assert response.status_code == 200
    return statements, response.get_data(as_text=True)


WEEKS = 6
# Statements for GET /followup, signed in, however many connections (here all on one page),
# with or without filters and search:
#   0. the server-side session (kithmeet/sessions.py)
#   1. the signed-in person (from the session)
#   2. the events the person met people at (the event filter's choices)
#   3. the page of (connection, own side, other side, other person) rows, filtered, each
#      carrying the total count of the rows the filters let through
#   4. the encounters of the page's connections, each with its event's name and series' zone
#   5. how many connections the viewer has not seen yet (the banner base.html shows on every page)
# (A page past the end counts the total apart instead of reading the encounters.)
# When the page changes, update the number and this list together.
FOLLOWUP_PAGE_QUERIES = 6
# Statements for GET /followup/<public_id>, however many encounters:
#   0. session, 1. person, 2. (own side, connection, other side), 3. the other person,
#   4. their contact fields, 5. their prompt answers, 6. the encounters with their events,
#   7. whether the contact rule lets the viewer see the other's fields, 8. the viewer's draft,
#   9. the banner's count.
CONNECTION_PAGE_QUERIES = 10


def weeks_met(i, first_weeks):
    """The weeks at which the i-th person meets their host: first at one of the first `first_weeks`
    weeks, one in four again the next week, one in twelve a third time two weeks after that."""
    first = i % first_weeks
    weeks = [first]
    if i % 4 == 0 and first + 1 < WEEKS:
        weeks.append(first + 1)
        if i % 12 == 0 and first + 3 < WEEKS:
            weeks.append(first + 3)
    return weeks


def rejoin(event, person):
    """Check in again at a later event, with the same profile."""
    return people.join_event(event, Profile(
        name=person.name, headline=person.headline, contacts={c.kind: c.value for c in person.contacts},
        shared={c.kind: c.shared for c in person.contacts},
        answers=tuple((a.prompt, a.answer) for a in person.answers)), person=person)


def weekly_series(make_organizer, make_event, make_person, schedule):
    """A series of WEEKS events, one open at a time. `schedule` is [(host, name, weeks met)]: each
    week the event opens, everyone meeting then checks in (joining the first time, re-joining
    after) and scans their host's badge, and the event closes."""
    organizer = make_organizer()
    hosts, others = {}, {}
    for week in range(WEEKS):
        event = make_event(organizer, name=f"Thursday Gathering #{week + 1}")
        for host in sorted({host for host, _, _ in schedule}):
            hosts[host] = rejoin(event, hosts[host]) if host in hosts else make_person(host, event=event)
        for host, name, weeks in schedule:
            if week not in weeks:
                continue
            if name in others:
                rejoin(event, others[name])
            else:
                others[name] = make_person(name, event=event, contacts={"email": f"{name.lower()}@example.org"})
            connection, _ = connections.connect(others[name], hosts[host].badge_token,
                                                talked_about=f"week {week + 1} with {name}")
            if len(others) % 5 == 0:  # some with a note of the host's own
                notes.edit(hosts[host], connection.public_id, private_note=f"note on {name}", private_note_seen="")
        events.set_status(organizer, event.public_id, "closed")
    return hosts


@BOTH_DATABASES
def test_query_count_does_not_grow_with_connections(make_organizer, make_event, make_person, signed_in,
                                                     count_queries):
    schedule = [("Few", f"F{i}", weeks_met(i, 3)) for i in range(10)]
    schedule += [("Many", f"M{i}", weeks_met(i, WEEKS)) for i in range(300)]
    hosts = weekly_series(make_organizer, make_event, make_person, schedule)
    assert db.session.query(Connection).count() == 310
    # Spread as real data is: Many's connections over all six events, some met two or three times.
    per_connection = db.session.execute(
        select(func.count(Encounter.id), func.count(func.distinct(Encounter.event_id)))
        .join(ConnectionSide, ConnectionSide.connection_id == Encounter.connection_id)
        .where(ConnectionSide.person_id == hosts["Many"].id).group_by(Encounter.connection_id)).all()
    assert {encounters for encounters, _ in per_connection} == {1, 2, 3}
    assert all(encounters == events_met for encounters, events_met in per_connection)
    assert db.session.scalar(select(func.count(func.distinct(Encounter.event_id)))) == WEEKS

    few_statements, few_html = followup_queries(hosts["Few"], signed_in, count_queries)
    many_statements, many_html = followup_queries(hosts["Many"], signed_in, count_queries)
    assert (few_html.count('class="followup-entry"'), many_html.count('class="followup-entry"')) == (10, 300)
    assert all(f"Thursday Gathering #{week + 1}" in many_html for week in range(WEEKS))
    assert "met 3 times" in many_html and "met 2 times" in many_html and "met once" in many_html
    summary = [" ".join(statement.split())[:90] for statement in many_statements]
    assert len(few_statements) == len(many_statements) == FOLLOWUP_PAGE_QUERIES, summary
    # Filters and search are conditions on the same statements, not a query per row.
    event = db.session.scalar(select(Event).where(Event.name == "Thursday Gathering #2"))
    filtered = f"/followup?q=WITH+m&status=to_follow_up&event={event.public_id}&sort=untouched"
    statements, html = followup_queries(hosts["Many"], signed_in, count_queries, filtered)
    assert 0 < html.count('class="followup-entry"') < 300
    assert len(statements) == FOLLOWUP_PAGE_QUERIES, [" ".join(st.split())[:90] for st in statements]

    # A connection's page: the same statements whether they met once or three times.
    once, thrice = (db.session.scalar(
        select(Connection.public_id).join(Encounter, Encounter.connection_id == Connection.id)
        .join(ConnectionSide, ConnectionSide.connection_id == Connection.id)
        .where(ConnectionSide.person_id == hosts["Many"].id).group_by(Connection.public_id)
        .having(func.count(Encounter.id) == times).limit(1)) for times in (1, 3))
    counts = []
    for pid in (once, thrice):
        statements, html = followup_queries(hosts["Many"], signed_in, count_queries, f"/followup/{pid}")
        counts.append(len(statements))
    assert html.count('class="encounter"') == 3
    assert counts == [CONNECTION_PAGE_QUERIES] * 2, counts


def test_paging(app, make_event, make_person, signed_in):
    app.config["FOLLOWUP_PAGE_SIZE"] = 5
    event = make_event()
    ada = make_person("Ada", event=event)
    met(ada, [make_person(f"P{i:02d}", event=event) for i in range(12)], event)
    client = signed_in(ada)
    pages = [client.get(f"/followup?page={n}").get_data(as_text=True) for n in (1, 2, 3, 4)]
    assert [page.count('class="followup-entry"') for page in pages] == [5, 5, 2, 0]
    assert "P11" in pages[0] and "P00" in pages[2] and "Older" in pages[0] and "Older" not in pages[2]
    # Every page tells the whole list's size, past the end too (there no row carries it).
    assert [total(page) for page in pages] == ["12 people"] * 4 and 'data-state="past-the-end"' in pages[3]
    # With a search, the size of what it found: ten of the twelve, on a page of five.
    found = client.get("/followup?q=P0").get_data(as_text=True)
    assert found.count('class="followup-entry"') == 5 and total(found) == "10 people found"


def total(html):
    return " ".join(re.search(r'<p class="meta">([^<]*)</p>', html).group(1).split())


def entry_form(client, pid):
    """The fields of one connection's follow-up form as its page drew them."""
    html = client.get(f"/followup/{pid}").get_data(as_text=True)
    version = re.search(rf'name="{pid}-talked_about_fingerprint" type="hidden" value="([^"]*)"', html).group(1)
    seen_note = re.search(rf'name="{pid}-private_note_seen" type="hidden" value="([^"]*)"', html).group(1)
    text = re.search(rf'name="{pid}-talked_about">\r?\n?([^<]*)</textarea>', html).group(1)
    note = re.search(rf'name="{pid}-private_note">\r?\n?([^<]*)</textarea>', html).group(1)
    return {f"{pid}-talked_about_fingerprint": version, f"{pid}-talked_about": text,
            f"{pid}-private_note_seen": seen_note, f"{pid}-private_note": note, f"{pid}-status": "to_follow_up"}


def test_saving_an_entry_never_overwrites_the_other_sides_new_words(make_event, make_person, signed_in):
    event = make_event()
    ada, eve = make_person("Ada", event=event), make_person("Eve", event=event)
    connection, _ = connections.connect(ada, eve.badge_token, talked_about="Venues")
    pid = connection.public_id
    ada_client, eve_client = signed_in(ada), signed_in(eve)
    ada_form, eve_form = entry_form(ada_client, pid), entry_form(eve_client, pid)  # both pages open

    eve_form[f"{pid}-talked_about"] = "Venues\nSponsors too"
    assert eve_client.submit(f"/followup/{pid}", page=f"/followup/{pid}", prefix=pid, data=eve_form).status_code == 302
    # Ada, on her older page, only changes her status: Eve's line stays.
    ada_form[f"{pid}-status"] = "followed_up"
    assert ada_client.submit(f"/followup/{pid}", page=f"/followup/{pid}", prefix=pid, data=ada_form).status_code == 302
    assert connections.encounters_of(connection)[0].talked_about == "Venues\nSponsors too"
    # Ada edits the line on that old page: her note and status are saved, the line is not, and
    # the page she is sent to shows Eve's words beside hers, still in the field.
    ada_form[f"{pid}-talked_about"] = "Venues, Ada's version"
    ada_form[f"{pid}-private_note"] = "saved anyway"
    response = ada_client.submit(f"/followup/{pid}", page=f"/followup/{pid}", prefix=pid, data=ada_form)
    assert response.status_code == 302 and response.location == f"/followup/{pid}#edit"
    db.session.expire_all()
    assert connections.encounters_of(connection)[0].talked_about == "Venues\nSponsors too"
    assert followup.followup_page(ada).entries[0].side.private_note == "saved anyway"
    # A reload keeps what she typed, and so does her other device; Eve never sees Ada's draft.
    for client in (ada_client, ada_client, signed_in(ada)):
        html = client.get(f"/followup/{pid}").get_data(as_text=True)
        assert f'id="{pid}-talked_about-error" data-code="edit_conflict"' in html
        assert entry_form(client, pid)[f"{pid}-talked_about"] == "Venues, Ada&#39;s version"
        assert 'class="their-words"' in html and "Sponsors too" in html
    eve_page = eve_client.get(f"/followup/{pid}").get_data(as_text=True)
    assert "Ada&#39;s version" not in eve_page and "edit_conflict" not in eve_page
    # Saving from the conflict page replaces the line: she has seen Eve's words now.
    retry = entry_form(ada_client, pid)
    retry[f"{pid}-talked_about"] = "Venues, Ada's version\nSponsors too"
    assert ada_client.submit(f"/followup/{pid}", page=f"/followup/{pid}", prefix=pid, data=retry).status_code == 302
    db.session.expire_all()
    assert connections.encounters_of(connection)[0].talked_about == "Venues, Ada's version\nSponsors too"
    assert "edit_conflict" not in ada_client.get(f"/followup/{pid}").get_data(as_text=True)


def test_huge_page_number_is_not_an_error(make_person, signed_in):
    client = signed_in(make_person())
    assert client.get("/followup?page=999999999999999999999").status_code == 200
    assert client.get("/followup?page=-3").status_code == 200


def test_saving_an_old_page_keeps_what_the_phone_added_to_the_note(make_event, make_person, signed_in):
    event = make_event()
    ada, bo = make_person("Ada", event=event), make_person("Bo", event=event)
    connection, _ = connections.connect(ada, bo.badge_token, private_note="first", client_id="ada-1")
    pid, laptop = connection.public_id, signed_in(ada)
    form = entry_form(laptop, pid)  # the connection's page open on the laptop
    connections.connect(ada, bo.badge_token, private_note="added on the phone", client_id="ada-1")
    form[f"{pid}-status"] = "followed_up"
    assert laptop.submit(f"/followup/{pid}", page=f"/followup/{pid}", prefix=pid, data=form).status_code == 302
    db.session.expire_all()
    side = followup.followup_page(ada).entries[0].side
    assert (side.status, side.private_note) == ("followed_up", "first\nadded on the phone")


def test_a_refused_save_comes_back_at_the_form_with_a_summary_of_its_errors(ada_met_bo, signed_in):
    ada, _, pid = ada_met_bo
    client = signed_in(ada)
    page = client.get(f"/followup/{pid}").get_data(as_text=True)
    assert re.search(rf'<form method="post" action="/followup/{pid}#edit"', page)  # the 400 lands at the form
    assert 'data-state="error-summary"' not in page
    response = client.submit(f"/followup/{pid}", page=f"/followup/{pid}", prefix=pid, data={
        f"{pid}-private_note": "kept", f"{pid}-status": "snoozed", f"{pid}-snoozed_until": ""})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    summary = re.search(r'<div class="flash flash-error error-summary" role="alert"[^>]*>(.*?)</div>', html, re.DOTALL)
    assert summary and html.index("error-summary") < html.index(f'id="{pid}-talked_about"')
    code = field_error(html, f"{pid}-snoozed_until")
    assert code and re.findall(r'<a href="#([^"]+)" data-code="([^"]+)"', summary.group(1)) == [
        (f"{pid}-snoozed_until", code)]


def back_link(html):
    """The "← People I met" link as (path, its parameters)."""
    href = re.search(r'<p class="back-link"><a href="([^"]+)"', html).group(1).replace("&amp;", "&")
    parts = urlsplit(href)
    return parts.path, dict(parse_qsl(parts.query))


def test_the_back_link_keeps_the_lists_own_parameters_and_nothing_else(ada_met_bo, signed_in):
    ada, _, pid = ada_met_bo
    client = signed_in(ada)
    filters = {"q": "Bo", "status": "to_follow_up", "sort": "untouched"}
    listed = client.get("/followup", query_string=filters).get_data(as_text=True)
    href = re.search(rf'href="(/followup/{pid}\?back=[^"]+)"', listed).group(1).replace("&amp;", "&")
    assert back_link(client.get(href).get_data(as_text=True)) == ("/followup", filters)
    # Saving keeps it: the form carries it, and the page after the redirect has it.
    response = client.submit(href, page=href, prefix=pid, data={f"{pid}-status": "followed_up"})
    assert response.status_code == 302 and "back=" in response.location and response.location.endswith("#edit")
    assert back_link(client.get(response.location).get_data(as_text=True)) == ("/followup", filters)
    # Anything else in `back` is dropped; a bad value of a known parameter too.
    for raw, expected in [("next=https://evil.example/&q=Bo", {"q": "Bo"}), ("next=5&q=Bo", {"q": "Bo"}),
                          ("//evil.example", {}),
                          ("status=sold&sort=evil&page=x&page=3", {"page": "3"}), ("q=%E2%80%AEoB", {})]:
        html = client.get(f"/followup/{pid}", query_string={"back": raw}).get_data(as_text=True)
        assert back_link(html) == ("/followup", expected), raw


def test_a_page_past_the_end_says_so_and_links_to_the_first(ada_met_bo, signed_in):
    ada, _, _ = ada_met_bo
    html = signed_in(ada).get("/followup?page=99&sort=untouched").get_data(as_text=True)
    assert 'data-state="past-the-end"' in html and 'href="/followup?sort=untouched"' in html
    assert "Nobody yet" not in html


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_list_reads_a_persons_listed_sides_from_their_index_alone(make_event, make_person, signed_in, app):
    """The rows, their total and the events met at pick the person's sides from
    ix_connection_side_listed (person, removed, status, connection), never each side's row."""
    event = make_event()
    ada = make_person("Ada", event=event)
    for name in ("Bo", "Cy"):
        connections.connect(make_person(name, event=event), ada.badge_token)
    client = signed_in(ada)
    client.get("/followup")
    # The person's sides, but not the banner's count (its own index: connections/test_consent.py).
    with statements_run(lambda sql: "connection_side.person_id" in sql and "acknowledged_at IS NULL" not in sql) as seen:
        assert client.get("/followup").status_code == 200
    events_met_at, rows = (plan(statement, parameters) for statement, parameters in seen)  # the rows carry their total
    assert events_met_at.count("COVERING INDEX ix_connection_side_listed") == 1, events_met_at
    assert rows.count("COVERING INDEX ix_connection_side_listed") == 2, rows
    assert "ix_connection_side_person_id" not in events_met_at + rows
    db.session.rollback()
