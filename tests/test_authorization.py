"""Every route, as every role: a visitor, an attendee (Ada), another attendee (Cy, met no
one), the series' owner, a co-organizer (role organizer), a door volunteer (role door), and an
organizer of another series. Each page answers its role as ACCESS says, no one sees what is not
theirs, and a state change sent by a role that may not make it (with that session's own valid
CSRF token and the genuine form's fields) changes nothing.

The test walks the app's URL map, so a new route fails here until ACCESS lists it.
"""
import re

import pytest
from sqlalchemy import select

from kithmeet.extensions import db
from kithmeet.organizer import passwords
from kithmeet.reports import services as reports

from .test_csrf import FORM_PAGE, PASSWORD, ROUTES, STATE_CHANGING, Site, send, token_field

ROLES = ("visitor", "attendee", "stranger", "owner", "co_organizer", "door", "other_organizer")
ATTENDEES = {"attendee", "stranger"}
ORGANIZERS = {"owner", "co_organizer", "door", "other_organizer"}  # any organizer account

# What each role gets from a GET: "ok" (the page, or a redirect to something other than a
# sign-in), "signin" (sent to sign in: the start page, the organizer login, or a 401),
# "hidden" (404: someone else's, and whether it exists is not told), or "forbidden" (403: a
# member of the series whose role is too weak, events.access role_too_low).
EVERYONE = dict.fromkeys(ROLES, "ok")
ATTENDEE = {role: "ok" if role in ATTENDEES else "signin" for role in ROLES}
ADA_ONLY = {**ATTENDEE, "stranger": "hidden"}
ORGANIZER = {role: "ok" if role in ORGANIZERS else "signin" for role in ROLES}  # any organizer account
# Pages of one event or series: its owner and organizers; a door volunteer is refused, another
# series' organizer is told nothing. (Named before roles existed: it means need="organizer".)
OWNER_ONLY = {**ORGANIZER, "door": "forbidden", "other_organizer": "hidden"}
DOOR_TOO = {**OWNER_ONLY, "door": "ok"}  # the kiosk and check-in: need="door"
OWNERS = {**OWNER_ONLY, "co_organizer": "forbidden"}  # who helps run the series: need="owner"
NO_ONE = dict.fromkeys(ROLES, "signin")

