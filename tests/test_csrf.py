"""Every route that changes state refuses a post without this session's CSRF token, and changes nothing.

The test walks the app's URL map, so a new POST/PUT/PATCH/DELETE route fails here until it is
listed in ROUTES (who may send it, with which fields) and its URL arguments can be filled.
"""
import io
import re
import time
import uuid
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Callable
from urllib.parse import urlsplit

import pyotp
import pytest
from sqlalchemy import select

from kithmeet.connections import services as connections
from kithmeet.extensions import db
from kithmeet.organizer import passwords
from kithmeet.organizer import services as organizers
from kithmeet.people import handoff
from kithmeet.people import services as people
from kithmeet.reports import services as reports

from .pages import email_link_token

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
PASSWORD = "a long enough password"  # make_organizer's default
FORM_PAGE = "/organizer/login"  # a page with a form for any session, even before setup


def nothing(_site, _client):
    return {}


class _Forms(HTMLParser):
    """The fields of each <form> on a page, as a browser would send them (checked boxes, selected options)."""

    def __init__(self, html):
        super().__init__()
        self.forms, self._form, self._text, self._select = {}, None, None, None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "form":
            self._form = self.forms.setdefault(urlsplit(attrs.get("action") or "").path, {})
        elif self._form is None or (not name and tag != "option"):
            return
        elif tag == "input" and attrs.get("type") not in ("submit", "button", "reset"):
            if attrs.get("type") not in ("checkbox", "radio") or "checked" in attrs:
                self._form[name] = attrs.get("value") or ""
        elif tag == "textarea":
            self._text, self._form[name] = name, ""
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and ("selected" in attrs or self._select not in self._form):
            self._form[self._select] = attrs.get("value") or ""

    def handle_data(self, data):
        if self._text:
            self._form[self._text] += data

    def handle_endtag(self, tag):
        if tag == "textarea" and self._text:
            self._form[self._text] = self._form[self._text].removeprefix("\n")  # as browsers read it
        self._text = None if tag == "textarea" else self._text
        self._select = None if tag == "select" else self._select
        self._form = None if tag == "form" else self._form


def followup_fields(site, client):
    """The follow-up form as the connection's page draws it, with every editable field changed."""
    pid = site.connection.public_id
    forms = _Forms(client.get(f"/followup/{pid}").get_data(as_text=True)).forms
    assert f"/followup/{pid}" in forms, "the connection's page has no follow-up form"
    fields = {name: value for name, value in forms[f"/followup/{pid}"].items() if not name.endswith("csrf_token")}
    return {**fields, f"{pid}-talked_about": "rewritten by a forged form", f"{pid}-private_note": "forged note",
            f"{pid}-status": "followed_up"}


def profile_fields(site, client):
    """The profile form as /profile draws it (every field kept), with the headline changed."""
    forms = _Forms(client.get("/profile").get_data(as_text=True)).forms
    assert "" in forms, "the profile page has no form posting to itself"
    fields = {name: value for name, value in forms[""].items() if not name.endswith("csrf_token")}
    return {**fields, "headline": "forged headline"}


def totp_code(site, steps):
    """The organizer's authenticator code `steps` time steps from now (any code while none is set up)."""
    db.session.expire_all()
    secret = site.organizer.totp_secret
    return pyotp.TOTP(secret).at(time.time() + 30 * steps) if secret else "000000"


KIOSK_PAGE = "/kiosk/registered"


def kiosk_mode(fields):
    """The route's fields (a dict, or site -> dict), sent from a browser that is the open event's
    door kiosk: the session opens the kiosk first, as an organizer does at the door."""
    def enter(site, client):
        if client.get("/kiosk").status_code != 200:
            page = f"/organizer/events/{site.event.public_id}"
            assert client.submit(f"{page}/kiosk", page=page).location == "/kiosk"
        return fields(site) if callable(fields) else dict(fields)
    return enter


