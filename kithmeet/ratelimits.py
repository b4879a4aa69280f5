"""Rate limits on scanning, joining and signing in.

A meetup's attendees often share one public address (the venue's Wi-Fi), so what a
signed-in attendee does is counted per person, and only what strangers do per address.
Checked in a before_request hook registered ahead of CSRFProtect, so a flood of forged
or stale posts is counted too (a decorated limit would only run after the CSRF check).
Storage comes from RATELIMIT_STORAGE_URI, each shared by every gunicorn worker: by default on
SQLite `kithmeet+file://`, a file in the instance folder (ratelimit_file.py), on PostgreSQL
`kithmeet+db://`, the app's own database (ratelimit_storage.py); `redis://host:port` for a site
that runs Redis (several machines); `memory://` counts per worker process (the tests use it).
"""
import secrets

from flask import abort, current_app, request, session
from flask_limiter.util import get_remote_address
from limits import parse

from . import ratelimit_file, ratelimit_storage  # noqa: F401 - register kithmeet+file:// and kithmeet+db:// before the limiter starts
from .auth import current_person
from .extensions import limiter

# endpoint: the limits it counts against, each (bucket, config key of the limit, methods it
# applies to, counted per "person" or "address"). HEAD counts as GET.
LIMITS = {
    "connections.scan": [("scan", "RATELIMIT_SCAN", {"POST"}, "person"),
                         # Looking badges up (a stranger trying codes): counted apart from connecting.
                         ("lookup", "RATELIMIT_LOOKUP", {"GET"}, "person")],
    "connections.typed_code": [("scan", "RATELIMIT_SCAN", {"POST"}, "person")],
    # The API's scans and undos count as the scan page's do (a bearer token's person, per person).
    "api.create_scan": [("scan", "RATELIMIT_SCAN", {"POST"}, "person")],
    # Undo is not a scan: a person at the scan limit must still take back a wrong one. Counted with
    # lookups, so it is no way to try client ids either.
    "api.undo_scan": [("lookup", "RATELIMIT_LOOKUP", {"POST"}, "person")],
    # Badge and join QR images are not here: they look no code up, so they tell nothing, and one
    # already drawn costs nothing. badges/views.py counts only those it must draw, in "lookup"
    # per address, through `allow`.
    "people.join": [("join", "RATELIMIT_JOIN", {"POST"}, "address")],
    "people.signin": [("signin", "RATELIMIT_SIGNIN", {"GET", "POST"}, "address")],
    "organizer.login": [("organizer", "RATELIMIT_ORGANIZER_SIGNIN", {"POST"}, "address")],
    "organizer.setup": [("organizer", "RATELIMIT_ORGANIZER_SIGNIN", {"POST"}, "address")],
    # Two-factor codes and reset links are guessed like passwords: the same budget.
    "organizer.login_code": [("organizer", "RATELIMIT_ORGANIZER_SIGNIN", {"POST"}, "address")],
    "organizer.reset_password": [("organizer", "RATELIMIT_ORGANIZER_SIGNIN", {"POST"}, "address")],
    # Reports reach the organizers' inbox: one person cannot flood it.
    "reports.new": [("report", "RATELIMIT_REPORT", {"POST"}, "person")],
    # Saving a sign-in email says whether another profile holds it: not a way to test many.
    "people.edit_profile": [("profile", "RATELIMIT_PROFILE", {"POST"}, "person")],
    # "I've been here before": each request may send a mail. Per e-mail address too (per
    # address and requester, and per address in all), counted by people/email_signin.py
    # through `allow` below (a 429 there would say the address is real).
    "people.signin_by_email": [("email_signin", "RATELIMIT_EMAIL_SIGNIN", {"POST"}, "address")],
    # "Is this you?" on an unclaimed imported guest's badge sends the same mail: the same budget.
    "guests.claim_link": [("email_signin", "RATELIMIT_EMAIL_SIGNIN", {"POST"}, "address")],
    # An e-mailed link's token is guessed like a personal link's secret: the same budget.
    "people.email_link": [("signin", "RATELIMIT_SIGNIN", {"GET", "POST"}, "address")],
    # The door kiosk's name search must not become a way to list the attendees; its hand-off
    # link's secret is guessed like a sign-in link's.
    "kiosk.registered": [("kiosk_search", "RATELIMIT_KIOSK_SEARCH", {"POST"}, "address")],
    "kiosk.signin": [("signin", "RATELIMIT_SIGNIN", {"GET", "POST"}, "address")],
}


def init_app(app):
    app.before_request(check)


def _who(per):
    if per == "person":
        person = current_person()
        if person is not None:
            return f"person:{person.id}"
    return f"address:{get_remote_address()}"


def requester():
    """The requester as the per-"address" limits count it, for a service that counts by
    something and the requester together (people/email_signin.py)."""
    return _who("address")


BROWSER_KEY = "ratelimit_browser"


def browser():
    """This browser, for a limit that must not lump everyone behind a venue's one address
    together: a random key kept in its session. A browser that drops its cookie starts afresh,
    so such a limit comes with a higher cap per address too (events/join_policy.py)."""
    key = session.get(BROWSER_KEY)
    if key is None:
        key = session[BROWSER_KEY] = secrets.token_urlsafe(16)
    return f"browser:{key}"


def check():
    if not limiter.enabled:
        return
    method = "GET" if request.method == "HEAD" else request.method  # HEAD answers what GET does
    for bucket, config_key, methods, per in LIMITS.get(request.endpoint, ()):
        if method in methods and not _hit(parse(current_app.config[config_key]), bucket, _who(per)):
            abort(429)


def allow(bucket, config_key, key):
    """Count one try against a limit keyed by something other than the requester (an HMAC of
    an e-mail address) in the configured storage, so every worker counts together; False once
    over. A service calls it to act on the answer itself instead of refusing with a 429."""
    if not limiter.enabled:
        return True
    return _hit(parse(current_app.config[config_key]), bucket, key)


def within(bucket, config_key, key):
    """Whether `key` is still under a limit, without counting: for a service that counts only
    the tries that failed (`allow` then counts one)."""
    if not limiter.enabled:
        return True
    try:
        return limiter.limiter.test(parse(current_app.config[config_key]), "kithmeet", bucket, key)
    except Exception:  # noqa: BLE001 - as in _hit: a broken limiter lets the request through
        current_app.logger.warning("rate limit storage unavailable; %s not tested", bucket, exc_info=True)
        return True


def _hit(limit, bucket, who):
    """Count one request. When the count's storage fails (Redis down, a database not yet
    migrated), the request goes through and the failure is logged: a broken limiter must
    not take the whole site down during an event."""
    try:
        return limiter.limiter.hit(limit, "kithmeet", bucket, who)
    except Exception:  # noqa: BLE001 - any storage's own error types
        current_app.logger.warning("rate limit storage unavailable; %s not counted", bucket, exc_info=True)
        return True
