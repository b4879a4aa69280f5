"""Who is asking the API: a personal token (`Authorization: Bearer km_…`) or the session cookie.

A request with a bearer token is that token's person and no one else: the session cookie is
not asked who it is, and no CSRF token is needed, since a browser never adds that header to a
forged request by itself. Without one, the session decides, as on the pages, and a state change
must carry the session's CSRF token in the `X-CSRFToken` header: the blueprint is exempt from
CSRFProtect's form check (a bearer request has no token to show) and checks here instead.

Tokens open /api/v1 only, never the pages. The rate limits, which run before any blueprint
code, count a token's person too: `load_person` is registered with auth.add_person_loader.
"""
from flask import current_app, g, request

from ..auth import add_person_loader, current_person
from ..errors import DomainError
from ..extensions import csrf
from . import tokens

BLUEPRINT = "api"
MAX_BODY = 64 * 1024  # a scan or an edit is a few kilobytes; more is a mistake or an attack
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def init_app(app):
    add_person_loader(app, load_person)


def bearer():
    """The bearer secret sent with an API request: None when there is no Authorization header,
    "" when it is some other scheme (which proves no one)."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, secret = header.strip().partition(" ")
    return secret.strip() if scheme.lower() == "bearer" else ""


def load_person():
    if request.blueprint != BLUEPRINT:
        return None
    secret = bearer()
    if secret is None:
        return None
    if "api_token" not in g:
        g.api_token = tokens.authenticate(secret)
    return g.api_token[1] if g.api_token else False


def check_request():
    """The blueprint's before_request: the body limit, then the credential."""
    request.max_content_length = MAX_BODY  # read lazily: a larger body is refused as it is read (413)
    if bearer() is not None:
        if current_person() is None:
            raise DomainError("That API token isn't valid: it was revoked, or its person signed out everywhere.",
                              "bad_token", status=401)
        tokens.touch(g.api_token[0])
    elif request.method in STATE_CHANGING and current_app.config.get("WTF_CSRF_ENABLED", True):
        csrf.protect()  # the session's token, from the X-CSRFToken header (or a form field)