def new_attendee(site, _client):
    """Someone new checked in at the open event (a new one per send), and the confirmed form that
    hides them from it or removes them from the series (organizer/attendee_views.py)."""
    from kithmeet.events import attendees
    from kithmeet.people.profile import Profile

    person = people.join_event(site.event, Profile(name=f"Attendee {uuid.uuid4().hex[:6]}"))
    return {"attendee": attendees.attendee_key(site.event, person.id), "confirm": "y"}


def second_step_then_off(site, client):
    """A session made while two-factor is on stops at the code step: finish it (with the code
    after the one that turned it on), then send the next code to turn two-factor off."""
    db.session.expire_all()  # the sends ran in their own sessions
    if site.organizer.totp_enabled_at is not None:
        assert client.submit("/organizer/login/code", data={"code": totp_code(site, 0)}).status_code == 302
    return {"password": PASSWORD, "code": totp_code(site, 1)}


class Upload(io.BytesIO):
    """A file field that can be sent again: the test client closes what it sent, and a
    forgery's fields are sent twice (without a token, then with another session's)."""

    def close(self):
        self.seek(0)


@dataclass
class Route:
    sessions: tuple  # the sessions that may genuinely send this: "visitor", "attendee", "organizer"
    fields: Callable = nothing  # (site, client) -> the fields its real form sends, without the token
    prefix: Callable = None  # site -> the form's prefix, when the token field is "<prefix>-csrf_token"
    writes: bool = True  # a genuine send writes to the database (checked, so "nothing changed" means something)
    before_setup: bool = False  # only meaningful while no organizer exists
    status: int = 302  # what a genuine send answers (post/redirect/get, unless it shows a one-time secret)
    csrf_exempt: str = ""  # why this route takes no token (also in SECURITY.md); forgeries are then not refused
    page: str = FORM_PAGE  # where a genuine send's session reads its token (a kiosk sees only its own pages)
    json: bool = False  # the JSON API: fields sent as a JSON body, the token in the X-CSRFToken header


def send(client, url, method, route, token, fields):
    """A send of the route's fields with `token` ({field name: token}, or {} for none), as its
    real client sends them: a form post, or the API's JSON with the token in its header."""
    if route.json:
        return client.open(url, method=method, json=fields,
                           headers={"X-CSRFToken": value for value in token.values()})
    return client.open(url, method=method, data={**token, **fields})


def new_token(site, _client):
    """A new API token of Ada's, for the page's revoke button."""
    from kithmeet.api import tokens

    return {"token": tokens.create(site.ada, "Forged")[0].public_id}


