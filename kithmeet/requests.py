"""The app's request class: a body sent as JSON that doesn't parse is the client's mistake.

Installed as app.request_class, so every view that calls request.get_json() answers a broken
body (bad syntax, or bytes that aren't UTF-8) with a 400 `bad_json` instead of each view
catching it, and the errors module renders it as a page or as JSON like any DomainError.
"""
from urllib.parse import parse_qsl

from flask import Request as FlaskRequest
from flask import abort, request

from .errors import DomainError


class Request(FlaskRequest):
    def _load_form_data(self):
        # Keep a form post's raw bytes (bodies are small: MAX_CONTENT_LENGTH) so a field sent
        # as bytes that aren't UTF-8 can be told apart from one that says "%FF" on purpose:
        # werkzeug keeps such bytes as percent-escapes in the decoded value.
        if self.mimetype == "application/x-www-form-urlencoded":
            self.get_data(cache=True, parse_form_data=False)
        super()._load_form_data()

    def undecodable_fields(self):
        """Names of the form fields whose bytes were not valid UTF-8."""
        raw = getattr(self, "_cached_data", None)
        if not raw or self.mimetype != "application/x-www-form-urlencoded":
            return set()
        bad = set()
        for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True, encoding="latin-1"):
            try:
                value.encode("latin-1").decode("utf-8")
            except UnicodeDecodeError:
                bad.add(name)
        return bad

    def on_json_loading_failed(self, e):
        if e is None:
            # Not sent as JSON at all: werkzeug's 415 Unsupported Media Type is the right answer.
            return super().on_json_loading_failed(e)
        # The parser's text stays out of the message: it can echo parts of the body back.
        raise DomainError("The request body is not valid JSON.", "bad_json") from e


def refuse_nul():
    """No address of ours holds a NUL character, and PostgreSQL refuses one in any text it is
    asked to compare (SQLite only finds nothing): a path with one names nothing (404), before any
    view looks a part of it up. Forms and queries check their own fields (formtools: a message
    beside the field)."""
    if "\x00" in request.path:
        abort(404)
