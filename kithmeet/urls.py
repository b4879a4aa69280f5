"""Absolute links people copy, print or scan: built on PUBLIC_URL when it is set."""
from flask import current_app, request


def public_base():
    return current_app.config.get("PUBLIC_URL") or request.host_url.rstrip("/")


def public_link(path):
    return public_base() + path
