"""Consent over a connection, as a browser uses it: the banner, the review page and its
buttons, the scan page's refusals and states, and a block that looks like nothing at all."""
import re

import pytest
from sqlalchemy import select

from kithmeet.connections import consent
from kithmeet.connections import services as connections
from kithmeet.connections.models import ConnectionSide
from kithmeet.extensions import db
from kithmeet.people import services as people
from kithmeet.people.profile import Profile

from ..pages import error_codes

BANNER = 'data-state="unseen-connections"'


def share_after_confirming(person, event):
    people.join_event(event, Profile(name=person.name, contacts={c.kind: c.value for c in person.contacts},
                                     shared={c.kind: c.shared for c in person.contacts}, share_on_connect=False),
                      person=person)


@pytest.fixture
def scanned(make_event, make_person):
    """Bo scanned Ada's badge: Ada has not seen it yet. Returns (ada, bo, connection, event)."""
    event = make_event()
    ada = make_person("Ada", event=event, contacts={"email": "ada@example.org"})
    bo = make_person("Bo", event=event, contacts={"email": "bo@example.org"})
    connection, _ = connections.connect(bo, ada.badge_token, talked_about="Rust meetups")
    return ada, bo, connection, event


def test_the_scanned_person_is_told_on_every_page_until_they_review(scanned, signed_in):
    ada, bo, connection, _ = scanned
    client = signed_in(ada)
    for path in ("/", "/badge", "/followup", f"/B/{bo.badge_token}"):
        html = client.get(path).get_data(as_text=True)
        assert BANNER in html and 'href="/connections/review"' in html, path
    assert BANNER not in signed_in(bo).get("/").get_data(as_text=True)  # the scanner knows
    review = client.get("/connections/review").get_data(as_text=True)
    assert "Bo" in review and "Rust meetups" in review and BANNER not in review
    for action in ("keep", "confirm", "remove", "block"):
        if action != "confirm":  # Ada shares at once: nothing to confirm
            assert f'action="/connections/{connection.public_id}/{action}"' in review, action
    assert f'href="/report/{connection.public_id}"' in review
    response = client.submit(f"/connections/{connection.public_id}/keep", page="/connections/review",
                             data={"next": "/connections/review"})
    assert response.status_code == 302 and response.location == "/connections/review"
    assert BANNER not in client.get("/badge").get_data(as_text=True)
    assert "Nothing new" in client.get("/connections/review").get_data(as_text=True)


def test_the_banner_costs_one_count_and_only_for_a_signed_in_person(scanned, signed_in, client, count_queries):
    ada, *_ = scanned
    with count_queries() as statements:
        client.get("/")
    assert not any("connection_side" in statement for statement in statements)
    ada_client = signed_in(ada)
    ada_client.get("/")
    with count_queries() as statements:
        ada_client.get("/")
    counts = [s for s in statements if "connection_side" in s]
    assert len(counts) == 1 and "count(" in counts[0].lower()


def test_confirm_on_the_review_page_shares_contacts(scanned, signed_in):
    ada, bo, connection, event = scanned
    share_after_confirming(ada, event)
    db.session.execute(db.update(ConnectionSide).where(ConnectionSide.person_id == ada.id)
                       .values(shares_contacts=False))
    db.session.commit()
    bo_client, ada_client = signed_in(bo), signed_in(ada)
    assert "ada@example.org" not in bo_client.get(f"/B/{ada.badge_token}").get_data(as_text=True)
    review = ada_client.get("/connections/review").get_data(as_text=True)
    assert "Confirm and share my contacts" in review
    assert ada_client.submit(f"/connections/{connection.public_id}/confirm", page="/connections/review").status_code \
        == 302
    assert "ada@example.org" in bo_client.get(f"/B/{ada.badge_token}").get_data(as_text=True)
    assert BANNER not in ada_client.get("/").get_data(as_text=True)