ACCESS = {
    "static": EVERYONE,
    "home.index": EVERYONE,
    "badges.badge_svg": EVERYONE,
    "badges.badge_png": EVERYONE,
    "badges.join_svg": EVERYONE,
    "badges.event_logo": EVERYONE,  # an event's logo and accent: shown on its public pages
    "badges.brand_css": EVERYONE,
    "people.join": EVERYONE,
    "people.join_lowercase": EVERYONE,
    "people.signin": EVERYONE,  # the link is the authority; its GET only asks for a tap
    "people.signin_by_email": EVERYONE,  # "I've been here before"
    "people.email_link": EVERYONE,  # an e-mailed link: the same as a personal one
    "connections.scan": EVERYONE,  # a stranger gets the public card and a join link
    "connections.scan_lowercase": EVERYONE,
    "organizer.login": EVERYONE,
    "organizer.setup": NO_ONE,  # an organizer exists: setup is over, it leads to sign-in
    "organizer.reset_password": EVERYONE,  # the reset link is the authority
    "organizer.login_code": NO_ONE,  # only between a right password and the code
    "people.badge": ATTENDEE,
    "connections.scanner": ATTENDEE,  # the in-page scanner: what /badge gives anyone else
    "people.signin_link": ATTENDEE,
    "people.account": ATTENDEE,
    "people.edit_profile": ATTENDEE,
    "people.delete_account": ATTENDEE,
    "people.export_data": ATTENDEE,
    "people.export_people": ATTENDEE,
    "people.export_own_card": ATTENDEE,
    "people.contacts_csv": ATTENDEE,
    "people.connection_vcard": ADA_ONLY,  # one person of a connection: Ada's with Bo, hidden from Cy
    "followup.index": ATTENDEE,
    "followup.connection": ADA_ONLY,  # only the connection's two people; anyone else gets a 404
    "followup.reconnect": ATTENDEE,
    "followup.nudge_setting": ATTENDEE,  # the e-mail switches, each person's own
    "followup.reconnect_draft": ADA_ONLY,
    "followup.unsubscribe": EVERYONE,  # the key in the link is the authority; its GET only asks
    "connections.review": ATTENDEE,
    "reports.new": ADA_ONLY,
    "organizer.dashboard": ORGANIZER,
    "organizer.new_event": ORGANIZER,
    "organizer.account": ORGANIZER,
    "organizer.activity": ORGANIZER,
    "organizer.change_password": ORGANIZER,
    "organizer.confirm_two_factor": ORGANIZER,
    "organizer.disable_two_factor": ORGANIZER,
    "organizer.event": DOOR_TOO,  # a door volunteer sees the door tools only (tests/organizer/test_members.py)
    "organizer.poster": OWNER_ONLY,
    "organizer.edit_event": OWNER_ONLY,
    "organizer.branding_page": OWNER_ONLY,
    "organizer.confirm_close": OWNER_ONLY,
    "organizer.series_settings": OWNER_ONLY,
    "organizer.series": OWNER_ONLY,
    "organizer.next_event": OWNER_ONLY,
    "guests.upload": OWNER_ONLY,  # guest-list import: the series' organizers only
    "guests.mapping": OWNER_ONLY,
    "guests.progress": OWNER_ONLY,
    "guests.report": OWNER_ONLY,
    "reports.for_series": OWNER_ONLY,
    # The live dashboard and the attendee list: the event's organizers, not its door volunteers.
    "organizer.live_dashboard": OWNER_ONLY,
    "organizer.live_projector": OWNER_ONLY,
    "organizer.live_numbers": OWNER_ONLY,
    "organizer.attendee_list": OWNER_ONLY,
    "organizer.attendees_csv": OWNER_ONLY,
    "organizer.hide_attendee": OWNER_ONLY,  # without someone picked: back to the list
    "organizer.remove_attendee": OWNER_ONLY,
    "organizer.members_page": OWNERS,
    # Printed badges: sheets for the event's organizers; the page and a one-badge reprint at the door too.
    "badges.badge_sheets": DOOR_TOO,
    "badges.badge_sheets_pdf": OWNER_ONLY,
    "badges.reprint_badge": DOOR_TOO,
    "badges.own_badge_pdf": ATTENDEE,
    "organizer.leave_series": DOOR_TOO,  # any member may leave (the last owner is refused on POST)
    "organizer.accept_invite": EVERYONE,  # the link is the authority; its GET only asks
    # The door kiosk (door role and up: H3 sorts roles). Outside kiosk mode its pages lead an
    # organizer to the dashboard; the hand-off link is the authority, as a sign-in link's.
    "kiosk.start": ORGANIZER,
    "kiosk.registered": ORGANIZER,
    "kiosk.new_here": ORGANIZER,
    "kiosk.welcome": ORGANIZER,
    "kiosk.welcome_status": ORGANIZER,
    "kiosk.label": ORGANIZER,
    "kiosk.leave": ORGANIZER,
    "kiosk.signin": EVERYONE,
    # The JSON API (a 401 is "signin"): its description and the CSRF token for anyone, the rest
    # the attendee's own; Ada's connection and scan do not exist for Cy (404).
    "api.openapi_document": EVERYONE,
    "api.session_state": EVERYONE,
    "api.me": ATTENDEE,
    "api.connection_list": ATTENDEE,
    "api.connection": ADA_ONLY,
    "api.scan": ADA_ONLY,
    "api_tokens.index": ATTENDEE,  # personal API tokens: each person's own
    # Offline first: the manifest, the worker and its offline page (who is signed in, for the
    # queue, is api.session_state).
    "offline.manifest": EVERYONE,
    "offline.service_worker": EVERYONE,
    "offline.offline_page": EVERYONE,
    # "X connected with you": the attendee's own count (a page's token, or here the session).
    "news.check": ATTENDEE,
}