# In the order the genuine sends are replayed: closing the event goes last.
ROUTES = {
    "organizer.setup": Route(("visitor",), lambda s, _: {"code": s.setup_code, "email": "first@example.org",
                                                      "password": PASSWORD}, before_setup=True),
    "organizer.login": Route(("visitor", "attendee"), lambda s, _: {"email": s.organizer.email, "password": PASSWORD},
                             writes=False),
    "organizer.logout": Route(("organizer",), writes=False),
    "organizer.new_event": Route(("organizer",), lambda s, _: {
        "series": "Thursday Gathering", "name": "Forged event", "starts_at": "2026-12-03T19:00", "venue": "",
        "description": "", "prompt_0": "Ask me about", "prompt_1": "", "prompt_2": ""}),
    # Organizer account safety. Two-factor is turned on and off again before any other organizer
    # send: a session made while it is on stops at the code step. The password stays PASSWORD.
    "organizer.change_password": Route(("organizer",), lambda s, _: {
        "current_password": PASSWORD, "new_password": PASSWORD, "confirm_password": PASSWORD}),
    "organizer.start_two_factor": Route(("organizer",)),
    "organizer.confirm_two_factor": Route(("organizer",), lambda s, _: {"password": PASSWORD, "code": totp_code(s, -1)},
                                          status=200),
    "organizer.disable_two_factor": Route(("organizer",), second_step_then_off),
    "organizer.login_code": Route(("visitor",), writes=False),  # without a password first: back to sign-in
    "organizer.reset_password": Route(("visitor",), lambda s, _: {"password": PASSWORD, "confirm_password": PASSWORD}),
    # A new address per send: a second new person giving one already claimed is refused (email_known).
    "people.join": Route(("visitor", "attendee", "organizer"), lambda s, _: {
        "name": "Forged Name", "email": f"forged-{uuid.uuid4().hex[:8]}@example.org", "share_email": "y"}),
    "people.signin_link": Route(("attendee",), status=200),
    "people.replace_badge": Route(("attendee",)),
    "people.signin": Route(("visitor", "attendee")),
    # "I've been here before" (Ada's address: a link and its mail are written) and its link.
    "people.signin_by_email": Route(("visitor", "attendee"), lambda s, _: {"email": "ada@example.org"}),
    "people.email_link": Route(("visitor", "attendee")),
    "people.sign_out_everywhere": Route(("attendee",)),
    "people.edit_profile": Route(("attendee",), profile_fields),
    "people.signout": Route(("attendee",), writes=False),
    "connections.typed_code": Route(("visitor", "attendee"), lambda s, _: {"code": s.bo.badge_token}, writes=False),
    # Consent: Bo scanned Ada, who shares only after confirming; she keeps, then confirms, before
    # her own scan of Bo (which would tell the service she has seen it).
    "connections.keep": Route(("attendee",)),
    "connections.confirm": Route(("attendee",)),
    "connections.scan": Route(("attendee",), lambda s, _: {
        "talked_about": "forged words", "private_note": "forged note", "client_id": "forged-scan"}),
    "followup.update": Route(("attendee",), followup_fields, prefix=lambda s: s.connection.public_id),
    # The JSON API (kithmeet/api): the session's token in the X-CSRFToken header, as the scanner
    # page sends it; a bearer token needs none (tests/api/test_tokens.py). Ada scans Bo again (a
    # new client id per send), undoes a scan of hers (a new one per send: Site.arguments), edits.
    "api.create_scan": Route(("attendee",), lambda s, _: {"client_id": str(uuid.uuid4()), "badge": s.bo.badge_token,
                                                         "talked_about": "forged words"}, status=201, json=True),
    "api.undo_scan": Route(("attendee",), status=200, json=True),
    "api.edit_connection": Route(("attendee",), lambda s, _: {"private_note": "forged note", "status": "followed_up"},
                                 status=200, json=True),
    # Personal API tokens: a new one shows its secret once (200); revoking takes a new one per send.
    "api_tokens.create": Route(("attendee",), lambda s, _: {"name": "Forged token"}, status=200),
    "api_tokens.revoke": Route(("attendee",), new_token),
    # RFC 8058 one-click unsubscribe: mail clients POST it with no cookies, so no token can exist;
    # the key in the URL is the authority and all a send can do is stop mail to its holder.
    "followup.unsubscribe": Route(("visitor",), lambda s, _: {"List-Unsubscribe": "One-Click"}, status=200,
                                  csrf_exempt="RFC 8058 one-click unsubscribe from mail clients"),
    "followup.nudge_setting": Route(("attendee",), lambda s, _: {"mail": "digest", "choice": "on"}),
    # Reconnect today, before the connection is removed: the draft shows a text and stores nothing.
    "followup.reconnect_draft": Route(("attendee",), lambda s, _: {
        f"{s.connection.public_id}-link": "https://example.org/forged", f"{s.connection.public_id}-line": "forged"},
        prefix=lambda s: s.connection.public_id, writes=False, status=200),
    "followup.reconnect_skip": Route(("attendee",)),
    "followup.reconnect_done": Route(("attendee",)),
    "connections.remove": Route(("attendee",)),
    "connections.block": Route(("attendee",)),  # after a remove, a block still writes
    "reports.new": Route(("attendee",), lambda s, _: {"reason": "spam", "details": "forged report"}),
    "reports.resolve": Route(("organizer",)),
    "reports.remove_person": Route(("organizer",)),
    "organizer.series_settings": Route(("organizer",), lambda s, _: {
        "retention_months": "6", "code_of_conduct_url": "https://example.org/conduct"}),
    # Editing, deleting a draft (a new one per send: Site.arguments) and a new join code.
    "organizer.edit_event": Route(("organizer",), lambda s, _: {
        "name": "Edited event", "starts_at": "2026-12-03T19:00", "venue": "The Library", "description": "",
        "prompt_0": "Ask me about", "prompt_1": "", "prompt_2": "", "prompt_3": "", "prompt_4": ""}),
    "organizer.delete_event": Route(("organizer",), lambda s, _: {"confirm": "y"}),
    "organizer.rotate_join_code": Route(("organizer",)),
    "organizer.branding_page": Route(("organizer",), lambda s, _: {"accent_color": "#0d6b63"}),  # no file: the colour
    "organizer.next_event": Route(("organizer",), lambda s, _: {"starts_at": "2026-12-10T19:00"}),  # a new draft
    # The door kiosk (while the event is open): each send's session is in kiosk mode, leaving last.
    "kiosk.enter": Route(("organizer",)),
    "kiosk.registered": Route(("organizer",), kiosk_mode({"name": "Ad"}), page=KIOSK_PAGE, writes=False, status=200),
    "kiosk.check_in": Route(("organizer",), kiosk_mode(lambda s: {"person": str(s.ada.id)}), page=KIOSK_PAGE),
    "kiosk.new_here": Route(("organizer",), kiosk_mode({"name": "Forged Kiosk Joiner", "email": ""}),
                            page=KIOSK_PAGE),
    "kiosk.leave": Route(("organizer",), kiosk_mode({"password": PASSWORD}), page=KIOSK_PAGE),
    "kiosk.signin": Route(("visitor", "attendee")),  # the hand-off link is the authority, as a sign-in link's
    # The attendee list: hide someone from the event, remove someone from the series (while it is open).
    "organizer.hide_attendee": Route(("organizer",), new_attendee),
    "organizer.remove_attendee": Route(("organizer",), new_attendee),
    "organizer.set_status": Route(("organizer",), lambda s, _: {"status": "closed"}),
    # Who helps run the series (organizer/member_views.py). The invite shows its link once (200);
    # each send that needs an invite or a member to act on gets a new one (made before the snapshot).
    "organizer.invite_member": Route(("organizer",), lambda s, _: {"role": "door", "email": ""}, status=200),
    "organizer.revoke_invite": Route(("organizer",), lambda s, _: {"invite": s.new_invite()[0].public_id}),
    "organizer.change_member_role": Route(("organizer",), lambda s, _: {
        "member": s.membership(s.door).id, "role": "door" if s.membership(s.door).role == "organizer" else "organizer"}),
    "organizer.remove_member": Route(("organizer",), lambda s, _: {"member": s.new_member("door").id}),
    # The link is the authority: a visitor makes an account there (a new address per send).
    "organizer.accept_invite": Route(("visitor",), lambda s, _: {
        "email": f"invited-{uuid.uuid4().hex[:8]}@example.org", "password": PASSWORD}),
    # The door volunteer leaves the series: nothing after this sends as them.
    "organizer.leave_series": Route(("door",)),
    # Guest-list import: an upload, then (a new pending upload per send: Site.arguments) its import;
    # "Is this you?" on Bo's badge, which is claimed, so nothing is sent.
    "guests.upload": Route(("organizer",), lambda s, _: {
        "file": (Upload(f"Name,Email\nGuest,{uuid.uuid4().hex[:8]}@example.org\n".encode()), "guests.csv")}),
    "guests.mapping": Route(("organizer",), lambda s, _: {"name": "0", "email": "1", "confirm": "1"}),
    "guests.claim_link": Route(("visitor", "attendee", "organizer"), writes=False),
    # Deletes Ada, whom the attendee sessions sign in as: keep it last.
    "people.delete_account": Route(("attendee",), lambda s, _: {"confirm": "DELETE"}),
}


