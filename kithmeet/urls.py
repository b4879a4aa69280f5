"""Absolute links people copy, print or scan: the one place that builds them.

They are built on PUBLIC_URL when it is set, else on the host the current request came
in on. Outside a request (a CLI command, a mail worker) there is no host to guess, so
PUBLIC_URL is needed, or a base the caller names, such as the CLI's local server.
"""
import os

from flask import current_app, has_request_context, request


class PublicURLRequired(RuntimeError):
    """An absolute link was asked for outside a request, and no PUBLIC_URL was set."""


def public_base(fallback=None):
    """`scheme://host` links start with, without a trailing slash."""
    public = current_app.config.get("PUBLIC_URL")
    if public:
        return public
    if has_request_context():
        return request.host_url.rstrip("/")
    if fallback:
        return fallback.rstrip("/")
    raise PublicURLRequired(
        "PUBLIC_URL (KITHMEET_PUBLIC_URL) must be set to build links outside a request, "
        "e.g. https://meet.example.org")


def local_base():
    """What `make run` serves (`http://$HOST:$PORT`): the base for links made outside a
    request when PUBLIC_URL is unset (CLI commands, a digest queued by one), since this
    machine is where whoever runs them will look."""
    host = os.environ.get("HOST", "127.0.0.1")
    if host in ("0.0.0.0", "::", ""):  # listening everywhere: this machine answers on loopback
        host = "127.0.0.1"
    return "http://{}:{}".format(f"[{host}]" if ":" in host else host, os.environ.get("PORT", "5000"))


def url_path(endpoint, **values):
    """The path for `endpoint` from the app's URL map, with no request needed.

    Flask's url_for wants SERVER_NAME outside a request; the path alone needs no host, so
    bind the map ourselves. Script name "/": kithmeet is served at the root (PUBLIC_URL
    keeps no path, see config.finalize), so a request's script root never differs.
    """
    current_app.inject_url_defaults(endpoint, values)
    return current_app.url_map.bind("localhost", script_name="/").build(endpoint, values)


def external_url(endpoint, _fallback=None, **values):
    """An absolute link to `endpoint`; `_fallback` is the base used outside a request
    when PUBLIC_URL is unset (instead of raising PublicURLRequired)."""
    return public_base(_fallback) + url_path(endpoint, **values)
