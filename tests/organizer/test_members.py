"""The members page, the invite link's page and leaving a series, as organizers use them; and
the dashboard and event page showing each role only what it may do."""
import re

import pytest
from sqlalchemy import select

from kithmeet.events import access, members
from kithmeet.events.models import SeriesInvite, SeriesMember
from kithmeet.extensions import db
from kithmeet.organizer.models import Organizer
from kithmeet.security import mask_secrets

from ..pages import error_codes, field_error
from .conftest import EMAIL, PASSWORD, log_in

LINK = re.compile(r'id="invite-link"[^>]*value="http://localhost(/organizer/invite/([^"]+))"')


@pytest.fixture
def event(organizer, make_event):
    return make_event(organizer)


@pytest.fixture
def owner_client(app, event):
    client = app.test_client()
    assert log_in(client).status_code == 302
    return client


def members_url(event):
    return f"/organizer/series/{event.series.public_id}/members"


def make_invite(owner_client, event, role="organizer", email=""):
    response = owner_client.submit(f"{members_url(event)}/invite", data={"role": role, "email": email},
                                   page=members_url(event))
    assert response.status_code == 200, error_codes(response.get_data(as_text=True))
    return LINK.search(response.get_data(as_text=True)).groups()


def member_client(app, make_organizer, owner, event, role, email):
    make_organizer(email, PASSWORD)
    helper = db.session.scalar(select(Organizer).where(Organizer.email == email))
    _, token = members.invite(owner, event.series.public_id, role=role)
    members.accept(helper, token)
    client = app.test_client()
    assert log_in(client, email=email).status_code == 302
    return client


def test_the_owner_makes_a_link_shown_once_that_a_new_organizer_uses_to_join(app, owner_client, event):
    path, token = make_invite(owner_client, event, "door")
    # The page that lists waiting invites never shows the link again.
    assert token not in owner_client.get(members_url(event)).get_data(as_text=True)
    visitor = app.test_client()
    page = visitor.get(path).get_data(as_text=True)
    assert event.series.name in page and 'data-role="door"' in page
    response = visitor.submit(path, data={"email": "door@example.org", "password": PASSWORD})
    assert response.location == "/organizer/"
    dashboard = visitor.get("/organizer/").get_data(as_text=True)
    assert 'data-role="door"' in dashboard and event.name in dashboard
    helper = db.session.scalar(select(Organizer).where(Organizer.email == "door@example.org"))
    assert access.role_in(helper, event.series_id) == "door"
    # Used once: the link now answers with its code, for everyone.
    again = app.test_client().get(path)
    assert again.status_code == 409 and error_codes(again.get_data(as_text=True)) == ["invite_used"]


def test_a_signed_in_organizer_accepts_with_one_button(app, owner_client, event, make_organizer):
    path, _ = make_invite(owner_client, event, "organizer")
    make_organizer("helper@example.org", PASSWORD)
    helper_client = app.test_client()
    assert log_in(helper_client, email="helper@example.org").status_code == 302
    assert 'name="password"' not in helper_client.get(path).get_data(as_text=True)
    assert helper_client.submit(path).location == "/organizer/"
    helper = db.session.scalar(select(Organizer).where(Organizer.email == "helper@example.org"))
    assert access.role_in(helper, event.series_id) == "organizer"
    # The owner opening their own series' link is told they are in already, beside the button.
    path, _ = make_invite(owner_client, event, "door")
    response = owner_client.submit(path)
    assert response.status_code == 400 and "already_member" in error_codes(response.get_data(as_text=True))


def test_account_errors_show_beside_their_field_and_use_nothing_up(app, owner_client, event, db_state):
    path, _ = make_invite(owner_client, event)
    visitor = app.test_client()
    visitor.get(path)  # the session that holds the form's token exists before the snapshot

    def state():
        return {table: rows for table, rows in db_state().items() if table != "web_session"}

    before = state()
    weak = visitor.submit(path, data={"email": "new@example.org", "password": "short"}).get_data(as_text=True)
    assert field_error(weak, "password") == "weak_password"
    taken = visitor.submit(path, data={"email": EMAIL, "password": PASSWORD}).get_data(as_text=True)
    assert field_error(taken, "email") == "organizer_exists"
    assert state() == before