def test_remove_from_the_review_page(scanned, signed_in):
    ada, bo, connection, _ = scanned
    ada_client, bo_client = signed_in(ada), signed_in(bo)
    assert "bo@example.org" in ada_client.get("/connections/review").get_data(as_text=True)
    ada_client.submit(f"/connections/{connection.public_id}/remove", page="/connections/review")
    assert 'class="followup-entry"' not in ada_client.get("/followup").get_data(as_text=True)
    mine = ada_client.get(f"/B/{bo.badge_token}").get_data(as_text=True)
    assert "bo@example.org" not in mine and "Connect</button>" in mine and 'data-state="connected"' not in mine
    theirs = bo_client.get("/followup").get_data(as_text=True)
    assert 'data-state="no-longer-connected"' in theirs and "ada@example.org" not in theirs
    assert "Rust meetups" in theirs  # the shared line stays with them
    card = bo_client.get(f"/B/{ada.badge_token}").get_data(as_text=True)
    assert 'data-state="no-longer-connected"' in card and "ada@example.org" not in card


@pytest.mark.parametrize("action", ["keep", "confirm", "remove", "block"])
def test_nobody_else_can_press_the_buttons(scanned, make_person, signed_in, action):
    _, _, connection, event = scanned
    cy = signed_in(make_person("Cy", event=event))
    response = cy.submit(f"/connections/{connection.public_id}/{action}", page="/")
    assert response.status_code == 404 and error_codes(response.get_data(as_text=True)) == ["unknown_connection"]


def test_a_next_address_elsewhere_is_ignored(scanned, signed_in):
    ada, _, connection, _ = scanned
    response = signed_in(ada).submit(f"/connections/{connection.public_id}/keep", page="/",
                                     data={"next": "//evil.example/"})
    assert response.location == "/connections/review"


