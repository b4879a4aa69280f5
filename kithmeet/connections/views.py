"""The scan landing: what a phone camera opens when it reads a badge."""
import uuid

from flask import Blueprint, flash, redirect, render_template, url_for

from ..auth import current_person
from ..errors import DomainError
from ..events import services as events
from ..formtools import coded
from ..people import services as people
from ..tokens import normalize
from . import contacts, services
from .forms import CodeForm, ConnectForm

bp = Blueprint("connections", __name__)


@bp.get("/b/<token>")
def scan_lowercase(token):
    return redirect(url_for(".scan", token=normalize(token)), 301)


@bp.post("/code")
def typed_code():
    form = CodeForm()
    if form.validate_on_submit():
        try:
            person = people.person_by_badge(form.token)
        except DomainError as error:
            form.code.errors.append(coded(error.code, error.message))
        else:
            return redirect(url_for(".scan", token=person.badge_token))
    return render_template("home.html", code_form=form), 400


@bp.route("/B/<token>", methods=["GET", "POST"])
def scan(token):
    person = people.person_by_badge(token)
    if token != person.badge_token:
        return redirect(url_for(".scan", token=person.badge_token))
    viewer = current_person()
    if viewer is None:
        return render_template("connections/public_card.html", person=person,
                               event=events.open_event_or_none(person.id))
    if viewer.id == person.id:
        return render_template("connections/own_badge.html", person=person)

    form = ConnectForm()
    problem = None
    if form.validate_on_submit():
        try:
            _, created = services.connect(viewer, token, talked_about=form.talked_about.data,
                                          private_note=form.private_note.data, client_id=form.client_id.data)
        except DomainError as error:
            if error.code == "too_long":  # the words don't fit: keep them in the form to shorten
                form.form_errors.append(coded(error.code, error.message))
            else:  # no connecting here now (event closed, not checked in): say why instead of the form
                problem = coded(error.code, error.message)
        else:
            flash(f"You're connected with {person.name}." if created
                  else f"Added to your connection with {person.name}.", "success")
            return redirect(url_for(".scan", token=person.badge_token))
    else:
        try:
            events.require_open_event(viewer.id)
        except DomainError as error:
            problem = coded(error.code, error.message)
    if not form.client_id.data:
        form.client_id.data = uuid.uuid4().hex

    connection = services.connection_between(viewer.id, person.id)
    return render_template(
        "connections/scan.html", person=person, form=form, problem=problem, connection=connection,
        encounters=services.encounters_of(connection) if connection else [],
        contacts=contacts.visible_contacts(viewer, person))
