"""The scan landing (what a phone camera opens when it reads a badge), and each person's say
over their connections: the banner that tells them of new ones, the review page, and keep,
confirm, remove and block."""
import uuid

from flask import Blueprint, flash, redirect, render_template, request, url_for

from ..auth import current_person, person_required
from ..errors import DomainError
from ..events import services as events
from ..formtools import coded
from ..people import services as people
from ..redirects import safe_next
from ..tokens import normalize
from . import consent, contacts, review as reviews, services
from .forms import CodeForm, ConnectForm

bp = Blueprint("connections", __name__)


@bp.app_context_processor
def unseen_connections():
    # A function, not a number: base.html calls it only for a signed-in person (one COUNT).
    def count():
        person = current_person()
        return consent.pending_count(person) if person is not None else 0
    return {"unseen_connections": count}


# What a connect says on the page it leads to (?done=...). No name: the page shows who.
DONE = {"connected": "You're connected.", "added": "Added to your connection."}


@bp.get("/b/<token>")
def scan_lowercase(token):
    return redirect(url_for(".scan", token=normalize(token)), 301)


@bp.post("/code")
def typed_code():
    form = CodeForm()
    if form.validate_on_submit():
        try:
            person = people.badge_owner(form.token)
        except DomainError as error:
            form.code.errors.append(coded(error.code, error.message))
        else:
            return redirect(url_for(".scan", token=person.badge_token))
    return render_template("home.html", code_form=form), 400


@bp.route("/B/<token>", methods=["GET", "POST"])
def scan(token):
    person = people.badge_owner(token)
    if token != person.badge_token:
        return redirect(url_for(".scan", token=person.badge_token))
    viewer = current_person()
    if viewer is None:
        return render_template("connections/public_card.html", person=person,
                               event=events.open_event_or_none(person.id))
    if viewer.id == person.id:
        return render_template("connections/own_badge.html", person=person)

    form = ConnectForm()
    problem = tonight = None
    known = False  # whether `connection` below was read already (where_to_connect reads it)
    if form.validate_on_submit():
        try:
            done = services.connect_scan(viewer, token, talked_about=form.talked_about.data,
                                         private_note=form.private_note.data, client_id=form.client_id.data,
                                         owner=person)
        except DomainError as error:
            if error.code == "too_long":  # the words don't fit: keep them in the form to shorten
                form.form_errors.append(coded(error.code, error.message))
            else:  # no connecting here now (event closed, not checked in): say why instead of the form
                problem = coded(error.code, error.message)
        else:
            # The message rides on the redirect, not in the stored session (a flash is a second
            # write after the connect's, and a connect must be one short write). The page shows it
            # only while they really are connected (DONE): a link that says so proves nothing.
            return redirect(url_for(".scan", token=person.badge_token, done="connected" if done.created else "added"))
    else:
        try:
            tonight, connection = services.where_to_connect(viewer, person)
            known = True
        except DomainError as error:
            problem = coded(error.code, error.message)
    if not form.client_id.data:
        form.client_id.data = uuid.uuid4().hex

    if not known:
        connection = services.connection_between(viewer.id, person.id)
    mine, theirs = consent.sides(connection, viewer.id) if connection else (None, None)
    listed = mine is not None and mine.removed_at is None  # one they removed is off their list, here too
    return render_template(
        "connections/scan.html", person=person, form=form, problem=problem,
        connection=connection if listed else None, reportable=connection,
        state=consent.state(connection, theirs) if listed else None,
        # Memory across events: every earlier encounter (event, date, its own line) above the form.
        encounters=services.encounters_of(connection) if listed else [], tonight=tonight,
        contacts=contacts.visible_contacts(viewer, person, connected=connection is not None),
        # The connect's message (base.html's status box), only while it is true: see above.
        notice=DONE.get(request.args.get("done")) if listed and request.method == "GET" else None)


@bp.get("/connections/review")
@person_required
def review():
    return render_template("connections/review.html", entries=reviews.unseen(current_person()))


def _back():
    """Where a consent button returns to: the page it was on (the review page by default)."""
    return safe_next(request.form.get("next"), within="/", default=url_for(".review"))


@bp.post("/connections/<public_id>/keep")
@person_required
def keep(public_id):
    consent.keep(current_person(), public_id)
    flash("Kept. You're connected.", "success")
    return redirect(_back())


@bp.post("/connections/<public_id>/confirm")
@person_required
def confirm(public_id):
    consent.confirm(current_person(), public_id)
    flash("Confirmed. They can now see the contact details you share.", "success")
    return redirect(_back())


@bp.post("/connections/<public_id>/remove")
@person_required
def remove(public_id):
    consent.remove(current_person(), public_id)
    flash("Removed. They're off your list, and neither of you sees the other's contact details.", "success")
    return redirect(_back())


@bp.post("/connections/<public_id>/block")
@person_required
def block(public_id):
    consent.block(current_person(), public_id)
    flash("Blocked. They're off your list and can't connect with you again. They are not told.", "success")
    return redirect(_back())
