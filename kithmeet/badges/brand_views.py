"""An event's logo and accent stylesheet: public, like the join poster and badges they brand."""
import re

from flask import Response, abort

from ..events import branding
from .views import bp

HEX = re.compile(r"^[0-9a-f]{6}$")


@bp.get("/logo/<public_id>.png")
def event_logo(public_id):
    logo = branding.logo_by_public_id(public_id)
    if logo is None:
        abort(404)
    response = Response(logo.data, mimetype="image/png")
    # A new upload gets a new public_id, so these bytes never change under their URL.
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@bp.get("/brand/<color>.css")
def brand_css(color):
    """The accent as custom properties (app.css's "Event branding" section uses them): one
    stylesheet per colour, so it holds nothing about any event and every page may cache it."""
    if not HEX.match(color):
        abort(404)
    accent = "#" + color
    body = f":root {{ --accent: {accent}; --on-accent: {branding.text_on(accent)}; }}\n"
    response = Response(body, mimetype="text/css")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
