"""Response headers every page gets: a strict CSP and friends."""
import ipaddress
import logging
import re
from urllib.parse import unquote

from flask import request, session
from werkzeug.middleware.proxy_fix import ProxyFix

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


# A sign-in (personal, e-mailed or a kiosk hand-off) or password-reset link's secret, or an unsubscribe key (a log
# reader must not turn anyone's mail off), however its path is spelled (percent-encoding included).
# An organizer's invite link (/organizer/invite/) makes its opener a member of a series: masked too.
SECRET_IN_PATH = re.compile(r"(/signin/(?:email/|kiosk/)?|/organizer/reset/|/organizer/invite/|/unsubscribe/)[^/?#\s\]'\"]+",
                            re.IGNORECASE)


def mask_secrets(text):
    """`text` with any sign-in or reset secret or unsubscribe key replaced; encoded paths are decoded
    first to be found."""
    decoded = unquote(text).lower()
    if not any(word in decoded for word in ("signin", "reset", "unsubscribe", "invite")):
        return text
    return SECRET_IN_PATH.sub(r"\1[hidden]", unquote(text))


class SecretFilter(logging.Filter):
    """Masks sign-in secrets in the app's own log lines (Flask names the path of a failed request)."""

    def filter(self, record):
        message = record.getMessage()
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


# Public by design (a badge image carries only its token): caches may keep these.
PUBLIC_ENDPOINTS = {"static", "badges.badge_svg", "badges.badge_png", "badges.join_svg",
                    "badges.event_logo", "badges.brand_css",
                    "offline.manifest", "offline.service_worker"}  # the app's own, the same for everyone


class TrustedProxies:
    """X-Forwarded-For, -Proto and -Host believed only from a request whose peer is one of the
    TRUSTED_PROXIES (config.trusted_proxies), one hop: the proxy appends the address it saw, and
    that last entry is the client. From anyone else they are ignored, so a request sent straight
    to the app server cannot choose its own address (the per-address rate limits) or claim
    HTTPS (which would turn the CSRF check's Referer rule and Secure cookies on or off at will)."""

    def __init__(self, wsgi_app, proxies):
        self.plain = wsgi_app
        self.fixed = ProxyFix(wsgi_app, x_for=1, x_proto=1, x_host=1)
        self.proxies = proxies

    def trusts(self, peer):
        if "*" in self.proxies:
            return True
        try:
            address = ipaddress.ip_address(peer or "")
        except ValueError:
            return False  # a Unix socket's peer has no address: nothing to trust
        # A server listening on [::] sees an IPv4 peer as ::ffff:a.b.c.d: the same peer.
        mapped = getattr(address, "ipv4_mapped", None)
        return any(address in network or (mapped is not None and mapped in network) for network in self.proxies)

    def __call__(self, environ, start_response):
        chosen = self.fixed if self.trusts(environ.get("REMOTE_ADDR")) else self.plain
        return chosen(environ, start_response)


def init_app(app):
    app.logger.addFilter(SecretFilter())
    if app.config.get("TRUSTED_PROXIES"):
        app.wsgi_app = TrustedProxies(app.wsgi_app, app.config["TRUSTED_PROXIES"])

    @app.after_request
    def set_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        # Badge and sign-in URLs carry secrets; never hand them to another site. Our own site gets
        # the referrer: over HTTPS the CSRF check requires a same-origin Referer on every post, and
        # with no-referrer a browser sends none (and an Origin of "null"), refusing every form.
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
        # Anything shown to a signed-in person may carry their data (the follow-up list, a
        # prefilled join form, a connected card): no browser or proxy may keep a copy.
        if request.endpoint not in PUBLIC_ENDPOINTS and ("person" in session or "organizer" in session):
            headers["Cache-Control"] = "no-store"
        if app.config.get("SESSION_COOKIE_SECURE"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
