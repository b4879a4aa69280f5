"""Who is signed in: attendees (no password, long-lived) and organizers (password, hours).

Both live in one server-side session (kithmeet/sessions.py), side by side, so an organizer
can also attend. Each sign-in carries the sign-in generation it was made with; bumping a
person's or organizer's generation signs out every device at once. Signing in or out gives
the browser a new session id and ends the old one, so a cookie copied before either no
longer signs anyone in, and a session id planted before sign-in is worthless after it.
"""
import time
from functools import cache, wraps

from flask import abort, current_app, flash, g, redirect, request, session, url_for
from sqlalchemy import Integer, bindparam, select

from . import sessions
from .errors import wants_json
from .extensions import db

CSRF_KEY = "csrf_token"  # Flask-WTF's key in the session and in g (WTF_CSRF_FIELD_NAME)


def init_app(app):
    @app.context_processor
    def inject_identities():
        return {"current_person": current_person(), "current_organizer": current_organizer()}


def _fresh_session():
    """A new session id (the old one ends now) and a new CSRF token for the forms drawn next."""
    sessions.regenerate(session)
    session.pop(CSRF_KEY, None)
    g.pop(CSRF_KEY, None)


def _birth(person):
    """When the person was made, to the microsecond: an id may come back (SQLite reuses the
    highest one after a delete), the same id made at the same instant does not."""
    return person.created_at.isoformat()


def sign_in_person(person):
    _fresh_session()
    session.permanent = True
    session["person"] = [person.id, person.session_generation, _birth(person)]
    g.pop("current_person", None)


def sign_out_person():
    session.pop("person", None)
    session.pop("join_nonce", None)
    _fresh_session()
    if "organizer" not in session:
        session.permanent = False
    g.pop("current_person", None)


# Other ways a request may name its person, tried before the session (app.extensions): the
# API's bearer tokens register one (kithmeet/api/auth.py), so the rate limits and everything
# else that asks current_person() count the token's person, without this module importing it.
PERSON_LOADERS = "kithmeet_person_loaders"


def add_person_loader(app, loader):
    """`loader()` returns None when the request carries no credential of its kind (the session
    decides), else the Person it proves, or False for a credential that proves no one (then no
    one is signed in, whatever the session says)."""
    app.extensions.setdefault(PERSON_LOADERS, []).append(loader)


@cache
def _person_statement():
    """current_person's statement, run by nearly every request: built once (on first use, when
    every mapper is configured), about a third cheaper than Session.get building its own."""
    from .people.models import Person

    return select(Person).where(Person.id == bindparam("id", type_=Integer))


def current_person():
    if "current_person" not in g:
        for loader in current_app.extensions.get(PERSON_LOADERS, ()):
            found = loader()
            if found is not None:
                g.current_person = found or None
                return g.current_person
        person = None
        value = session.get("person")
        if isinstance(value, list) and len(value) == 3:
            person_id, generation, birth = value
            person = db.session.scalars(_person_statement(), {"id": person_id}).first()
            if person is not None and person.session_generation != generation:
                person = None  # signed out everywhere since this device signed in
            elif person is not None and _birth(person) != birth:
                person = None  # that person deleted their account; SQLite gave the id to someone new
        g.current_person = person
    return g.current_person


def sign_in_organizer(organizer):
    _fresh_session()
    session.permanent = True
    session["organizer"] = [organizer.id, int(time.time()), organizer.session_generation]
    g.pop("current_organizer", None)


def sign_out_organizer():
    session.pop("organizer", None)
    _fresh_session()
    if "person" not in session:
        session.permanent = False
    g.pop("current_organizer", None)


def current_organizer():
    if "current_organizer" not in g:
        from .organizer.models import Organizer

        organizer = None
        value = session.get("organizer")
        if isinstance(value, list) and len(value) == 3:
            organizer_id, signed_in_at, generation = value
            max_age = current_app.config["ORGANIZER_SESSION_HOURS"] * 3600
            if time.time() - signed_in_at <= max_age:
                organizer = db.session.get(Organizer, organizer_id)
                if organizer is not None and organizer.session_generation != generation:
                    organizer = None  # a password change or reset signed every other device out
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
