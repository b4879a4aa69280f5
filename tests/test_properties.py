"""Every form, driven with arbitrary text and bytes (hypothesis): never a 500, and whatever
is stored is shown escaped. Each drawn value carries a tag, `<b-kith>`, that must never
reach a page as markup."""
import re
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kithmeet.connections import services as connections

TAG = "<b-kith>"
# Derandomized: every run tries the same examples, so CI is repeatable. When changing a form,
# raise max_examples and drop derandomize locally to search further.
SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def tagged():
    """Arbitrary text (any size up to past the limits) with the tag somewhere in it."""
    return st.builds(lambda text, at: text[:at] + TAG + text[at:], st.text(max_size=1100),
                     st.integers(min_value=0, max_value=1100))


def values_for(fields):
    return st.dictionaries(st.sampled_from(fields), tagged(), min_size=1)


def csrf(client, page):
    html = client.get(page).get_data(as_text=True)
    return re.search(r'name="(?:[\w-]+-)?csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def assert_safe(response, *pages):
    assert response.status_code < 500
    for html in (response.get_data(as_text=True), *pages):
        assert TAG not in html


@pytest.fixture
def site(make_event, make_person, signed_in):
    event = make_event()
    ada, bo = make_person("Ada", event=event), make_person("Bo", event=event)
    connection, _ = connections.connect(bo, ada.badge_token, talked_about="Venues")
    return {"event": event, "ada": ada, "bo": signed_in(bo), "pid": connection.public_id}


JOIN_FIELDS = ["name", "pronouns", "headline", "prompt_0", "prompt_1", "prompt_2", "email", "phone", "linkedin",
               "website"]


@SETTINGS
@given(data=values_for(JOIN_FIELDS))
def test_join_form(site, make_client, data):
    client = make_client()
    path = f"/J/{site['event'].join_code}"
    response = client.post(path, data={"csrf_token": csrf(client, path), "name": "Ada", **data})
    assert_safe(response, client.get("/badge", follow_redirects=True).get_data(as_text=True))


@SETTINGS
@given(data=values_for(["talked_about", "private_note", "client_id"]))
def test_connect_form(site, data):
    path = f"/B/{site['ada'].badge_token}"
    response = site["bo"].post(path, data={"csrf_token": csrf(site["bo"], path), **data})
    assert_safe(response, site["bo"].get(path).get_data(as_text=True),
                site["bo"].get("/followup").get_data(as_text=True))


@SETTINGS
@given(data=values_for(["talked_about", "private_note", "status", "talked_about_fingerprint",
                        "private_note_seen", "snoozed_until"]))
def test_followup_form(site, data):
    pid = site["pid"]
    page = f"/followup/{pid}"
    fields = {f"{pid}-{name}": value for name, value in data.items()}
    response = site["bo"].post(page, data={f"{pid}-csrf_token": csrf(site["bo"], page),
                                           f"{pid}-status": "to_follow_up", **fields})
    assert_safe(response, site["bo"].get(page).get_data(as_text=True),
                site["bo"].get("/followup").get_data(as_text=True))


@SETTINGS
@given(data=values_for(["link", "line"]))
def test_reconnect_link_draft_form(site, data):
    pid = site["pid"]
    path = f"/followup/reconnect/{pid}/draft"
    fields = {f"{pid}-{name}": value for name, value in data.items()}
    response = site["bo"].post(path, data={f"{pid}-csrf_token": csrf(site["bo"], path), **fields})
    assert_safe(response, site["bo"].get("/followup/reconnect").get_data(as_text=True))


@SETTINGS
@given(data=values_for(["code"]))
def test_typed_code_form(site, data):
    response = site["bo"].post("/code", data={"csrf_token": csrf(site["bo"], "/"), **data})
    assert_safe(response)


@SETTINGS
@given(raw=st.dictionaries(st.sampled_from(JOIN_FIELDS), st.binary(max_size=300), min_size=1))
def test_join_form_with_raw_bytes(site, make_client, raw):
    """Bytes of any kind, not only valid UTF-8, percent-encoded as a client may send them."""
    client = make_client()
    path = f"/J/{site['event'].join_code}"
    body = "&".join([f"csrf_token={csrf(client, path)}", "name=Ada"]
                    + [f"{name}={quote_from_bytes(value)}" for name, value in raw.items()])
    response = client.post(path, data=body.encode(), content_type="application/x-www-form-urlencoded")
    assert response.status_code < 500


@pytest.mark.parametrize("action", ["hide", "remove"])
def test_attendee_action_forms(site, make_client, action):
    """Hiding someone or removing them from the series (organizer/attendee_views.py): the attendee
    key and the confirm box, whatever they hold, for the event's organizer."""
    from kithmeet.events.models import Series
    from kithmeet.extensions import db
    from kithmeet.organizer.models import Organizer

    from .test_csrf import FORM_PAGE

    event = site["event"]
    organizer = db.session.get(Organizer, db.session.get(Series, event.series_id).organizer_id)
    client = make_client()
    assert client.submit("/organizer/login", data={"email": organizer.email, "password": "a long enough password"}
                         ).status_code == 302
    listing = f"/organizer/events/{event.public_id}/attendees"

    @SETTINGS
    @given(data=values_for(["attendee", "confirm"]))
    def drive(data):
        response = client.post(f"{listing}/{action}", data={"csrf_token": csrf(client, FORM_PAGE), **data})
        assert_safe(response, client.get(listing).get_data(as_text=True))
    drive()


# Every other form with text in it, found on its own page and driven the same way. The
# walk's site (tests/test_authorization.py) has an organizer, an open event, Ada and Bo
# connected, and a report. A new form with text fields fails test_every_text_form_is_driven
# until it is listed here or has its own test above.
PAGES = {
    "organizer.login": ("visitor", lambda w: "/organizer/login"),
    "organizer.new_event": ("organizer", lambda w: "/organizer/events/new"),
    "organizer.change_password": ("organizer", lambda w: "/organizer/account/password"),
    "organizer.reset_password": ("visitor", lambda w: w.url_for("organizer.reset_password")),
    "organizer.series_settings": ("organizer", lambda w: w.url_for("organizer.series_settings")),
    "reports.new": ("attendee", lambda w: w.url_for("reports.new")),
    "people.delete_account": ("attendee", lambda w: "/account/delete"),
    "people.signin_by_email": ("visitor", lambda w: "/signin/email"),
    "people.edit_profile": ("attendee", lambda w: "/profile"),
    "organizer.set_status": ("organizer", lambda w: w.url_for("organizer.set_status")),  # a button's value
    "organizer.edit_event": ("organizer", lambda w: f"/organizer/events/{w.event.public_id}/edit"),
    "organizer.branding_page": ("organizer", lambda w: f"/organizer/events/{w.event.public_id}/branding"),
    "organizer.next_event": ("organizer", lambda w: f"/organizer/events/{w.event.public_id}/next"),
    "organizer.delete_event": ("organizer", lambda w: w.url_for("organizer.delete_event")),  # a box on the event page
    "followup.nudge_setting": ("attendee", lambda w: "/followup/emails"),  # the e-mail switches' values
    "followup.unsubscribe": ("visitor", lambda w: w.url_for("followup.unsubscribe")),
    # Guest-list import: the upload (a file field and the event it is for) and the column selects.
    "guests.upload": ("organizer", lambda w: f"/organizer/series/{w.event.series.public_id}/guests/import"),
    "guests.mapping": ("organizer", lambda w: w.url_for("guests.mapping")),
    # Who helps run the series: buttons and the invite form on the members page, and the invite
    # link's account form (a send that gets through uses the link up; the rest meet invite_used).
    "organizer.invite_member": ("organizer", lambda w: w.url_for("organizer.invite_member")),
    "organizer.revoke_invite": ("organizer", lambda w: w.url_for("organizer.revoke_invite")),
    "organizer.change_member_role": ("organizer", lambda w: w.url_for("organizer.change_member_role")),
    "organizer.remove_member": ("organizer", lambda w: w.url_for("organizer.remove_member")),
    "organizer.accept_invite": ("visitor", lambda w: w.url_for("organizer.accept_invite")),
    # Personal API tokens: the name, and the revoke button's token id.
    "api_tokens.create": ("attendee", lambda w: "/settings/api-tokens"),
    "api_tokens.revoke": ("attendee", lambda w: "/settings/api-tokens/revoke"),
}
# Where else what a form stores is shown, and to whom.
SHOWN_ON = {
    "reports.new": ("organizer", lambda w: f"/organizer/series/{w.event.series.public_id}/reports"),
    "organizer.new_event": ("organizer", lambda w: "/organizer/"),
    "organizer.edit_event": ("organizer", lambda w: f"/organizer/events/{w.event.public_id}"),
    "organizer.series_settings": ("visitor", lambda w: f"/J/{w.event.join_code}"),
    "organizer.branding_page": ("visitor", lambda w: f"/J/{w.event.join_code}"),  # the accent's stylesheet link
    "organizer.next_event": ("organizer", lambda w: f"/organizer/series/{w.event.series.public_id}"),
    "people.edit_profile": ("visitor", lambda w: f"/B/{w.ada.badge_token}"),  # the card a scan shows
}
OWN_TESTS = {"people.join", "connections.scan", "followup.update", "connections.typed_code",
             "followup.reconnect_draft", "organizer.hide_attendee", "organizer.remove_attendee",
             # only in kiosk mode: tests/organizer/test_kiosk_properties.py
             "kiosk.registered", "kiosk.check_in", "kiosk.new_here", "kiosk.leave",
             # the JSON API, driven with any JSON and bytes: tests/api/test_fuzz.py
             "api.create_scan", "api.edit_connection"}
# Forms with text that only exist part-way through a flow (the code after a right password,
# the code that turns two-factor on or off), driven in tests/organizer/test_twofactor.py.
FLOW_ONLY = {"organizer.login_code", "organizer.confirm_two_factor", "organizer.disable_two_factor",
             "organizer.setup"}


@pytest.fixture
def walk(app, signed_in, make_organizer, make_event, make_person):
    from .test_authorization import Walk

    site = Walk(app, signed_in)
    site.populate(make_organizer, make_event, make_person)
    site.url_for = lambda endpoint: site.url(next(app.url_map.iter_rules(endpoint)), "POST")
    return site


def text_fields(html, action):
    from .test_csrf import _Forms

    forms = _Forms(html).forms
    form = forms.get(action, forms.get(""))  # a form without an action posts to its own page
    return sorted(name for name in form or {} if not name.endswith("csrf_token"))


@pytest.mark.parametrize("endpoint", sorted(PAGES))
def test_other_forms(walk, endpoint):
    from .test_csrf import FORM_PAGE, ROUTES

    role, page = PAGES[endpoint]
    client, path = walk.session(role), page(walk)
    shown = client.get(path)
    if shown.status_code == 405:  # a button on another page: its fields are the genuine form's
        fields, form_page = sorted(ROUTES[endpoint].fields(walk, client)), FORM_PAGE
    else:
        fields, form_page = text_fields(shown.get_data(as_text=True), path), path
    assert fields, f"no fields found for {path}"
    elsewhere = shown_elsewhere(walk, endpoint)
    genuine = ROUTES[endpoint].fields(walk, client)  # valid values, so one bad field is all that is wrong

    @SETTINGS
    @given(data=values_for(fields))
    def drive(data):
        # The token from a page every session has: a send may use the page up (a reset link).
        response = client.post(path, data={"csrf_token": csrf(client, FORM_PAGE), **genuine, **data})
        assert_safe(response, client.get(form_page).get_data(as_text=True), *elsewhere())
    drive()


def shown_elsewhere(walk, endpoint):
    if endpoint not in SHOWN_ON:
        return lambda: ()
    role, page = SHOWN_ON[endpoint]
    viewer, path = walk.session(role), page(walk)
    return lambda: (viewer.get(path).get_data(as_text=True),)


def test_every_text_form_is_driven(app, walk):
    from .test_csrf import ROUTES

    genuine = {kind: walk.session(kind) for kind in ("visitor", "attendee", "organizer", "co_organizer", "door")}
    with_text = {endpoint for endpoint, route in ROUTES.items()
                 if any(not name.endswith(("csrf_token",)) for name in route.fields(walk, genuine[route.sessions[0]]))}
    assert with_text - set(PAGES) - OWN_TESTS - FLOW_ONLY == set()
