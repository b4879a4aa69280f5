"""The app's request class: a body sent as JSON that doesn't parse is the client's mistake.

Installed as app.request_class, so every view that calls request.get_json() answers a broken
body (bad syntax, or bytes that aren't UTF-8) with a 400 `bad_json` instead of each view
catching it, and the errors module renders it as a page or as JSON like any DomainError.
"""
from flask import Request as FlaskRequest

from .errors import DomainError


class Request(FlaskRequest):
    def on_json_loading_failed(self, e):
        if e is None:
            # Not sent as JSON at all: werkzeug's 415 Unsupported Media Type is the right answer.
            return super().on_json_loading_failed(e)
        # The parser's text stays out of the message: it can echo parts of the body back.
        raise DomainError("The request body is not valid JSON.", "bad_json") from e