def test_scanning_someone_not_checked_in_here_is_a_clear_page(make_organizer, make_event, make_person, signed_in):
    organizer = make_organizer()
    here, elsewhere = make_event(organizer, name="Here"), make_event(organizer, name="Elsewhere")
    ada, bo = make_person("Ada", event=here), make_person("Bo", event=elsewhere)
    client = signed_in(ada)
    page = client.get(f"/B/{bo.badge_token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and error_codes(html) == ["not_at_event"] and "Connect</button>" not in html
    response = client.submit(f"/B/{bo.badge_token}", page="/", data={"talked_about": "hi", "client_id": "x1"})
    assert error_codes(response.get_data(as_text=True)) == ["not_at_event"]
    assert connections.connection_between(ada.id, bo.id) is None


# A block is never told: the blocked person's scan looks like a scan of someone who shares
# only after confirming and has not confirmed yet.

def _normalise(html, people_, connection, client):
    for i, person in enumerate(people_):
        html = html.replace(person.badge_token, f"TOKEN{i}").replace(person.name, f"PERSON{i}")
        if person.email:  # the viewer's own address, in the e-mail switches under their list
            html = html.replace(person.email, f"EMAIL{i}")
    html = html.replace(connection.public_id, "CONNECTION")
    html = re.sub(r'(name="(?:[\w-]+-)?(?:csrf_token|client_id)"[^>]*value=")[^"]*', r"\1X", html)
    html = re.sub(r'(name="csrf_token" value=")[^"]*', r"\1X", html)
    html = re.sub(r'datetime="[^"]*"', 'datetime="X"', html)
    # The page's CSRF token for scripts, and each person's offline queue key.
    html = re.sub(r'(<meta name="(?:csrf-token|kithmeet-owner)" content=")[^"]*', r"\1X", html)
    return re.sub(r"\d\d:\d\d UTC", "HH:MM UTC", html)


def test_a_blocked_scanner_sees_what_an_unconfirmed_scan_shows(make_event, make_person, signed_in):
    event = make_event()
    worlds = {}
    for how in ("blocked", "removed", "not_confirmed"):
        owner = make_person(f"Owner-{how}", event=event, contacts={"email": f"owner-{how}@example.org"})
        scanner = make_person(f"Scanner-{how}", event=event, contacts={"email": f"scanner-{how}@example.org"})
        if how == "not_confirmed":
            share_after_confirming(owner, event)
        connection, _ = connections.connect(scanner, owner.badge_token, talked_about="Bikes")
        if how == "blocked":
            consent.block(owner, connection.public_id)
        elif how == "removed":
            consent.remove(owner, connection.public_id)
        else:
            consent.keep(owner, connection.public_id)  # seen, but contacts still wait for a confirm
        owner_client = signed_in(owner)
        owner_client.get("/badge")  # past the "signed in" message, so only the scan could change the pages
        worlds[how] = owner, scanner, connection, signed_in(scanner), owner_client

    owner_pages_before = {how: _owner_pages(world) for how, world in worlds.items()}
    seen = {}
    for how, (owner, scanner, connection, client, _) in worlds.items():
        response = client.submit(f"/B/{owner.badge_token}", data={"talked_about": "Bikes again", "client_id": how})
        page = client.get(response.location)
        followup = client.get("/followup")
        entry = client.get(f"/followup/{connection.public_id}")  # where the contacts would show
        seen[how] = [_normalise(text, (owner, scanner), connection, client) for text in (
            f"{response.status_code} {response.location}", f"{page.status_code} {page.get_data(as_text=True)}",
            f"{followup.status_code} {followup.get_data(as_text=True)}",
            f"{entry.status_code} {entry.get_data(as_text=True)}")]
    assert "owner-" not in "".join(seen["not_confirmed"])  # no contacts on either
    assert 'data-state="connected"' in seen["not_confirmed"][1] and "Added to your connection" in seen["not_confirmed"][1]
    assert seen["blocked"] == seen["not_confirmed"] == seen["removed"]
    # Nothing new for the blocker: the same pages as before the scan, no banner, no entry.
    owner_pages_after = _owner_pages(worlds["blocked"])
    assert owner_pages_after == owner_pages_before["blocked"]
    assert BANNER not in owner_pages_after[0] and "Scanner-blocked" not in "".join(owner_pages_after)
    # While the owner who only removed is told of the new meeting.
    assert BANNER in _owner_pages(worlds["removed"])[0]


def _owner_pages(world):
    owner, scanner, connection, _, client = world
    return [_normalise(client.get(path).get_data(as_text=True), (owner, scanner), connection, client)
            for path in ("/followup", "/connections/review", f"/B/{scanner.badge_token}")]


def test_side_rows_after_a_blocked_scan_tell_the_blocker_nothing(make_event, make_person):
    event = make_event()
    ada, bo = make_person("Ada", event=event), make_person("Bo", event=event)
    connection, _ = connections.connect(bo, ada.badge_token)
    consent.block(ada, connection.public_id)
    before = db.session.scalar(select(ConnectionSide).where(ConnectionSide.person_id == ada.id))
    snapshot = (before.removed_at, before.blocked_at, before.acknowledged_at, before.shares_contacts)
    connections.connect(bo, ada.badge_token, talked_about="again")
    db.session.expire_all()
    after = db.session.scalar(select(ConnectionSide).where(ConnectionSide.person_id == ada.id))
    assert (after.removed_at, after.blocked_at, after.acknowledged_at, after.shares_contacts) == snapshot


def test_the_review_page_does_not_grow_in_queries_with_unseen_connections(make_event, make_person, signed_in,
                                                                          count_queries):
    event = make_event()
    host = make_person("Host", event=event)
    client = signed_in(host)

    def statements_with(unseen):
        for i in range(unseen):
            guest = make_person(f"Guest {unseen}-{i}", event=event, contacts={"email": f"g{unseen}-{i}@example.org"})
            connections.connect(guest, host.badge_token, talked_about=f"words {i}")
        client.get("/connections/review")  # the first page after new rows may store a form token
        with count_queries() as statements:
            html = client.get("/connections/review").get_data(as_text=True)
        assert html.count(f"Guest {unseen}-") >= unseen
        return len(statements)

    assert statements_with(1) == statements_with(12)
