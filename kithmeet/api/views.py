"""The JSON API under /api/v1: scans, one's connections, one's profile, and its own OpenAPI
description. Each route reads its body through schemas.py and calls the same service the pages
call (connections.services.connect, connections.scans, followup.drafts.save_entry, ...); no rule
is decided here. Errors are `{"error": {"code", "message"}}` (errors.py), codes as on the pages.
"""
import hashlib
import json

from flask import Blueprint, current_app, jsonify, request, url_for
from flask_wtf.csrf import generate_csrf

from ..auth import current_person, person_required
from ..connections import scans
from ..connections import services as connections
from ..errors import DomainError, NotFound
from ..events import services as events
from ..events.models import Event
from ..extensions import csrf, db
from ..followup import drafts, services as followup
from ..people.device import owner_key
from ..people.models import Person
from . import auth, openapi, schemas, serialise

bp = Blueprint(auth.BLUEPRINT, __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # auth.check_request checks the session's token itself, and a bearer token needs none
bp.before_request(auth.check_request)

MAX_PER_PAGE = 100
SCAN_FIELDS = {"client_id": (str, True), "badge": (str, True), "talked_about": (str, False),
               "private_note": (str, False), "scanned_at": ((str, type(None)), False)}
EDIT_FIELDS = {"talked_about": (str, False), "talked_about_fingerprint": (str, False), "private_note": (str, False),
               "status": (str, False), "snoozed_until": ((str, type(None)), False)}


@bp.after_request
def personal(response):
    # Everything here but the description is someone's own data: no cache keeps a copy (ETags
    # still spare a client the body: it sends If-None-Match itself).
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def etag_of(data):
    """A strong validator of what a response says, however its JSON is spaced."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:32]


def answer(data, status=200):
    """`data` as JSON with its ETag, or 304 with no body when the client holds it already."""
    tag = etag_of(data)
    if request.method in ("GET", "HEAD") and request.if_none_match.contains(tag):
        response = current_app.response_class(status=304)
    else:
        response = jsonify(data)
        response.status_code = status
    response.set_etag(tag)
    return response


@bp.get("/openapi.json")
def openapi_document():
    response = jsonify(openapi.document())
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/session")
def session_state():
    """Whether someone is signed in, the CSRF token a page's script (or its service worker)
    sends with state changes, and the signed-in person's owner key (the scan queue sends only
    its own maker's scans, and the worker has no page to read it from). A bearer request needs
    no token and keeps nothing on a device: both null for it, and for someone signed out, who can
    change nothing through the API (a token for them would open a stored session per call)."""
    person = current_person()
    on_this_device = person is not None and auth.bearer() is None
    return jsonify(signed_in=person is not None, csrf_token=generate_csrf() if on_this_device else None,
                   owner=owner_key(person) if on_this_device else None)


@bp.get("/me")
@person_required
def me():
    person = current_person()
    return answer({"me": serialise.me(person, events.open_event_or_none(person.id))})


def _scan_answer(person, client_id, created=None, status=200, recorded=None):
    """The scan (read back, unless `recorded` says how connect_scan left it), and with `recorded`
    the entry of the connection it names and the card of the person scanned: a fixed number of
    statements (the connection itself is not read first)."""
    row = recorded or scans.scan_result(person, client_id)
    body = {"scan": serialise.scan(row, created)}
    if recorded is not None:
        entry = None
        try:
            entry = followup.connection_page(person, recorded.connection_public_id)
            body["connection"] = serialise.connection_detail(entry)
        except NotFound:  # the scanner took it off their list: the scan stands, the entry is not shown
            body["connection"] = None
        # The entry holds the person scanned already, with their answers, and its encounters their
        # events, the scan's among them: neither is read again for the card.
        scanned = entry.other if entry is not None and entry.other is not None else None
        event = next((e.event for e in entry.encounters if e.event_id == row.event_id), None) if entry else None
        body["person"] = scans.card(scanned or db.session.get(Person, row.scanned_id),
                                    event or db.session.get(Event, row.event_id))
    response = jsonify(body)
    response.status_code = status
    return response


@bp.post("/scans")
@person_required
def create_scan():
    data = schemas.json_object(SCAN_FIELDS)
    client_id = schemas.client_id(data["client_id"])
    scanned_at = schemas.instant(data.get("scanned_at"))
    badge = schemas.badge(data["badge"])  # its unknown_badge comes after the body's own checks, as before
    person = current_person()
    # A client id names one scan: recorded under a new id, this one could not be undone by the
    # client. The service refuses it (client_id_taken, 409) where it claims the id.
    done = connections.connect_scan(person, badge, talked_about=data.get("talked_about", ""),
                                    private_note=data.get("private_note", ""), client_id=client_id,
                                    scanned_at=scanned_at, client_id_taken="refuse")
    # The service says whether this call recorded the scan: of identical sends racing, one gets 201.
    return _scan_answer(person, client_id, done.created, 200 if done.repeat else 201, recorded=done.scan)


def _client_id(value):
    try:
        return schemas.client_id(value)
    except DomainError:
        raise NotFound("That scan isn't one of yours.", "unknown_scan") from None


@bp.get("/scans/<client_id>")
@person_required
def scan(client_id):
    return _scan_answer(current_person(), _client_id(client_id))


@bp.post("/scans/<client_id>/undo")
@person_required
def undo_scan(client_id):
    person = current_person()
    scans.undo(person, _client_id(client_id))
    return _scan_answer(person, client_id)


def _number(name, default, highest):
    raw = request.args.get(name)
    if raw is None:
        return default
    if not (len(raw) <= 7 and raw.isascii() and raw.isdigit() and 1 <= int(raw) <= highest):
        raise DomainError(f"{name} is a whole number from 1 to {highest}.", "bad_parameter")
    return int(raw)


@bp.get("/connections")
@person_required
def connection_list():
    number = _number("page", 1, followup.MAX_PAGE)
    size = _number("per_page", min(current_app.config["FOLLOWUP_PAGE_SIZE"], MAX_PER_PAGE), MAX_PER_PAGE)
    page = followup.followup_page(current_person(), number, size)
    following = url_for(".connection_list", page=number + 1, per_page=size, _external=True) if page.has_next else None
    return answer({"connections": [serialise.connection_summary(entry) for entry in page.entries],
                   "page": page.number, "per_page": size, "total": page.total, "next": following})


@bp.get("/connections/<public_id>")
@person_required
def connection(public_id):
    entry = followup.connection_page(current_person(), public_id[:16])
    return answer({"connection": serialise.connection_detail(entry)})


@bp.patch("/connections/<public_id>")
@person_required
def edit_connection(public_id):
    person = current_person()
    data = schemas.json_object(EDIT_FIELDS)
    snoozed_until = schemas.day(data.get("snoozed_until"))
    entry = followup.connection_page(person, public_id[:16])
    seen = {"connection": serialise.connection_detail(entry)}
    changes = {"status": data.get("status"), "private_note": data.get("private_note"),
               "talked_about": data.get("talked_about"), "snoozed_until": snoozed_until,
               "talked_about_fingerprint": data.get("talked_about_fingerprint")}
    if request.if_match:
        if not request.if_match.contains(etag_of(seen)):
            raise DomainError("This connection changed since you read it. Read it again, then make your change.",
                              "edit_conflict", status=412)
        # The client saw exactly this: a scan landing from now on is merged, not overwritten.
        changes["private_note_seen"] = entry.side.private_note
        if changes["talked_about_fingerprint"] is None:
            changes["talked_about_fingerprint"] = entry.shared_text_fingerprint
    result = drafts.save_entry(person, entry.connection.public_id, **changes)
    body = {"connection": serialise.connection_detail(followup.connection_page(person, entry.connection.public_id)),
            "conflict": None}
    if result.conflict:
        body["conflict"] = {"code": "edit_conflict", "their_text": result.their_text,
                            "message": "They changed this line meanwhile; your words were kept as a draft."}
    response = jsonify(body)
    response.set_etag(etag_of({"connection": body["connection"]}))
    return response