class Site:
    """The data the routes act on, and a way to open a session of each kind."""

    def __init__(self, app, signed_in):
        self.app, self.signed_in = app, signed_in
        self.setup_code = self.organizer = self.event = self.ada = self.bo = self.connection = self.report = None
        self.co_organizer = self.door = None  # members of the event's series, by invite (roles organizer, door)
        self.attacker = self.session("visitor")

    def populate(self, make_organizer, make_event, make_person):
        """An organizer, an open event, Ada and Bo (connected), and Cy, whose session forges the posts."""
        self.organizer = make_organizer("organizer@example.org", PASSWORD)
        self.event = make_event(self.organizer)
        self.ada = make_person("Ada", event=self.event, contacts={"email": "ada@example.org"})
        self.bo = make_person("Bo", event=self.event)
        self.ada.share_on_connect = False  # so confirming her side of the connection writes
        db.session.commit()
        self.connection, _ = connections.connect(self.bo, self.ada.badge_token, talked_about="first words")
        self.report = reports.report(self.ada, self.connection.public_id, reason="spam")
        self.attacker = self.signed_in(make_person("Cy", event=self.event))
        self.co_organizer = self.new_member("organizer", "co@example.org")
        self.door = self.new_member("door", "door@example.org")

    def new_invite(self, role="door"):
        """(invite, token): a new single-use invite to the event's series, made by its owner."""
        from kithmeet.events import members

        return members.invite(self.organizer, self.event.series.public_id, role=role)

    def new_member(self, role, email=None):
        """A new organizer account that joined the event's series in `role` through an invite."""
        from kithmeet.events import members

        helper = organizers.create_organizer(email or f"member-{uuid.uuid4().hex[:8]}@example.org", PASSWORD)
        members.accept(helper, self.new_invite(role)[1])
        return self.membership(helper)

    def membership(self, who):
        """The current series_member row of an organizer, or of the member `who` was."""
        from kithmeet.events.models import SeriesMember

        organizer_id = who.organizer_id if isinstance(who, SeriesMember) else who.id
        db.session.expire_all()
        return db.session.scalar(select(SeriesMember).where(
            SeriesMember.series_id == self.event.series_id, SeriesMember.organizer_id == organizer_id))

    def session(self, kind):
        """A new client of that kind that has loaded a page with a form (so it holds its own CSRF token)."""
        if kind == "visitor":
            client = self.app.test_client()
        elif kind == "attendee":
            client = self.signed_in(self.ada)
        elif kind in ("organizer", "co_organizer", "door"):  # "organizer" is the series' owner
            email = {"organizer": "organizer@example.org", "co_organizer": "co@example.org",
                     "door": "door@example.org"}[kind]
            client = self.app.test_client()
            response = client.submit("/organizer/login", data={"email": email, "password": PASSWORD})
            assert response.status_code == 302
        client.csrf_token(FORM_PAGE)
        return client

    def arguments(self, endpoint):
        """Real values for the route arguments. Issuing the sign-in secret writes: call before a snapshot."""
        db.session.expire_all()  # the requests ran in their own sessions
        if self.organizer is None:
            return {}  # before setup there is nothing to point at
        owner = {"organizer": self.event, "followup": self.connection, "connections": self.connection,
                 "reports": self.connection, "kiosk": self.event, "api": self.connection}.get(endpoint.split(".")[0])
        if endpoint in ("badges.badge_sheets", "badges.badge_sheets_pdf", "badges.reprint_badge"):
            owner = self.event  # printed badges: the badges blueprint's pages of an event
        return {
            # Bo's badge, which Ada scans; for an e-mailed sign-in link, a new one of Ada's.
            "token": email_link_token(self.app, self.ada.email) if endpoint == "people.email_link" else
            self.mail_token() if endpoint == "followup.unsubscribe" else  # Ada's unsubscribe key
            self.new_invite()[1] if endpoint == "organizer.accept_invite" else  # a new invite link
            self.bo.badge_token,
            "code": self.event.join_code,  # the open event
            "secret": people.issue_signin_secret(self.ada) if endpoint == "people.signin" else
            passwords.issue_reset_secret(self.organizer) if endpoint == "organizer.reset_password" else None,
            "public_id": self.draft().public_id if endpoint == "organizer.delete_event" else
            self.logo().public_id if endpoint == "badges.event_logo" else  # the open event's logo
            owner.public_id if owner is not None else None,
            "series": self.event.series.public_id,  # the open event's series
            "report": self.report.public_id,  # Ada's report of Bo, to the organizer
            "color": "0d6b63",  # an accent's stylesheet (badges/brand_views.py)
            # A door kiosk's hand-off of Ada (checked in at the open event): a new one per use.
            "handoff": handoff.issue(self.ada.id, self.event.id) if endpoint == "kiosk.signin" else None,
            # A new pending guest-list upload per use (guests.mapping imports it).
            "import_id": self.guest_import().public_id if endpoint.startswith("guests.") else None,
            # A new scan of Bo's badge by Ada per use (api.scan reads it, api.undo_scan takes it back).
            "client_id": self.new_scan() if endpoint in ("api.scan", "api.undo_scan") else None,
        }

    def new_scan(self):
        client_id = str(uuid.uuid4())
        connections.connect(self.ada, self.bo.badge_token, client_id=client_id)
        return client_id

    def logo(self):
        """The open event's logo, uploaded on first use (events/branding.py)."""
        from PIL import Image

        from kithmeet.events import branding

        if self.event.logo is None:
            out = io.BytesIO()
            Image.new("RGB", (8, 8)).save(out, format="PNG")
            branding.update_branding(self.organizer, self.event.public_id, logo=out.getvalue())
        return self.event.logo

    def draft(self):
        """A new draft event of the organizer's: the one thing organizer.delete_event deletes."""
        from datetime import datetime

        from kithmeet.events import services as events

        return events.create_event(self.organizer, name="A draft", starts_at=datetime(2026, 12, 10, 19, 0),
                                   series_name=self.event.series.name)

    def guest_import(self):
        """A new pending guest-list upload in the open event's series."""
        from kithmeet.guests import services as guests

        return guests.upload(self.organizer, self.event.series.public_id, "guests.csv",
                             f"Name,Email\nGuest,{uuid.uuid4().hex[:8]}@example.org\n".encode())

    def mail_token(self):
        """Ada's unsubscribe key (made and saved on first use, as a digest would)."""
        from kithmeet.people import mail_choices

        token = mail_choices.tokens_for([self.ada])[self.ada.id]
        db.session.commit()
        return token

    def url(self, rule, method):
        known = {name: value for name, value in self.arguments(rule.endpoint).items() if value is not None}
        unknown = sorted(rule.arguments - set(known))
        if unknown:
            pytest.fail(f"{rule.rule} ({rule.endpoint}) takes {', '.join(f'<{n}>' for n in unknown)}, which this "
                        "test cannot fill yet: teach Site.arguments a real value for it", pytrace=False)
        values = {name: known[name] for name in rule.arguments}
        return self.app.url_map.bind("localhost").build(rule.endpoint, values, method=method)


