"""The domain error, and how every error is answered: a page for people, JSON for programs.

Each error's code is decided once (a DomainError carries its own; HTTP errors use HTTP_ERRORS)
and `_answer` renders it either way, so a code means the same on a page and under /api/.
"""
import logging
import sqlite3
import sys

from flask import jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError

logger = logging.getLogger("kithmeet.errors")


class DomainError(Exception):
    """A rule of the product was broken; `code` is stable, `message` is for people."""

    def __init__(self, message, code, status=400):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


class NotFound(DomainError):
    def __init__(self, message="We couldn't find that.", code="not_found"):
        super().__init__(message, code, status=404)


# status: (JSON code, page title, message). Pages keep str(status) as their data-code, as before.
HTTP_ERRORS = {
    400: ("bad_request", "Bad request", "That request didn't make sense to us."),
    403: ("forbidden", "Not allowed", "You don't have access to that page."),
    401: ("sign_in_required", "Sign in first", "Sign in to see that."),
    404: ("not_found", "Not found", "There's nothing at this address."),
    405: ("method_not_allowed", "Not allowed", "That page can't be used that way."),
    413: ("too_large", "Too large", "That was more text than we accept. Shorten it and try again."),
    429: ("rate_limited", "Slow down", "Too many tries in a short time. Wait a minute and try again."),
    500: ("server_error", "Something broke", "Something went wrong on our side. Try again in a moment."),
}
UNTRUSTED_HOST = ("This server does not answer to that address. Whoever runs it lists its addresses in "
                  "KITHMEET_PUBLIC_URL or KITHMEET_TRUSTED_HOSTS.")
CSRF_MESSAGE = "This form had expired or came from another page. Go back, reload it and submit again."
# The database is down, restarting or out of connections: what SQLAlchemy raises then. Any
# statement may meet it (the session's, the CSRF token's, a view's), so it is answered once here.
# Not every error of these types is that: `database_away` tells.
DATABASE_AWAY = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError, sa_exc.TimeoutError)
# SQLite's words for a file it cannot open now, or a write lock held past the busy timeout.
SQLITE_AWAY = ("database is locked", "unable to open database file")
UNAVAILABLE = "kithmeet can't reach its database just now. Try again in a few seconds."
RETRY_AFTER = "5"  # seconds: a restarting PostgreSQL is back in about that


def wants_json():
    """Everything under /api/, and any client that ranks JSON above HTML.

    HTML is listed first so a tie goes to the page: a browser names text/html and reaches
    JSON only through */*, while fetch/axios clients name application/json explicitly.
    """
    if request.path == "/api" or request.path.startswith("/api/"):
        return True
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def _answer(status, code, message, *, title, page_code=None, headers=()):
    if wants_json():
        response = jsonify(error={"code": code, "message": message})
    else:
        response = make_response(render_template("error.html", title=title, message=message,
                                                 code=page_code or code))
    response.status_code = status
    response.headers.extend(headers)
    return response


def _protocol_headers(error):
    """Allow on a 405, Retry-After on a 429: what werkzeug or Flask-Limiter put on the error's own
    response. Its body headers are dropped, since ours replaces the body."""
    return [(name, value) for name, value in error.get_response(request.environ).headers
            if name.lower() not in ("content-type", "content-length")]


