"""The follow-up page: content, editing, paging, and a query count that does not grow."""
import pytest

from kithmeet.connections import services as connections
from kithmeet.connections.models import Connection
from kithmeet.extensions import db
from kithmeet.followup import services as followup

from .postgres import BOTH_DATABASES


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
    html = signed_in(ada).get("/followup").get_data(as_text=True)
    assert html.index("Cy") < html.index("Bo")  # Cy was met last
    assert "Thursday Gathering #12" in html and "topic 0" in html and "cy@example.org" in html


def test_editing_note_and_status_saves_for_this_side_only(make_event, make_person, signed_in):
    event = make_event()
    ada, bo = make_person("Ada", event=event), make_person("Bo", event=event)
    connection, _ = connections.connect(ada, bo.badge_token, talked_about="first words")
    client = signed_in(ada)
    response = client.submit(f"/followup/{connection.public_id}", page="/followup", prefix=connection.public_id,
                             data={f"{connection.public_id}-talked_about": "first words, and more",
                                   f"{connection.public_id}-private_note": "call on Monday",
                                   f"{connection.public_id}-status": "followed_up"})
    assert response.status_code == 302
    html = client.get("/followup").get_data(as_text=True)
    assert "call on Monday" in html and '<option selected value="followed_up">' in html
    bo_html = signed_in(bo).get("/followup").get_data(as_text=True)
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
    response = signed_in(ada).submit(f"/followup/{pid}", page="/followup", prefix=pid, data={
        f"{pid}-private_note": "kept text " + "x" * 1200, f"{pid}-talked_about": "", f"{pid}-status": "to_follow_up"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "kept text" in html and "1000 characters or fewer" in html


def test_unknown_status_is_refused_without_saving(ada_met_bo, signed_in):
    ada, _, pid = ada_met_bo
    response = signed_in(ada).submit(f"/followup/{pid}", page="/followup", prefix=pid, data={
        f"{pid}-private_note": "should not save", f"{pid}-status": "sold"})
    assert response.status_code == 400
    assert "should not save" not in signed_in(ada).get("/followup").get_data(as_text=True)


def test_another_persons_connection_cannot_be_edited(make_event, make_person, signed_in):
    event = make_event()
    ada, bo, cy = (make_person(n, event=event) for n in ("Ada", "Bo", "Cy"))
    connection, _ = connections.connect(ada, bo.badge_token)
    pid = connection.public_id
    response = signed_in(cy).submit(f"/followup/{pid}", page="/", prefix=pid, data={
        f"{pid}-private_note": "x", f"{pid}-status": "followed_up"})
    assert response.status_code == 404 and "isn&#39;t in your list" in response.get_data(as_text=True)
    assert followup.followup_page(ada).entries[0].side.private_note == ""


def followup_queries(person, signed_in, count_queries):
    client = signed_in(person)
    with count_queries() as statements:
        response = client.get("/followup")
    assert response.status_code == 200
    return len(statements), response.get_data(as_text=True).count('class="followup-entry"')


@BOTH_DATABASES
def test_query_count_does_not_grow_with_connections(make_event, make_person, signed_in, count_queries):
    event = make_event()
    few, many = make_person("Few", event=event), make_person("Many", event=event)
    met(few, [make_person(f"F{i}", event=event, contacts={"email": f"f{i}@example.org"}) for i in range(10)], event)
    met(many, [make_person(f"M{i}", event=event, contacts={"email": f"m{i}@example.org"}) for i in range(300)], event)
    assert db.session.query(Connection).count() == 310
    few_queries, few_rows = followup_queries(few, signed_in, count_queries)
    many_queries, many_rows = followup_queries(many, signed_in, count_queries)
    assert (few_rows, many_rows) == (10, 300)
    assert few_queries == many_queries
    assert many_queries <= 8


def test_paging(app, make_event, make_person, signed_in):
    app.config["FOLLOWUP_PAGE_SIZE"] = 5
    event = make_event()
    ada = make_person("Ada", event=event)
    met(ada, [make_person(f"P{i:02d}", event=event) for i in range(12)], event)
    client = signed_in(ada)
    pages = [client.get(f"/followup?page={n}").get_data(as_text=True) for n in (1, 2, 3)]
    assert [page.count('class="followup-entry"') for page in pages] == [5, 5, 2]
    assert "P11" in pages[0] and "P00" in pages[2] and "Older" in pages[0] and "Older" not in pages[2]


def entry_form(client, pid):
    """The fields of one follow-up entry's form as the page drew them."""
    import re

    html = client.get("/followup").get_data(as_text=True)
    version = re.search(rf'name="{pid}-talked_about_version" type="hidden" value="([^"]*)"', html).group(1)
    text = re.search(rf'name="{pid}-talked_about">\n?([^<]*)</textarea>', html).group(1)
    return {f"{pid}-talked_about_version": version, f"{pid}-talked_about": text,
            f"{pid}-private_note": "", f"{pid}-status": "to_follow_up"}


def test_saving_an_entry_never_overwrites_the_other_sides_new_words(make_event, make_person, signed_in):
    event = make_event()
    ada, eve = make_person("Ada", event=event), make_person("Eve", event=event)
    connection, _ = connections.connect(ada, eve.badge_token, talked_about="Venues")
    pid = connection.public_id
    ada_client, eve_client = signed_in(ada), signed_in(eve)
    ada_form, eve_form = entry_form(ada_client, pid), entry_form(eve_client, pid)  # both pages open

    eve_form[f"{pid}-talked_about"] = "Venues\nSponsors too"
    assert eve_client.submit(f"/followup/{pid}", page="/followup", prefix=pid, data=eve_form).status_code == 302
    # Ada, on her older page, only changes her status: Eve's line stays.
    ada_form[f"{pid}-status"] = "followed_up"
    assert ada_client.submit(f"/followup/{pid}", page="/followup", prefix=pid, data=ada_form).status_code == 302
    assert connections.encounters_of(connection)[0].talked_about == "Venues\nSponsors too"
    # Ada edits the line on that old page: refused with a message, her words kept, nothing saved.
    ada_form[f"{pid}-talked_about"] = "Venues, Ada's version"
    ada_form[f"{pid}-private_note"] = "not saved either"
    response = ada_client.submit(f"/followup/{pid}", page="/followup", prefix=pid, data=ada_form)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "changed “talked about” while you were editing" in html
    assert "Venues, Ada&#39;s version" in html
    db.session.expire_all()
    assert connections.encounters_of(connection)[0].talked_about == "Venues\nSponsors too"
    assert followup.followup_page(ada).entries[0].side.private_note == ""


def test_huge_page_number_is_not_an_error(make_person, signed_in):
    client = signed_in(make_person())
    assert client.get("/followup?page=999999999999999999999").status_code == 200
    assert client.get("/followup?page=-3").status_code == 200
