"""Badge and join QR images answered again without Flask.

An image's answer is a pure function of its request line and the address the site is reached at
(badges/views.py): the same bytes and headers every time. Once Flask has answered a plain GET of
one with a 200, this layer keeps that answer (status, headers, bytes) and gives it to the next
plain GET of the same URL on the same scheme and host, before Flask builds a request, runs its
hooks or routes. That is what makes a badge as cheap to serve as a bare route: phones and
printers ask for the same few hundred badges all evening.

Only what Flask answered is kept, so every rule it applies still applies to the first request:
the rate limit on drawing, the 404 of a malformed code, the 400 of an unoffered scale, the
security headers. An answer that sets a cookie, any status but 200, HEAD, a conditional GET
(If-None-Match: Flask answers 304) and a query other than a PNG's scale always go to Flask.
Installed inside TrustedProxies (security.py), so the scheme and host in the key are those the
app itself used for the link in the code. Bounded like qr's image cache, least recently used out first.
"""
import re
import threading
import weakref
from collections import OrderedDict

from . import qr
from .views import SESSIONLESS

_PATHS = re.compile(SESSIONLESS)
# The only query an image reads is a PNG's scale: any other would only push real badges out.
_QUERIES = re.compile(r"(?:scale=\d{1,2})?")
_layers = weakref.WeakSet()  # every layer made in this process, for forget()


class KeptImages:
    def __init__(self, wsgi_app, size=None):
        self.app = wsgi_app
        self.size = size or qr.IMAGES
        self.kept = OrderedDict()  # key -> (status, headers, body)
        self.lock = threading.Lock()
        _layers.add(self)

    @staticmethod
    def key(environ):
        """What the answer depends on: the URL as the app saw it (public_base: scheme and host)."""
        if environ.get("REQUEST_METHOD") != "GET" or "HTTP_IF_NONE_MATCH" in environ:
            return None
        path, query = environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", "")
        if not _PATHS.fullmatch(path) or not _QUERIES.fullmatch(query):
            return None
        host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME')}:{environ.get('SERVER_PORT')}"
        return environ.get("wsgi.url_scheme"), host, environ.get("SCRIPT_NAME", ""), path, query

    def __call__(self, environ, start_response):
        key = self.key(environ)
        if key is None:
            return self.app(environ, start_response)
        with self.lock:
            kept = self.kept.get(key)
            if kept is not None:
                self.kept.move_to_end(key)
        if kept is not None:
            status, headers, body = kept
            start_response(status, list(headers))
            return [body]
        answered = {}

        def keep_status(status, headers, exc_info=None):
            answered["status"], answered["headers"] = status, headers
            return start_response(status, headers, exc_info)

        response = self.app(environ, keep_status)
        status, headers = answered.get("status", ""), answered.get("headers", ())
        if not status.startswith("200 ") or any(name.lower() == "set-cookie" for name, _ in headers):
            return response
        try:
            body = b"".join(response)
        finally:
            if hasattr(response, "close"):
                response.close()  # Flask's request ends here
        with self.lock:
            self.kept[key] = (status, tuple(headers), body)
            while len(self.kept) > self.size:
                self.kept.popitem(last=False)
        return [body]


def install(app):
    """Put the layer in front of the Flask app: before security.init_app wraps it in
    TrustedProxies, so it sees the scheme and host the app does."""
    app.wsgi_app = KeptImages(app.wsgi_app)


def forget():
    """Empty every layer's answers (tests: qr.forget_images starts them with nothing drawn)."""
    for layer in list(_layers):
        with layer.lock:
            layer.kept.clear()
