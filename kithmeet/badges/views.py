"""Badge and join QR images: a pure function of the code in the path and the site's address.

No code is looked up. The image of a made-up code is a QR of a link that leads nowhere, which
tells nothing anyone could not draw for themselves, so the image needs no lookup, reads no
session and runs no SQL statement (the /B/ and /J/ pages behind the links look codes up, and
limit that). Each image is drawn once per process (qr.image), and is the same for as long as
the site's address is: a strong ETag of its bytes and a year of caching. Drawing one is the
cost (milliseconds): an image not drawn yet in this process counts against the "lookup" limit
of the client's address, so a flood of made-up codes is refused; one already drawn is free.
"""
from flask import Blueprint, Response, abort, request

from .. import ratelimits, sessions
from ..tokens import looks_valid, normalize
from . import qr

bp = Blueprint("badges", __name__)

# The answer never changes for its URL (the site's address is part of the URL's host, or fixed
# by PUBLIC_URL; a site that moves must keep the old address redirecting anyway, for the
# printed badges).
CACHE_CONTROL = "public, max-age=31536000, immutable"
# The paths of the images below: no session is read or written for them (sessions.py).
SESSIONLESS = r"/badge/[^/]+\.(?:svg|png)|/J/[^/]+\.svg"
# The PNG's pixels per module (`?scale=`; 10 without one): the sizes README.md offers, no more,
# so a made-up code has few images to draw (a scale of 40 took 18 ms).
PNG_SCALES = (2, 4, 10, 20)


@bp.record_once
def _skip_the_session(state):
    sessions.skip_loading_paths(state.app, SESSIONLESS)


def _code(text):
    code = normalize(text)
    if not looks_valid(code):
        abort(404)
    return code


def _counted_when_drawn(url, kind, scale=10, title=None):
    if not qr.drawn(url, kind, scale, title):
        # Counted per address, never per person: the session is not read for these paths.
        if not ratelimits.allow("lookup", "RATELIMIT_LOOKUP", ratelimits.requester()):
            abort(429)
    return qr.image(url, kind, scale=scale, title=title)


def _image(image):
    # The one condition a client can hold for these (no Last-Modified, no ranges), checked by
    # hand: werkzeug's make_conditional costs more than the rest of the request.
    headers = {"ETag": f'"{image.etag}"', "Cache-Control": CACHE_CONTROL}
    if request.if_none_match.contains_weak(image.etag):
        return Response(status=304, headers=headers, mimetype=image.mimetype)
    return Response(image.body, mimetype=image.mimetype, headers=headers)


@bp.get("/badge/<token>.svg")
def badge_svg(token):
    return _image(_counted_when_drawn(qr.badge_url(_code(token)), "svg", title="Badge QR code"))


@bp.get("/badge/<token>.png")
def badge_png(token):
    url = qr.badge_url(_code(token))
    scale = request.args.get("scale", default=10, type=int)
    if scale not in PNG_SCALES:
        abort(400)
    return _image(_counted_when_drawn(url, "png", scale=scale))


@bp.get("/J/<code>.svg")
def join_svg(code):
    # Titled without the event's name: that would need the lookup, and outlive a rename in caches.
    return _image(_counted_when_drawn(qr.join_url(_code(code)), "svg", title="Join QR code"))


from . import brand_views  # noqa: E402,F401 - an event's logo and accent stylesheet register on bp