def snapshot():
    """Every row of every table, read on a fresh connection."""
    with db.engine.connect() as connection:
        return {table.name: connection.execute(select(table).order_by(*table.primary_key.columns)).all()
                for table in db.metadata.sorted_tables}


def error_code(response):
    """The data-code of the error page (templates/error.html), the code of a JSON error, or None."""
    if response.is_json:
        return (response.get_json().get("error") or {}).get("code")
    match = re.search(r'data-code="([^"]*)"', response.get_data(as_text=True))
    return match.group(1) if match else None


def state_changing_rules(app):
    rules = [rule for rule in app.url_map.iter_rules()
             if rule.endpoint != "static" and rule.methods & STATE_CHANGING]
    unlisted = sorted(f"{rule.endpoint} ({rule.rule})" for rule in rules if rule.endpoint not in ROUTES)
    if unlisted:
        pytest.fail(f"state-changing routes this test does not cover: {', '.join(unlisted)}. Add each to "
                    "ROUTES with the sessions allowed to send it and the fields its form sends", pytrace=False)
    gone = sorted(set(ROUTES) - {rule.endpoint for rule in rules})
    assert not gone, f"ROUTES lists endpoints that no longer change state: {gone}"
    order = list(ROUTES)
    return sorted(rules, key=lambda rule: order.index(rule.endpoint))


