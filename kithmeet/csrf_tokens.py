"""The CSRF token a page shows, signed once per session and kept by the process.

Flask-WTF signs the session's CSRF secret (itsdangerous: JSON, HMAC, base64) the first time a
request draws a form, or the meta tag of a signed-in page: about 50 µs of every such page,
measured on the scan page. With WTF_CSRF_TIME_LIMIT None (config.py) a token never expires, so
one signed earlier for the same secret is as good as a new one, and checking it is unchanged
(Flask-WTF's, against the session's secret). The signed token is kept here by a digest of the
secret, put in `g` before the view (where Flask-WTF looks before it signs) and kept after the
request that signed it. A sign-in, a sign-out and a new session get a new secret
(auth._fresh_session pops the secret and the token in `g` together), so a token kept for an
ended session is never shown again. Kept in this process's memory only, at most KEPT_AT_MOST.
"""
import hashlib

from flask import current_app, g, session

FIELD = "csrf_token"  # Flask-WTF's key in the session and in g (WTF_CSRF_FIELD_NAME's default)
KEPT_AT_MOST = 20_000  # sessions a worker draws pages for; past it, all are signed afresh
_PREFILLED = "_kithmeet_csrf_prefilled"  # g: the token in g came from here, not signed now


def init_app(app):
    if (app.config.get("WTF_CSRF_TIME_LIMIT") is not None
            or app.config.get("WTF_CSRF_FIELD_NAME", FIELD) != FIELD):
        return  # a token that ages (or a field of another name): signed on each page as Flask-WTF does
    kept = app.extensions["kithmeet_csrf_tokens"] = {}

    @app.before_request
    def reuse_the_signed_token():
        if not getattr(session, "stored", False) or FIELD in g:
            return  # no stored session (a first visit, a static file): nothing was signed for it
        secret = session.get(FIELD)
        if isinstance(secret, str):
            token = kept.get(_key(secret))
            if token is not None:
                setattr(g, FIELD, token)
                setattr(g, _PREFILLED, secret)

    @app.after_request
    def keep_the_signed_token(response):
        token = g.get(FIELD)
        if token is None:
            return response
        secret = session.get(FIELD)
        # Only a token signed in this request for the session's secret as it is now.
        if isinstance(token, str) and isinstance(secret, str) and g.get(_PREFILLED) != secret:
            if len(kept) >= KEPT_AT_MOST:
                kept.clear()
            kept[_key(secret)] = token
        return response


def _key(secret):
    # Of the app's signing key too: a token signed under another key is not this one's.
    return hashlib.blake2b(secret.encode(), key=_signing_key(), digest_size=16).digest()


def _signing_key():
    key = current_app.config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key
    return hashlib.blake2b(key.encode() if isinstance(key, str) else key, digest_size=32).digest()
