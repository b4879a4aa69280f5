"""The door kiosk's pages, and the hand-off link a person opens on their own phone.

Kiosk mode belongs to one browser session: `session[KIOSK]` holds the event's public id and
the organizer who opened it. While it is set, every page but the kiosk's own sends the browser
back to the kiosk's start (`lock`), until the organizer's password is given on the leave page.
It ends by itself when that organizer's sign-in does (signed out elsewhere, session expired).

Nothing personal travels in a URL or stays reachable: searches and picks are posts; a
check-in redirects to the hand-off page, which shows the person once, from a server-side
value (`session[SHOWING]`, ids only) that is cleared when shown, when it is older than the
idle time, and whenever the start page loads. That value also says whether this visit may take
the hand-off QR (kiosk.Arrival: a badge first claimed here, or someone who just joined here);
anyone else is only told they are checked in, and how to sign in on their phone themselves. Every kiosk page is no-store (security.py: an
organizer is signed in) and its fields autocomplete="off"; static/js/kiosk.js returns to the
start after KIOSK_IDLE_SECONDS idle and once the person's phone has taken the hand-off over.
"""
import base64
import time
import uuid
from datetime import datetime, timezone
from functools import wraps

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, session, url_for

from ..auth import current_organizer, current_person, organizer_required, sign_in_person, sign_out_person
from ..badges import qr, sheets
from ..badges.stock import LABEL_62X100
from ..errors import DomainError
from ..extensions import db
from ..formtools import coded
from ..people import handoff as handoffs
from ..people.models import Person
from ..urls import external_url
from . import kiosk
from .kiosk_forms import LeaveForm, PickForm, SearchForm, join_form

bp = Blueprint("kiosk", __name__)

KIOSK = "kiosk"  # [event public id, organizer id]
# [person id, when checked in (epoch s), hand-off shown since (epoch s) or None, may take the hand-off]
SHOWING = "kiosk_showing"
NONCE = "kiosk_nonce"
# The kiosk's own pages: the only ones a browser in kiosk mode may open.
KIOSK_ENDPOINTS = {"kiosk.start", "kiosk.registered", "kiosk.check_in", "kiosk.new_here", "kiosk.welcome",
                   "kiosk.welcome_status", "kiosk.label", "kiosk.leave", "static"}
JOIN_FIELDS = {"name_required": "name", "too_long": "name", "bad_email": "email", "email_known": "email",
               "email_taken": "email"}


@bp.before_app_request
def lock():
    held = session.get(KIOSK)
    if not held or request.endpoint in KIOSK_ENDPOINTS:
        return None
    organizer = current_organizer()
    if organizer is None or organizer.id != held[1]:
        _forget()  # the sign-in that opened it ended: there is nothing left to lock
        return None
    return redirect(url_for("kiosk.start"))


def _forget():
    for key in (KIOSK, SHOWING, NONCE):
        session.pop(key, None)


def kiosk_page(view):
    """A page of the kiosk: called as view(organizer, event). Outside kiosk mode a page leads to
    the organizer's dashboard and a post is refused (no_kiosk): the name search and check-in
    are the kiosk's alone. A kiosk whose event is gone, or no longer the organizer's to run,
    simply ends."""
    @organizer_required
    @wraps(view)
    def wrapper(*args, **kwargs):
        organizer = current_organizer()
        held = session.get(KIOSK)
        if not held or held[1] != organizer.id:
            if request.method == "POST":
                raise DomainError("This browser isn't a kiosk. Open the kiosk from an event's page.", "no_kiosk",
                                  status=409)
            return redirect(url_for("organizer.dashboard"))
        try:
            event = kiosk.kiosk_event(organizer, held[0])
        except DomainError:
            _forget()
            return redirect(url_for("organizer.dashboard"))
        return view(organizer, event, *args, **kwargs)
    return wrapper


def _idle():
    return current_app.config["KIOSK_IDLE_SECONDS"]


def _page(template, event, **context):
    return render_template(f"kiosk/{template}", event=event, idle=_idle(), **context)


@bp.post("/organizer/events/<public_id>/kiosk")
@organizer_required
def enter(public_id):
    event = kiosk.open_kiosk(current_organizer(), public_id)
    if current_person() is not None:
        sign_out_person()  # a tablet at the door carries no attendee's sign-in
    _forget()
    session[KIOSK] = [event.public_id, current_organizer().id]
    return redirect(url_for(".start"))


@bp.get("/kiosk")
@kiosk_page
def start(_organizer, event):
    session.pop(SHOWING, None)  # whoever was on screen is forgotten
    return _page("start.html", event)


@bp.route("/kiosk/registered", methods=["GET", "POST"])
@kiosk_page
def registered(organizer, event):
    form, matches = SearchForm(), None
    if form.validate_on_submit():
        try:
            matches = kiosk.search(organizer, event.public_id, form.name.data)
        except DomainError as error:
            form.name.errors = [*form.name.errors, coded(error.code, error.message)]
    return _page("registered.html", event, form=form, matches=matches)


@bp.post("/kiosk/check-in")
@kiosk_page
def check_in(organizer, event):
    form = PickForm()
    if not form.validate_on_submit():
        raise DomainError("Pick your name from the list.", "unknown_person")
    arrival = kiosk.check_in_registered(organizer, event.public_id, form.person_id())
    return _show(arrival.person, handoff=arrival.handoff)


