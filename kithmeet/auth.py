"""Who is signed in: attendees (no password, long-lived) and organizers (password, hours).

Both live in Flask's signed session cookie, side by side, so an organizer can also
attend. An attendee's sign-in carries the sign-in generation it was made with.
"""
import time
from functools import wraps

from flask import abort, current_app, flash, g, redirect, request, session, url_for

from .errors import wants_json
from .extensions import db


def init_app(app):
    @app.context_processor
    def inject_identities():
        return {"current_person": current_person(), "current_organizer": current_organizer()}


def sign_in_person(person):
    session.permanent = True
    session["person"] = [person.id, person.session_generation]
    g.pop("current_person", None)


def sign_out_person():
    session.pop("person", None)
    session.pop("join_nonce", None)
    g.pop("current_person", None)


def current_person():
    if "current_person" not in g:
        from .people.models import Person

        person = None
        value = session.get("person")
        if isinstance(value, list) and len(value) == 2:
            person_id, generation = value
            person = db.session.get(Person, person_id)
            if person is not None and person.session_generation != generation:
                person = None  # signed out everywhere since this device signed in
        g.current_person = person
    return g.current_person


def sign_in_organizer(organizer):
    session.permanent = True
    session["organizer"] = [organizer.id, int(time.time())]
    g.pop("current_organizer", None)


def sign_out_organizer():
    session.pop("organizer", None)
    g.pop("current_organizer", None)


def current_organizer():
    if "current_organizer" not in g:
        from .organizer.models import Organizer

        organizer = None
        value = session.get("organizer")
        if isinstance(value, list) and len(value) == 2:
            organizer_id, signed_in_at = value
            max_age = current_app.config["ORGANIZER_SESSION_HOURS"] * 3600
            if time.time() - signed_in_at <= max_age:
                organizer = db.session.get(Organizer, organizer_id)
        g.current_organizer = organizer
    return g.current_organizer


def person_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if current_person() is None:
            if wants_json():  # a script gets the status, not a redirect to a page
                abort(401)
            flash("Join an event first: scan the QR poster at the door.", "info")
            return redirect(url_for("home.index"))
        return view(*args, **kwargs)
    return wrapper


def organizer_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if current_organizer() is None:
            if wants_json():
                abort(401)
            return redirect(url_for("organizer.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)
    return wrapper