# Who may send each state change; every other role is refused and nothing changes. A
# connection is Ada's (Cy gets a 404), an event, series or report is its organizers'.
ANYONE = set(ROLES)
RUNNERS = {"owner", "co_organizer"}  # an event's or series' changes: need="organizer"
AT_THE_DOOR = RUNNERS | {"door"}  # the kiosk and check-in: need="door"
OWNER = {"owner"}  # who helps run the series: need="owner"
SENDERS = {
    "organizer.setup": ANYONE,  # refused to everyone once an organizer exists: checked below
    "organizer.login": ANYONE,
    "organizer.login_code": set(),
    "organizer.reset_password": ANYONE,
    "people.join": ANYONE,
    "people.signin": ANYONE,
    "people.signin_by_email": ANYONE,
    "people.email_link": ANYONE,
    "connections.typed_code": ANYONE,
    "organizer.logout": ORGANIZERS,
    "organizer.new_event": ORGANIZERS,
    "organizer.change_password": ORGANIZERS,
    "organizer.start_two_factor": ORGANIZERS,
    "organizer.confirm_two_factor": ORGANIZERS,
    "organizer.disable_two_factor": ORGANIZERS,
    "organizer.set_status": RUNNERS,
    "organizer.edit_event": RUNNERS,
    "organizer.delete_event": RUNNERS,
    "organizer.rotate_join_code": RUNNERS,
    "organizer.branding_page": RUNNERS,
    "organizer.next_event": RUNNERS,
    "organizer.series_settings": RUNNERS,
    "guests.upload": RUNNERS,
    "guests.mapping": RUNNERS,
    "guests.claim_link": ANYONE,  # "Is this you?": sends only to the badge's own address
    "reports.resolve": RUNNERS,
    "reports.remove_person": RUNNERS,
    "organizer.hide_attendee": RUNNERS,
    "organizer.remove_attendee": RUNNERS,
    "organizer.invite_member": OWNER,
    "organizer.revoke_invite": OWNER,
    "organizer.change_member_role": OWNER,
    "organizer.remove_member": OWNER,
    "organizer.leave_series": AT_THE_DOOR,  # the owner, as the last owner, is refused anyway
    "organizer.accept_invite": ANYONE,  # the link is the authority (one use: tests/events/test_members.py)
    "people.signin_link": ATTENDEES,
    "people.replace_badge": ATTENDEES,
    "people.sign_out_everywhere": ATTENDEES,
    "people.edit_profile": ATTENDEES,
    "people.signout": ATTENDEES,
    "people.delete_account": ATTENDEES,
    "connections.scan": ATTENDEES,  # Cy scanning Bo is a connection of her own
    "followup.update": {"attendee"},
    "followup.reconnect_draft": {"attendee"},
    "followup.reconnect_skip": {"attendee"},
    "followup.reconnect_done": {"attendee"},
    "followup.unsubscribe": ANYONE,  # no sign-in: a mail client's one-click POST
    "followup.nudge_setting": ATTENDEES,  # each their own mail choices
    "connections.keep": {"attendee"},
    "connections.confirm": {"attendee"},
    "connections.remove": {"attendee"},
    "connections.block": {"attendee"},
    "reports.new": {"attendee"},
    # The door kiosk: opened on the organizer's own event; the rest only in a browser in kiosk
    # mode (anyone else: no_kiosk, 409).
    "kiosk.enter": AT_THE_DOOR,
    "kiosk.registered": AT_THE_DOOR,
    "kiosk.check_in": AT_THE_DOOR,
    "kiosk.new_here": AT_THE_DOOR,
    "kiosk.leave": AT_THE_DOOR,
    "kiosk.signin": ANYONE,
    "api.create_scan": ATTENDEES,  # Cy scanning Bo is a scan of her own
    "api.undo_scan": {"attendee"},  # Ada's scan: not Cy's to take back
    "api.edit_connection": {"attendee"},
    "api_tokens.create": ATTENDEES,  # each their own tokens
    "api_tokens.revoke": {"attendee"},  # Ada's token: to Cy it does not exist
}

# Words only their owners may see: Ada's shared e-mail (Bo and Ada), her private note and
# the shared line (Ada and Bo), and the report's details (its writer, Ada, and the organizer).
ADA_EMAIL, ADA_NOTE, SHARED_LINE = "ada@example.org", "a note only Ada reads", "first words"
REPORT_DETAILS = "details only the organizer reads"
SEES = {ADA_EMAIL: {"attendee"}, ADA_NOTE: {"attendee"}, SHARED_LINE: {"attendee"},
        REPORT_DETAILS: RUNNERS | {"attendee"}}  # Ada wrote the report; door volunteers never see it
UNTRACKED = {"web_session", "rate_limit_counter"}  # who is signed in, and what was counted
# Refused by showing a page: someone not signed in who taps Connect gets the public card and
# a link to join (the same page the GET shows).
ANSWERED_WITH_A_PAGE = {"connections.scan"}


class Walk(Site):
    def populate(self, make_organizer, make_event, make_person):
        from kithmeet.connections import notes
        from kithmeet.people.models import Person

        super().populate(make_organizer, make_event, make_person)
        self.cy = db.session.scalar(select(Person).where(Person.name == "Cy"))
        notes.edit(self.ada, self.connection.public_id, private_note=ADA_NOTE, private_note_seen="")
        self.report = reports.report(self.ada, self.connection.public_id, reason="spam", details=REPORT_DETAILS)
        self.other = make_organizer("other@example.org", PASSWORD)
        make_event(self.other, name="Another meetup", series_name="Another series")

    def session(self, kind):
        if kind == "owner":
            return super().session("organizer")
        if kind == "stranger":
            client = self.signed_in(self.cy)
        elif kind == "other_organizer":
            client = self.app.test_client()
            assert client.submit("/organizer/login", data={"email": "other@example.org",
                                                           "password": PASSWORD}).status_code == 302
        else:
            return super().session(kind)
        client.csrf_token(FORM_PAGE)
        return client

    def arguments(self, endpoint):
        values = super().arguments(endpoint)
        if self.organizer is None:
            return values
        values.update({
            "series": self.event.series.public_id,
            "report": self.report.public_id,
            "filename": "css/app.css",
        })
        if endpoint == "organizer.reset_password":
            values["secret"] = passwords.issue_reset_secret(self.organizer)
        if endpoint.startswith(("connections.", "reports.new", "followup.", "people.connection_vcard")) \
                and "public_id" in values:
            values["public_id"] = self.connection.public_id
        return values


