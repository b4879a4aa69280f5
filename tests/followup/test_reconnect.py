"""Reconnect today: who is picked on a day (frozen: `day` and `now` are passed in), in what
order, what "Done" and "not today" change, the drafts' decoded text, and the contact rule."""
import html as html_lib
import re
from datetime import date, datetime, timedelta
from urllib.parse import unquote, urlsplit

import pytest
from sqlalchemy import select, update

from kithmeet.connections import consent, notes, rotation
from kithmeet.connections import services as connections
from kithmeet.connections.models import ConnectionSide
from kithmeet.errors import DomainError, NotFound
from kithmeet.extensions import db
from kithmeet.followup import reconnect, reconnect_views
from kithmeet.people import erasure

from ..pages import field_error
from ..postgres import BOTH_DATABASES

DAY = date(2026, 12, 10)
NOW = datetime(2026, 12, 10, 9, 30)


def days_ago(n):
    return NOW - timedelta(days=n)


def side_of(person, connection):
    db.session.expire_all()
    return db.session.scalar(select(ConnectionSide).where(ConnectionSide.person_id == person.id,
                                                          ConnectionSide.connection_id == connection.id))


def set_side(person, connection, **values):
    """Put a side in a state directly (the states' own services are tested where they live)."""
    db.session.execute(update(ConnectionSide).where(ConnectionSide.person_id == person.id,
                                                    ConnectionSide.connection_id == connection.id).values(**values))
    db.session.commit()


@pytest.fixture
def ada_met(make_event, make_person):
    """Ada met people at Thursday Gathering; returns (ada, meet) where meet(name, untouched_for_days,
    **person) makes someone, connects them with a line, and sets Ada's side untouched that long."""
    event = make_event()
    ada = make_person("Ada Okafor", event=event)

    def meet(name, untouched_days=None, talked_about="", **details):
        other = make_person(name, event=event, **details)
        connection, _ = connections.connect(ada, other.badge_token, talked_about=talked_about)
        set_side(ada, connection, touched_at=days_ago(untouched_days) if untouched_days is not None else None)
        return connection
    return ada, meet


def names(chosen):
    return [pick.name for pick in chosen]


@BOTH_DATABASES  # NULLS FIRST, the day's arithmetic and the date comparisons are SQL
def test_the_four_longest_untouched_first_with_where_and_what(ada_met):
    ada, meet = ada_met
    for name, untouched in [("Bo", 40), ("Chen", 90), ("Dana", 5), ("Eli", 60), ("Fay", 200), ("Gus", 70)]:
        meet(name, untouched, talked_about=f"{name}'s pets")
    chosen = reconnect.picks(ada, DAY)
    assert names(chosen) == ["Fay", "Chen", "Gus", "Eli"]
    fay = chosen[0]
    assert (fay.event_name, fay.talked_about, fay.first_name) == ("Thursday Gathering", "Fay's pets", "Fay")
    assert isinstance(fay.met_on, date)
    assert names(reconnect.picks(ada, DAY, count=2)) == ["Fay", "Chen"]


@BOTH_DATABASES  # NULLS FIRST, the day's arithmetic and the date comparisons are SQL
def test_never_touched_come_first_and_the_days_choice_is_fixed_within_a_day(ada_met, monkeypatch, signed_in):
    ada, meet = ada_met
    for index in range(9):
        meet(f"P{index}")  # touched_at NULL: all equally untouched
    meet("Touched", 400)
    first = names(reconnect.picks(ada, DAY))
    assert "Touched" not in first and len(first) == 4
    assert names(reconnect.picks(ada, DAY)) == first  # same day, same rows: the same four
    # The order among equals moves from day to day, so the same four don't return every day.
    week = [tuple(names(reconnect.picks(ada, DAY + timedelta(days=n)))) for n in range(7)]
    assert len(set(week)) > 1
    assert week[0] == tuple(first)
    # The page, with the clock frozen, shows the same four on every load.
    monkeypatch.setattr(reconnect_views, "utcnow", lambda: NOW)
    client = signed_in(ada)
    shown = [page_names(client.get("/followup/reconnect").get_data(as_text=True)) for _ in range(2)]
    assert shown == [first, first]


def page_names(html):
    """The names of the picks, as the reconnect page lists them."""
    found = re.findall(r'<h2 class="person-name" id="r-\w+-name" dir="auto">(?:<a href="[^"]*">)?([^<]+)(?:</a>)?</h2>',
                       html)
    return [html_lib.unescape(name) for name in found]


