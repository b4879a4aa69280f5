"""GET /api/v1/news: the check a person's open home and badge pages make every few seconds
(static/js/news.js) to say "Björn connected with you" within five seconds.

The page sends its signed token (news.token_for) in X-Kithmeet-News; such a request gets no
session at all (sessions.skip_loading: not read, not written, no cookie), so the whole check
is the one statement in news.check. Without the header the session signs the person in, as
on every page, at the cost of reading it. The answer is personal: no-store, and an ETag the
page sends back in If-None-Match, answered 304 with no body while nothing changed.

No rate limit counts it (ratelimits.LIMITS has no entry): it is polled by design, and a count
in the default database storage would cost a statement of its own on every check.
"""
from flask import Blueprint, current_app, jsonify, make_response, request, url_for

from .. import sessions
from ..auth import current_person
from ..errors import DomainError
from . import news

bp = Blueprint("news", __name__)

PATH = "/api/v1/news"
HEADER = "X-Kithmeet-News"


@bp.record_once
def _without_session(state):
    sessions.skip_loading(state.app, PATH, HEADER)


@bp.app_context_processor
def news_page():
    # A function, not values: only the home and badge pages call it, for a signed-in person.
    def settings():
        person = current_person()
        return {"url": url_for("news.check"), "token": news.token_for(person),
                "every": current_app.config["NEWS_POLL_SECONDS"]} if person is not None else None
    return {"news_settings": settings}


@bp.get(PATH)
def check():
    token = request.headers.get(HEADER)
    if token is not None:
        found = news.check(token)
    else:
        person = current_person()
        if person is None:
            raise DomainError("Sign in to see that.", "sign_in_required", status=401)
        found = news.news_of(person)
    etag = found.etag
    if request.if_none_match.contains(etag):
        response = make_response("", 304)
    else:
        response = jsonify(count=found.count, latest=None if found.connection is None else {
            "name": found.name, "connection": found.connection,
            "url": url_for("followup.connection", public_id=found.connection)})
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-store"
    return response