def requests_of(rules):
    for rule in rules:
        route = ROUTES[rule.endpoint]
        for method in sorted(rule.methods & STATE_CHANGING):
            for kind in route.sessions:
                yield rule, route, method, kind


def token_field(site, route):
    return f"{route.prefix(site)}-csrf_token" if route.prefix else "csrf_token"


def assert_forgeries_refused(site, rules):
    rules = [rule for rule in rules if not ROUTES[rule.endpoint].csrf_exempt]
    sessions = {kind: site.session(kind) for _, _, _, kind in requests_of(rules)}
    foreign_token = site.attacker.csrf_token(FORM_PAGE)  # valid, but for Cy's session
    for rule, route, method, kind in requests_of(rules):
        client = sessions[kind]
        url = site.url(rule, method)
        fields = route.fields(site, client)
        before = snapshot()
        for case, token in (("no token", {}), ("another session's token", {token_field(site, route): foreign_token})):
            response = send(client, url, method, route, token, fields)
            what = f"{method} {url} ({rule.endpoint}) as {kind} with {case}"
            assert response.status_code == 400, f"{what}: {response.status_code}"
            assert error_code(response) == "csrf", f"{what}: not refused for its token"
            assert snapshot() == before, f"{what}: the database changed"


def assert_genuine_sends_accepted(site, rules):
    """The same sends with the session's own token do what they are for: only the token was wrong above."""
    for rule, route, method, kind in requests_of(rules):
        client = site.session(kind)
        url = site.url(rule, method)
        fields = route.fields(site, client)
        before = snapshot()
        response = send(client, url, method, route, {token_field(site, route): client.csrf_token(route.page)}, fields)
        what = f"{method} {url} ({rule.endpoint}) as {kind} with its own token"
        assert response.status_code == route.status, f"{what}: {response.status_code} {error_code(response)}"
        if route.writes:
            assert snapshot() != before, f"{what}: wrote nothing"


