"""Absolute links people copy, print or scan: built on PUBLIC_URL when it is set."""
from flask import current_app, has_request_context, request


def public_base():
    configured = current_app.config.get("PUBLIC_URL")
    if configured:
        return configured
    if has_request_context():
        return request.host_url.rstrip("/")
    return current_app.config.get("LOCAL_URL", "http://127.0.0.1:5000")


def public_link(path):
    return public_base() + path
