"""Rate limits on scanning, joining and signing in.

Checked in a before_request hook registered ahead of CSRFProtect, so a flood of forged
or stale posts is counted too (a decorated limit would only run after the CSRF check).
Storage comes from RATELIMIT_STORAGE_URI: memory:// counts per worker process; point it
at Redis or memcached to share the count between gunicorn workers.
"""
from flask import abort, current_app, request
from flask_limiter.util import get_remote_address
from limits import parse

from .extensions import limiter

# endpoint: (bucket, config key of the limit, methods it applies to; None for all)
LIMITS = {
    "connections.scan": ("scan", "RATELIMIT_SCAN", None),
    "connections.typed_code": ("scan", "RATELIMIT_SCAN", None),
    "people.join": ("join", "RATELIMIT_JOIN", {"POST"}),
    "people.signin": ("signin", "RATELIMIT_SIGNIN", None),
    "organizer.login": ("signin", "RATELIMIT_SIGNIN", {"POST"}),
    "organizer.setup": ("signin", "RATELIMIT_SIGNIN", {"POST"}),
}


def init_app(app):
    app.before_request(check)


def check():
    entry = LIMITS.get(request.endpoint)
    if entry is None or not limiter.enabled:
        return
    bucket, config_key, methods = entry
    if methods is not None and request.method not in methods:
        return
    item = parse(current_app.config[config_key])
    if not limiter.limiter.hit(item, "kithmeet", bucket, get_remote_address()):
        abort(429)