def senders(endpoint):
    """SENDERS[endpoint]; "organizer", from before roles existed, reads as the series' RUNNERS."""
    listed = SENDERS[endpoint]
    return (listed - {"organizer"}) | RUNNERS if "organizer" in listed else listed


def outcome(response):
    if response.status_code == 401:
        return "signin"
    if response.status_code == 404:
        return "hidden"
    if response.status_code == 403:
        return "forbidden"
    if response.status_code in (301, 302, 303):
        location = response.location.split("?")[0]
        return "signin" if location in ("/", "/organizer/login") else "ok"
    return "ok" if response.status_code == 200 else f"status {response.status_code}"


def tracked():
    with db.engine.connect() as connection:
        return {table.name: connection.execute(select(table).order_by(*table.primary_key.columns)).all()
                for table in db.metadata.sorted_tables if table.name not in UNTRACKED}


@pytest.fixture
def walk(app, signed_in, make_organizer, make_event, make_person):
    site = Walk(app, signed_in)
    site.populate(make_organizer, make_event, make_person)
    return site


def rules_of(app, methods):
    rules = [rule for rule in app.url_map.iter_rules() if rule.methods & methods]
    listed = ACCESS if methods == {"GET"} else SENDERS
    unlisted = sorted(f"{rule.endpoint} ({rule.rule})" for rule in rules if rule.endpoint not in listed)
    assert not unlisted, f"routes the authorization walk does not know: {unlisted}. Say who may use each"
    return rules


def test_every_page_answers_each_role_as_access_says_and_leaks_nothing(app, walk):
    sessions = {role: walk.session(role) for role in ROLES}
    wrong = []
    for rule in rules_of(app, {"GET"}):
        for role in ROLES:
            url = walk.url(rule, "GET")
            response = sessions[role].get(url)
            response.close()  # static files are sent as open files
            got = outcome(response)
            if got != ACCESS[rule.endpoint][role]:
                wrong.append(f"GET {url} ({rule.endpoint}) as {role}: {got}, expected {ACCESS[rule.endpoint][role]}")
            body = "" if rule.endpoint == "static" or response.mimetype in ("image/png", "application/pdf") \
                else response.get_data(True)
            for words, owners in SEES.items():
                if role not in owners and words in body:
                    wrong.append(f"GET {url} ({rule.endpoint}) as {role} shows {words!r}")
    assert wrong == [], "\n".join(wrong)


def test_a_state_change_from_a_role_that_may_not_make_it_changes_nothing(app, walk):
    sessions = {role: walk.session(role) for role in ROLES}
    genuine = {kind: walk.session(kind) for kind in ("visitor", "attendee", "organizer", "co_organizer", "door")}
    wrong = []
    for rule in rules_of(app, STATE_CHANGING):
        route = ROUTES[rule.endpoint]
        refused = [role for role in ROLES if role not in senders(rule.endpoint)]
        if rule.endpoint == "organizer.setup":
            refused = list(ROLES)  # an organizer exists: setup is over for everyone
        for role in refused:
            method = sorted(rule.methods & STATE_CHANGING)[0]
            url = walk.url(rule, method)
            fields = route.fields(walk, genuine[route.sessions[0]])
            client = sessions[role]
            before = tracked()
            response = send(client, url, method, route, {token_field(walk, route): client.csrf_token(FORM_PAGE)},
                            fields)
            what = f"{method} {url} ({rule.endpoint}) as {role}"
            code = re.search(r'data-code="([^"]*)"', response.get_data(as_text=True))
            answered = rule.endpoint in ANSWERED_WITH_A_PAGE and response.status_code == 200
            if outcome(response) not in ("signin", "hidden") and response.status_code not in (400, 403, 409) \
                    and not answered:
                wrong.append(f"{what}: {response.status_code} {code.group(1) if code else ''}")
            if tracked() != before:
                wrong.append(f"{what}: the database changed")
    assert wrong == [], "\n".join(wrong)