def database_away(error):
    """Whether `error` (or, for the 500 Flask makes of an error raised outside a view, such as
    while loading the session, the error inside it) is the database being out of reach, which
    trying again in a few seconds may cure: a 503. A missing table, a deadlock or a statement
    timeout is an OperationalError too, but a fault of ours, and stays a logged 500."""
    if isinstance(error, InternalServerError):
        error = error.original_exception
    if isinstance(error, (sa_exc.InterfaceError, sa_exc.DisconnectionError, sa_exc.TimeoutError)):
        return True  # the driver's connection is unusable, or the pool has none to give
    if not isinstance(error, sa_exc.OperationalError):
        return False
    if error.connection_invalidated:  # SQLAlchemy saw the connection break under the statement
        return True
    original = error.orig
    if isinstance(original, sqlite3.OperationalError):
        return str(original) in SQLITE_AWAY
    psycopg = sys.modules.get("psycopg")  # loaded if it raised this: an optional dependency
    if psycopg is not None and isinstance(original, psycopg.OperationalError):
        # No SQLSTATE: libpq's own failure to connect or to keep the connection. Class 08: a
        # connection exception. 57P01-57P03: the server shutting down, crashed, or starting up.
        state = original.sqlstate
        return state is None or state.startswith("08") or state in ("57P01", "57P02", "57P03")
    return False


def _unavailable(error):
    """503 `database_unavailable`, built without the database: no template (its context
    processors ask who is signed in), no session. The log line gives the driver's words and the
    statement's start, never its parameters."""
    original = error.original_exception if isinstance(error, InternalServerError) else error
    reason = str(getattr(original, "orig", None) or type(original).__name__).strip().splitlines()
    statement = " ".join(str(getattr(original, "statement", None) or "").split())[:120]  # no parameters
    logger.warning("database unavailable (%s): %s; in %s", type(original).__name__, reason[0] if reason else "",
                   statement or "connecting")
    headers = {"Retry-After": RETRY_AFTER, "Cache-Control": "no-store"}
    if wants_json():
        return jsonify(error={"code": "database_unavailable", "message": UNAVAILABLE}), 503, headers
    return (f'<!doctype html><html lang="en"><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>Try again in a moment</title><h1>Try again in a moment</h1>'
            f'<p data-code="database_unavailable">{UNAVAILABLE}</p></html>', 503,
            {**headers, "Content-Type": "text/html; charset=utf-8"})


def _unavailable_or_fault(error):
    if not database_away(error):
        # Raised on as if unhandled: Flask logs it with its traceback and answers the 500 below.
        raise error
    return _unavailable(error)


def init_app(app):
    for error_type in DATABASE_AWAY:
        app.register_error_handler(error_type, _unavailable_or_fault)

    @app.errorhandler(DomainError)
    def domain_error(error):
        return _answer(error.status, error.code, error.message, title="Something's not right")

    @app.errorhandler(SecurityError)
    def untrusted_host(_error):
        # A Host header not in TRUSTED_HOSTS: no URL can be built for it, so no page template
        # (they all link to themselves); a fixed page names nothing from the request.
        if wants_json():
            return jsonify(error={"code": "untrusted_host", "message": UNTRUSTED_HOST}), 400
        return (f'<!doctype html><html lang="en"><meta charset="utf-8"><title>Unknown address</title>'
                f'<p data-code="untrusted_host">{UNTRUSTED_HOST}</p></html>', 400,
                {"Content-Type": "text/html; charset=utf-8"})

    @app.errorhandler(CSRFError)
    def csrf_error(_error):
        return _answer(400, "csrf", CSRF_MESSAGE, title="Please try again")

    def http_handler(status, code, title, message):
        # Also the 500 for unhandled exceptions (Flask wraps them in InternalServerError): the
        # fixed message never carries the exception's text; Flask has already logged it.
        def handler(error):
            if database_away(error):  # raised outside a view (session, CSRF): Flask made it a 500
                return _unavailable(error)
            return _answer(status, code, message, title=title, page_code=str(status),
                           headers=_protocol_headers(error))
        return handler

    for status, (code, title, message) in HTTP_ERRORS.items():
        app.register_error_handler(status, http_handler(status, code, title, message))

    @app.errorhandler(HTTPException)
    def other_http_error(error):
        # Statuses without a page of ours (a 415 from get_json, say): people keep werkzeug's
        # page, programs still get the JSON shape.
        if not wants_json():
            return error
        code = error.name.lower().replace(" ", "_").replace("'", "")
        return _answer(error.code, code, error.description, title=error.name,
                       headers=_protocol_headers(error))
