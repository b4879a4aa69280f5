"""Badge and join QR images. Public: a badge image carries only its token."""
from flask import Blueprint, Response, abort, request

from ..events import services as events
from ..people import services as people
from ..tokens import normalize
from . import qr

bp = Blueprint("badges", __name__)


def _image(body, mimetype):
    response = Response(body, mimetype=mimetype)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/badge/<token>.svg")
def badge_svg(token):
    person = people.person_by_badge(token)
    return _image(qr.svg(qr.badge_url(person.badge_token), title="Badge QR code"), "image/svg+xml")


@bp.get("/badge/<token>.png")
def badge_png(token):
    person = people.person_by_badge(token)
    scale = request.args.get("scale", default=10, type=int)
    if not 2 <= scale <= 40:
        abort(400)
    return _image(qr.png(qr.badge_url(person.badge_token), scale=scale), "image/png")


@bp.get("/J/<code>.svg")
def join_svg(code):
    event = events.event_by_join_code(normalize(code))
    return _image(qr.svg(qr.join_url(event.join_code), title=f"Join {event.name}"), "image/svg+xml")


from . import brand_views  # noqa: E402,F401 - an event's logo and accent stylesheet register on bp
