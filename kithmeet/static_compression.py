"""Static files gzip-compressed on the way out, each compressed once per process.

Flask sends static files as they are on disk, so the scanner's 1.09 MB zxing .wasm (and every
script and stylesheet) crossed a venue's weak Wi-Fi uncompressed on a phone's first visit. A
file of a compressible kind is sent gzip-compressed to a client that accepts gzip; the bytes
are made on the first request for the file and kept in memory, keyed by its path, mtime and
size, so a changed file (a deploy) is compressed again and an unchanged one never is.

What stays as it was: a client without gzip gets the file itself; a Range request gets the
file itself (byte ranges count in the file's own bytes); conditional requests still answer
304, against an ETag of the compressed copy's own (a different representation needs a
different strong ETag). Every answer for a compressible file says `Vary: Accept-Encoding`, so
no cache hands the compressed copy to a client that did not ask for it.
"""
import functools
import gzip
import os
import threading

from flask import request
from werkzeug.security import safe_join

# What shrinks: text, and the wasm (to about 42% of its size). Images and fonts of ours are
# compressed formats already.
COMPRESSIBLE = {".js", ".css", ".wasm", ".svg", ".json", ".webmanifest"}
LEVEL = 9  # once per file and process: the smallest output is worth the one-off time

_compressed = {}  # path -> ((mtime_ns, size), gzip bytes, or None where gzip does not shrink it)
_lock = threading.Lock()  # one thread compresses a file; the others wait for its bytes


def init_app(app):
    if not app.has_static_folder:
        return
    view = app.view_functions["static"]

    @functools.wraps(view)
    def static(filename):
        return compress(view(filename=filename), app.static_folder, filename)

    app.view_functions["static"] = static


def compress(response, folder, filename):
    """`response` (Flask's answer for static/`filename`) gzip-compressed if it should be."""
    if os.path.splitext(filename)[1].lower() not in COMPRESSIBLE:
        return response
    response.vary.add("Accept-Encoding")
    # A Range request Flask answered with a 206 (or a 416) keeps the file's own bytes: only a
    # whole file's 200 is compressed.
    if (response.status_code != 200 or request.method not in ("GET", "HEAD")
            or request.accept_encodings.quality("gzip") <= 0):
        return response
    path = safe_join(folder, filename)
    data = gzipped(path) if path else None
    if data is None:
        return response
    etag, weak = response.get_etag()
    if hasattr(response.response, "close"):
        response.response.close()  # the open file Flask would have streamed
    response.direct_passthrough = False
    response.set_data(data)  # and its Content-Length
    response.headers["Content-Encoding"] = "gzip"
    response.headers.pop("Accept-Ranges", None)  # ranges are served from the file itself
    if etag:
        response.set_etag(f"{etag}-gzip", weak)
    # Flask compared the request with the file's own ETag; this compares it with the copy's.
    return response.make_conditional(request)


def kept_while_unchanged(cache, path, make):
    """`make(file)` for the file at `path`, kept in `cache` until the file changes (its mtime or
    size, as read with the bytes: a deploy); None if there is no such file. One thread makes it;
    the others wait for its answer."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    stamp = (info.st_mtime_ns, info.st_size)
    kept = cache.get(path)
    if kept is None or kept[0] != stamp:
        with _lock:
            kept = cache.get(path)
            if kept is None or kept[0] != stamp:
                with open(path, "rb") as file:
                    info = os.fstat(file.fileno())  # the stamp of the bytes read, should it change now
                    kept = ((info.st_mtime_ns, info.st_size), make(file))
                cache[path] = kept
    return kept[1]


def gzipped(path):
    """The gzip bytes of the file at `path`, or None if compressing does not make it smaller."""
    return kept_while_unchanged(_compressed, path, _smaller_gzip)


def _smaller_gzip(file):
    original = file.read()
    # mtime=0: the same file gives the same bytes in every process, as its ETag promises.
    data = gzip.compress(original, LEVEL, mtime=0)
    return data if len(data) < len(original) else None