@BOTH_DATABASES  # NULLS FIRST, the day's arithmetic and the date comparisons are SQL
def test_who_is_left_out(ada_met, make_person):
    ada, meet = ada_met
    kept = {"plain": meet("Plain", 100),
            "snooze ended today": meet("Snoozed till today", 100),
            "done long ago": meet("Done long ago", 100),
            "followed up long ago": meet("Followed up long ago", 100),
            "skipped yesterday": meet("Skipped yesterday", 100)}
    left_out = {"archived": meet("Archived", 100), "snoozed": meet("Snoozed", 100),
                "done lately": meet("Done lately", 100), "followed up lately": meet("Followed up lately", 10),
                "skipped today": meet("Skipped today", 100), "removed": meet("Removed", 100),
                "removed by them": meet("Removed by them", 100), "deleted": meet("Deleted", 100)}
    set_side(ada, kept["snooze ended today"], status="snoozed", snoozed_until=DAY)
    set_side(ada, kept["done long ago"], reconnected_at=days_ago(31))
    set_side(ada, kept["followed up long ago"], status="followed_up")
    set_side(ada, kept["skipped yesterday"], skipped_on=DAY - timedelta(days=1))
    set_side(ada, left_out["archived"], status="archived")
    set_side(ada, left_out["snoozed"], status="snoozed", snoozed_until=DAY + timedelta(days=1))
    set_side(ada, left_out["done lately"], reconnected_at=days_ago(29))
    set_side(ada, left_out["followed up lately"], status="followed_up")
    set_side(ada, left_out["skipped today"], skipped_on=DAY)
    consent.remove(ada, left_out["removed"].public_id)
    set_side(ada, left_out["removed"], touched_at=days_ago(100))
    them = db.session.get(type(ada), left_out["removed by them"].other_id(ada.id))
    consent.remove(them, left_out["removed by them"].public_id)
    erasure.delete_account(db.session.get(type(ada), left_out["deleted"].other_id(ada.id)), "DELETE")
    assert sorted(names(reconnect.picks(ada, DAY, count=20))) == sorted(
        ["Plain", "Snoozed till today", "Done long ago", "Followed up long ago", "Skipped yesterday"])


def test_not_today_lets_the_next_fill_the_slot_and_comes_back_tomorrow(ada_met):
    ada, meet = ada_met
    for name, untouched in [("Bo", 50), ("Chen", 40), ("Dana", 30), ("Eli", 20), ("Fay", 10)]:
        meet(name, untouched)
    bo = reconnect.picks(ada, DAY)[0]
    assert names(reconnect.picks(ada, DAY)) == ["Bo", "Chen", "Dana", "Eli"]
    rotation.skip(ada, bo.public_id, DAY)
    assert names(reconnect.picks(ada, DAY)) == ["Chen", "Dana", "Eli", "Fay"]
    assert names(reconnect.picks(ada, DAY + timedelta(days=1))) == ["Bo", "Chen", "Dana", "Eli"]


def test_done_touches_and_rests_thirty_days(ada_met):
    ada, meet = ada_met
    bo = meet("Bo", 50)
    meet("Chen", 40)
    rotation.done(ada, bo.public_id, now=NOW)
    side = side_of(ada, bo)
    assert side.reconnected_at == NOW and side.touched_at == NOW
    assert side.status == "followed_up" and side.snoozed_until is None  # reaching out is following up
    assert names(reconnect.picks(ada, DAY)) == ["Chen"]
    # Untouched again for long (touched_at moved back by hand), Done still rests it 30 days.
    set_side(ada, bo, touched_at=days_ago(100))
    assert names(reconnect.picks(ada, DAY + timedelta(days=29))) == ["Chen"]
    assert names(reconnect.picks(ada, DAY + timedelta(days=31))) == ["Bo", "Chen"]


def test_done_and_not_today_are_only_for_your_own_entries(ada_met, make_person, db_state):
    ada, meet = ada_met
    bo = meet("Bo", 50)
    cy = make_person("Cy")
    before = db_state()
    for action in (lambda p: rotation.done(p, bo.public_id), lambda p: rotation.skip(p, bo.public_id, DAY),
                   lambda p: reconnect.pick(p, bo.public_id)):
        with pytest.raises(NotFound) as error:
            action(cy)
        assert error.value.code == "unknown_connection"
    with pytest.raises(NotFound):
        rotation.done(ada, "NOSUCHCONNECTION")
    assert db_state() == before
    # Removed from her list: gone for her too.
    consent.remove(ada, bo.public_id)
    before = db_state()
    with pytest.raises(NotFound):
        rotation.skip(ada, bo.public_id, DAY)
    assert db_state() == before


def test_done_on_a_deleted_account_is_refused(ada_met, db_state):
    ada, meet = ada_met
    bo = meet("Bo", 50)
    erasure.delete_account(db.session.get(type(ada), bo.other_id(ada.id)), "DELETE")
    before = db_state()
    with pytest.raises(DomainError) as error:
        rotation.done(ada, bo.public_id)
    assert error.value.code == "account_deleted"
    assert db_state() == before