def _show(person, *, handoff):
    session[SHOWING] = [person.id, int(time.time()), None, handoff]
    return redirect(url_for(".welcome"))


@bp.route("/kiosk/new", methods=["GET", "POST"])
@kiosk_page
def new_here(organizer, event):
    prompt = event.prompt_labels[0] if event.prompt_labels else None
    form = join_form(prompt)
    if request.method == "GET":
        form.nonce.data = session[NONCE] = uuid.uuid4().hex
    if form.validate_on_submit():
        try:
            person = kiosk.join_new(organizer, event.public_id, name=form.name.data,
                                    answer=form.answer.data if prompt else "", email=form.email.data,
                                    nonce=form.nonce.data, issued_nonce=session.get(NONCE))
        except DomainError as error:
            field = JOIN_FIELDS.get(error.code)
            if field:
                form[field].errors = [*form[field].errors, coded(error.code, error.message)]
            else:
                form.form_errors.append(coded(error.code, error.message))
        else:
            session.pop(NONCE, None)
            return _show(person, handoff=True)  # made by this very visit
    return _page("new.html", event, form=form, prompt=prompt)


@bp.get("/kiosk/welcome")
@kiosk_page
def welcome(organizer, event):
    """The hand-off: shown once. A reload, the back button or a copy of the address finds the
    value gone and lands on the start. The KioskHandoff row is written here, by a GET, because
    this page is shown once only (above): writing it at the check-in would keep a secret
    nobody has been shown."""
    showing = session.get(SHOWING)
    if not showing or showing[2] is not None or time.time() - showing[1] > _idle():
        session.pop(SHOWING, None)
        return redirect(url_for(".start"))
    shown, allowed = int(time.time()), len(showing) > 3 and showing[3] is True
    if not allowed:
        person = kiosk.checked_in_person(organizer, event.public_id, showing[0])
        session[SHOWING] = [person.id, showing[1], shown, False]
        return _page("welcome.html", event, person=person, print_url=_print_url(event, person), qr=None)
    person, secret = kiosk.start_handoff(organizer, event.public_id, showing[0], allowed=allowed)
    session[SHOWING] = [person.id, showing[1], shown, allowed]  # shown: only the status check reads it now
    # Drawn into this response only: the secret is in no cookie, URL or stored page.
    image = qr.svg(external_url("kiosk.signin", handoff=secret))
    return _page("welcome.html", event, person=person, print_url=_print_url(event, person),
                 qr="data:image/svg+xml;base64," + base64.b64encode(image).decode("ascii"))


def _print_url(event, person):
    """The one-badge label of the person on screen, when the series has a label printer."""
    return url_for(".label") if event.series.label_printer else None


def _on_screen():
    """The id of the person whose hand-off the kiosk is showing, or None once forgotten."""
    showing = session.get(SHOWING)
    if showing and showing[2] is not None and time.time() - showing[2] <= _idle():
        return showing[0]
    return None


@bp.get("/kiosk/label.pdf")
@kiosk_page
def label(organizer, event):
    """"Print my badge": a 62x100 mm label (badges/sheets.py) of the person on screen, named by
    the server-side value, so the address says nothing about whom it prints."""
    person_id = _on_screen()
    if person_id is None or not event.series.label_printer:
        return redirect(url_for(".start"))
    person = db.session.get(Person, person_id)
    data = sheets.reprint(organizer, event.public_id, person.badge_token, LABEL_62X100.key)
    return current_app.response_class(data, mimetype="application/pdf",
                                      headers={"Content-Disposition": 'inline; filename="badge.pdf"'})


@bp.get("/kiosk/welcome/status")
@kiosk_page
def welcome_status(_organizer, event):
    """Whether the kiosk should move on: the person's phone used the hand-off, or the idle time
    ran out. Either way the kiosk forgets them."""
    showing = session.get(SHOWING)
    done = True
    if _on_screen() is not None:
        since = datetime.fromtimestamp(showing[2] - 1, timezone.utc).replace(tzinfo=None)
        done = handoffs.is_used(showing[0], event.id, since)
    if done:
        session.pop(SHOWING, None)
    return jsonify(done=done)


@bp.route("/kiosk/leave", methods=["GET", "POST"])
@kiosk_page
def leave(organizer, event):
    form = LeaveForm()
    if form.validate_on_submit():
        try:
            kiosk.leave_kiosk(organizer, form.password.data, event_id=event.id)
        except DomainError as error:
            form.password.errors = [*form.password.errors, coded(error.code, error.message)]
        else:
            _forget()
            flash("The kiosk is closed.", "success")
            return redirect(url_for("organizer.dashboard"))  # a door volunteer has no event page
    return _page("leave.html", event, form=form)


@bp.route("/signin/kiosk/<handoff>", methods=["GET", "POST"])
def signin(handoff):
    # GET only says whose it is: link previews and prefetchers must not use it up.
    if request.method == "POST":
        person = handoffs.redeem(handoff)
        sign_in_person(person)
        flash("You're signed in on this phone.", "success")
        return redirect(url_for("people.badge"))
    person = handoffs.person_by_secret(handoff)
    return render_template("kiosk/signin.html", person=person), 200, {"Cache-Control": "no-store"}