def test_state_changing_routes_refuse_missing_or_foreign_csrf_tokens(app, signed_in, make_organizer, make_event,
                                                                      make_person):
    assert app.config.get("WTF_CSRF_ENABLED", True) and not app.config["RATELIMIT_ENABLED"]
    rules = state_changing_rules(app)
    site = Site(app, signed_in)

    # First-run setup only does anything on an empty database.
    site.setup_code = organizers.setup_code()
    assert_forgeries_refused(site, [rule for rule in rules if ROUTES[rule.endpoint].before_setup])
    assert_genuine_sends_accepted(site, [rule for rule in rules if ROUTES[rule.endpoint].before_setup])

    site.populate(make_organizer, make_event, make_person)
    rest = [rule for rule in rules if not ROUTES[rule.endpoint].before_setup]
    assert_forgeries_refused(site, rest)
    assert_genuine_sends_accepted(site, rest)


def test_only_the_routes_listed_as_exempt_skip_csrf(app):
    exempt = {endpoint for endpoint, route in ROUTES.items() if route.csrf_exempt}
    csrf = app.extensions["csrf"]
    views = {f"{view.__module__}.{view.__name__}" for endpoint, view in app.view_functions.items()
             if endpoint in exempt}
    # tests/test_errors.py exempts a stand-in API blueprint registered only on its own apps. The
    # API's blueprint is exempt from the form check because it checks the X-CSRFToken header itself
    # (kithmeet/api/auth.py): its routes are in ROUTES like any other, forgeries refused.
    assert csrf._exempt_views == views
    assert {bp.name for bp in csrf._exempt_blueprints if bp in set(app.blueprints.values())} == {"api"}