def decoded(href):
    """(scheme, target, {field: text}) of a mailto:/sms: href, percent-decoded as mail and
    messages apps read it (RFC 6068: a "+" is a plus, never a space)."""
    parts = urlsplit(href)
    fields = dict(pair.split("=", 1) for pair in parts.query.split("&") if pair)
    return parts.scheme, unquote(parts.path), {key: unquote(value) for key, value in fields.items()}


def test_the_drafts_say_where_you_met_and_what_you_talked_about(ada_met):
    ada, meet = ada_met
    meet("Ana María Díaz", 50, talked_about="your pets & a dog called Ü+1?",
         contacts={"email": "ana+kith@example.org", "phone": "+44 20 7946-0958"})
    [ana] = reconnect.picks(ada, DAY)
    text = "Hey Ana! Been a while since we talked about your pets & a dog called Ü+1? at Thursday Gathering. " \
           "What's the latest with you?"
    assert ana.message == text
    assert decoded(ana.mailto) == ("mailto", "ana+kith@example.org",
                                   {"subject": "Catching up since Thursday Gathering", "body": text})
    assert decoded(ana.sms) == ("sms", "+442079460958", {"body": text})
    assert " " not in ana.mailto + ana.sms  # encoded, spaces too


def test_an_empty_line_gets_another_sentence(ada_met):
    ada, meet = ada_met
    meet("Bo", 50, contacts={"email": "bo@example.org"})
    [bo] = reconnect.picks(ada, DAY)
    assert bo.talked_about == ""
    assert bo.message == "Hey Bo! It's been a while since we met at Thursday Gathering. What's the latest with you?"
    assert decoded(bo.mailto)[2]["body"] == bo.message


def test_a_line_of_several_lines_reads_as_one_phrase():
    assert reconnect.message("Ana", "Week 3", "pets\n\ndogs.\n") == \
        "Hey Ana! Been a while since we talked about pets; dogs at Week 3. What's the latest with you?"


def test_only_what_the_contact_rule_shows_gets_a_draft(ada_met, make_person):
    ada, meet = ada_met
    meet("Bo", 50, contacts={"email": "bo@example.org", "phone": "+44 20 7946 0958"},
         shared={"email": True, "phone": False})
    [bo] = reconnect.picks(ada, DAY)
    assert bo.mailto and bo.sms is None and bo.phone is None
    # Sharing only once confirmed, not confirmed yet: no drafts at all, the text still there.
    chen = meet("Chen", 60, contacts={"email": "chen@example.org", "phone": "+44 20 7946 0959"})
    set_side(db.session.get(type(ada), chen.other_id(ada.id)), chen, shares_contacts=False)
    chen_pick = next(pick for pick in reconnect.picks(ada, DAY) if pick.name == "Chen")
    assert (chen_pick.mailto, chen_pick.sms, chen_pick.email) == (None, None, None)
    assert chen_pick.message.startswith("Hey Chen!")


def test_a_fixed_number_of_queries_however_long_the_list(ada_met, count_queries):
    ada, meet = ada_met
    for index in range(3):
        meet(f"Few{index}", 10 + index, talked_about="x", contacts={"email": f"f{index}@example.org"})
    ada.name  # noqa: B018 - loaded before counting, as the signed-in person is on a page
    with count_queries() as few:
        assert len(reconnect.picks(ada, DAY)) == 3
    for index in range(12):
        meet(f"Many{index}", 100 + index, talked_about="y", contacts={"phone": f"+44 20 7946 00{index:02d}"})
    ada.name  # noqa: B018
    with count_queries() as many:
        assert len(reconnect.picks(ada, DAY)) == 4
    assert len(few) == len(many) <= 6


# The pages.

@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setattr(reconnect_views, "utcnow", lambda: NOW)
    monkeypatch.setattr(rotation, "utcnow", lambda: NOW)


def test_the_page_done_and_not_today(ada_met, signed_in, frozen):
    ada, meet = ada_met
    for name, untouched in [("Bo", 50), ("Chen", 40), ("Dana", 30), ("Eli", 20), ("Fay", 10)]:
        meet(name, untouched, contacts={"email": f"{name.lower()}@example.org"})
    client = signed_in(ada)
    page = client.get("/followup/reconnect")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page_names(html) == ["Bo", "Chen", "Dana", "Eli"]
    assert "/followup/reconnect" in client.get("/followup").get_data(as_text=True)  # the list links here
    bo, chen = reconnect.picks(ada, DAY)[:2]
    assert client.submit(f"/followup/reconnect/{bo.public_id}/done", page="/followup/reconnect").status_code == 302
    assert client.submit(f"/followup/reconnect/{chen.public_id}/skip",
                         page="/followup/reconnect").status_code == 302
    assert page_names(client.get("/followup/reconnect").get_data(as_text=True)) == ["Dana", "Eli", "Fay"]
    assert side_of_pid(ada, bo.public_id).reconnected_at == NOW
    assert side_of_pid(ada, chen.public_id).skipped_on == DAY