def test_revoked_and_unknown_links_say_so(app, owner_client, event):
    path, _ = make_invite(owner_client, event, "organizer", email="friend@example.org")
    invite = db.session.scalar(select(SeriesInvite).order_by(SeriesInvite.id.desc()))
    assert invite.email == "friend@example.org"
    assert owner_client.submit(f"{members_url(event)}/revoke", data={"invite": invite.public_id},
                               page=members_url(event)).status_code == 302
    revoked = app.test_client().get(path)
    assert revoked.status_code == 409 and error_codes(revoked.get_data(as_text=True)) == ["invite_revoked"]
    unknown = app.test_client().get("/organizer/invite/not-a-real-token")
    assert unknown.status_code == 404 and error_codes(unknown.get_data(as_text=True)) == ["unknown_invite"]


def test_the_invite_token_is_masked_in_logs():
    assert mask_secrets("GET /organizer/invite/Zq3-secret_XYZ HTTP/1.1") == "GET /organizer/invite/[hidden] HTTP/1.1"
    assert "secret" not in mask_secrets("GET /organizer/login?next=%2Forganizer%2Finvite%2FZq3-secret_XYZ HTTP/1.1")


def test_the_owner_changes_roles_and_is_told_a_series_keeps_an_owner(app, owner_client, event, organizer,
                                                                     make_organizer):
    member_client(app, make_organizer, organizer, event, "door", "door@example.org")
    door = db.session.scalar(select(SeriesMember).where(SeriesMember.role == "door"))
    mine = db.session.scalar(select(SeriesMember).where(SeriesMember.role == "owner"))
    assert owner_client.submit(f"{members_url(event)}/role", data={"member": door.id, "role": "organizer"},
                               page=members_url(event)).status_code == 302
    db.session.expire_all()
    assert db.session.get(SeriesMember, door.id).role == "organizer"
    refused = owner_client.submit(f"{members_url(event)}/role", data={"member": mine.id, "role": "door"},
                                  page=members_url(event))
    assert refused.status_code == 409
    assert field_error(refused.get_data(as_text=True), f"member-{mine.id}") == "last_owner"
    door_id = door.id
    assert owner_client.submit(f"{members_url(event)}/remove", data={"member": door_id},
                               page=members_url(event)).status_code == 302
    db.session.expire_all()
    assert db.session.get(SeriesMember, door_id) is None


@pytest.mark.parametrize("action", ["remove", "role"])
def test_a_member_id_too_big_for_the_database_is_an_unknown_member(app, owner_client, event, action):
    response = owner_client.submit(f"{members_url(event)}/{action}", data={"member": "9" * 30, "role": "door"},
                                   page=members_url(event))
    assert response.status_code == 404 and "unknown_member" in error_codes(response.get_data(as_text=True))


def test_a_member_leaves_and_the_last_owner_is_told_why_not(app, owner_client, event, organizer, make_organizer):
    door = member_client(app, make_organizer, organizer, event, "door", "door@example.org")
    leave = f"/organizer/series/{event.series.public_id}/leave"
    assert door.submit(leave).location == "/organizer/"
    assert door.get(f"/organizer/events/{event.public_id}").status_code == 404
    refused = owner_client.submit(leave)
    assert refused.status_code == 409 and field_error(refused.get_data(as_text=True), "leave") == "last_owner"


def test_each_role_sees_only_what_it_may_do(app, owner_client, event, organizer, make_organizer):
    door = member_client(app, make_organizer, organizer, event, "door", "door@example.org")
    co = member_client(app, make_organizer, organizer, event, "organizer", "co@example.org")
    series = event.series.public_id
    edit, members_link = f"/organizer/events/{event.public_id}/edit", f"/organizer/series/{series}/members"
    settings = f"/organizer/series/{series}/settings"

    door_page = door.get(f"/organizer/events/{event.public_id}").get_data(as_text=True)
    assert 'data-role="door"' in door_page and event.name in door_page
    assert 'data-state="open-kiosk"' in door_page  # the kiosk is theirs to open
    for hidden in (edit, "/status", "/join-code", "/poster", members_link, event.join_code):
        assert hidden not in door_page, hidden
    door_dashboard = door.get("/organizer/").get_data(as_text=True)
    assert settings not in door_dashboard and members_link not in door_dashboard

    co_page = co.get(f"/organizer/events/{event.public_id}").get_data(as_text=True)
    assert edit in co_page and members_link not in co_page
    assert members_link not in co.get("/organizer/").get_data(as_text=True)
    assert co.get(members_link).status_code == 403

    assert members_link not in co.get(f"/organizer/series/{series}").get_data(as_text=True)
    assert members_link in owner_client.get(f"/organizer/series/{series}").get_data(as_text=True)
    owner_page = owner_client.get(f"/organizer/events/{event.public_id}").get_data(as_text=True)
    assert edit in owner_page and members_link in owner_page
    assert members_link in owner_client.get("/organizer/").get_data(as_text=True)