def side_of_pid(person, public_id):
    db.session.expire_all()
    return notes.own_side(person, public_id)


def test_someone_elses_entry_is_not_found_on_every_route(ada_met, make_person, signed_in):
    ada, meet = ada_met
    bo = meet("Bo", 50)
    cy = signed_in(make_person("Cy"))
    for path in (f"/followup/reconnect/{bo.public_id}/done", f"/followup/reconnect/{bo.public_id}/skip",
                 f"/followup/reconnect/{bo.public_id}/draft"):
        assert cy.submit(path, page="/organizer/login").status_code == 404  # Cy has no picks: no form of ours
    assert cy.get(f"/followup/reconnect/{bo.public_id}/draft").status_code == 404
    assert side_of_pid(ada, bo.public_id).reconnected_at is None


def test_send_them_a_link(ada_met, signed_in):
    ada, meet = ada_met
    bo = meet("Bo Brave", 50, talked_about="bike repair", contacts={"email": "bo@example.org"})
    client = signed_in(ada)
    path = f"/followup/reconnect/{bo.public_id}/draft"
    pid = bo.public_id
    response = client.submit(path, prefix=pid, data={f"{pid}-link": "https://example.org/fix?a=1&b=2",
                                                     f"{pid}-line": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    text = "Hey Bo! This made me think of our talk about bike repair: https://example.org/fix?a=1&b=2"
    assert html_lib.unescape(re.search(r'<textarea[^>]*id="draft-text"[^>]*>([^<]*)</textarea>', html).group(1)) \
        == text
    mailto = html_lib.unescape(re.search(r'data-draft="mailto" href="([^"]+)"', html).group(1))
    assert decoded(mailto)[2]["body"] == text
    assert 'data-draft="sms"' not in html  # no phone shared
    # A line of their own goes in place of the sentence.
    response = client.submit(path, prefix=pid, data={f"{pid}-link": "example.org/x", f"{pid}-line": "Saw this!"})
    assert "Hey Bo! Saw this! https://example.org/x" in html_lib.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize("link,code", [("javascript:alert(1)", "bad_url"), ("ftp://example.org/x", "bad_url"),
                                       ("https://user:pw@example.org/", "bad_url"), ("", "required"),
                                       ("https://exa mple.org", "bad_url")])
def test_a_bad_link_is_explained_beside_it_and_what_was_typed_stays(ada_met, signed_in, link, code):
    ada, meet = ada_met
    bo = meet("Bo", 50, talked_about="bikes")
    client = signed_in(ada)
    pid = bo.public_id
    response = client.submit(f"/followup/reconnect/{pid}/draft", prefix=pid,
                             data={f"{pid}-link": link, f"{pid}-line": "my own words"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert field_error(html, f"{pid}-link") == code
    assert 'value="my own words"' in html and 'id="draft-text"' not in html
    if link:
        assert f'value="{html_lib.escape(link)}"' in html


def test_a_picks_name_links_to_their_page_on_the_list_and_the_draft(ada_met, signed_in):
    ada, meet = ada_met
    bo = meet("Bo", 50)
    client = signed_in(ada)
    link = f'<a href="/followup/{bo.public_id}">'
    assert f'<h2 class="person-name" id="r-{bo.public_id}-name" dir="auto">{link}Bo</a></h2>' in \
        client.get("/followup/reconnect").get_data(as_text=True)
    assert f"{link}<bdi>Bo</bdi></a>" in client.get(f"/followup/reconnect/{bo.public_id}/draft").get_data(as_text=True)


def flashes(html):
    return re.findall(r'<p class="flash flash-success"[^>]*>([^<]+)</p>', html)


def test_not_today_promises_someone_else_only_when_there_is_someone(ada_met, signed_in, frozen):
    ada, meet = ada_met
    for name, untouched in [("Bo", 50), ("Chen", 40), ("Dana", 30), ("Eli", 20), ("Fay", 10)]:
        meet(name, untouched)
    client = signed_in(ada)
    bo, chen = reconnect.picks(ada, DAY)[:2]
    client.submit(f"/followup/reconnect/{bo.public_id}/skip", page="/followup/reconnect")
    said = flashes(client.get("/followup/reconnect").get_data(as_text=True))
    assert len(said) == 1 and "someone else" in said[0]  # Fay takes the slot
    client.submit(f"/followup/reconnect/{chen.public_id}/skip", page="/followup/reconnect")
    said = flashes(client.get("/followup/reconnect").get_data(as_text=True))
    assert len(said) == 1 and "someone else" not in said[0] and "back tomorrow" in said[0]  # no one left to come in
