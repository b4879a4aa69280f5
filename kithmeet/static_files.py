"""Static files under names that carry their content's hash, cached by browsers for a year.

`url_for('static', filename='css/app.css')` gives `/static/css/app.<hash>.css`, the hash being
the first 12 hex digits of the SHA-256 of the file's bytes. That path is answered with
`Cache-Control: public, max-age=31536000, immutable`: a changed file gets a new name, so a
browser never has to ask whether its copy is still good, and a page after a deploy asks for
the new file by its new name. Every page, the manifest and the service worker's precache list
(offline.py) build their links with url_for, so they all name the same fingerprinted files.

The plain path (`/static/css/app.css`) stays valid with the short caching it always had (an
ETag to revalidate): for links not built here, such as a URL a script makes from another, and
for pages kept from before a deploy. So does a fingerprint that is not the file's current one
(an old page after a deploy, or a server not yet deployed): the current file, plainly cached,
never under a year's promise. nginx in front (docs/deploy/) strips the hash the same way.

A hash is worked out once per file and process, and again only when the file's mtime or size
changes. Static files are the same for everyone: no session is read for them (sessions.py).
Compression is static_compression.py's, applied to the file behind either name.
"""
import hashlib
import os
import re
import stat
import threading

from werkzeug.security import safe_join

from . import sessions

CACHE_CONTROL = "public, max-age=31536000, immutable"
HASH_LENGTH = 12
# `<dir>/<name>.<hash>.<ext>`: the hash sits before the last extension, as nginx's rewrite expects.
FINGERPRINTED = re.compile(rf"(?P<stem>.+)\.(?P<hash>[0-9a-f]{{{HASH_LENGTH}}})(?P<ext>\.[^./]+)")
_NAMED = re.compile(r"(?P<stem>.*[^/])(?P<ext>\.[^./]+)")  # a file name with an extension

_hashes = {}  # path -> ((mtime_ns, size), hash)
_lock = threading.Lock()  # one thread reads and hashes a file; the others wait for its hash


def init_app(app):
    """After static_compression.init_app: the view it wraps gets the file's real name."""
    if not app.has_static_folder:
        return
    view = app.view_functions["static"]

    def static(filename):
        real, fingerprint = split(filename)
        if fingerprint is None or content_hash(app.static_folder, real) is None:
            return view(filename=filename)  # a plain name (or one that only looks fingerprinted)
        response = view(filename=real)
        if fingerprint == content_hash(app.static_folder, real) and response.status_code in (200, 206, 304):
            response.headers["Cache-Control"] = CACHE_CONTROL
        return response

    app.view_functions["static"] = static

    @app.url_defaults
    def fingerprint_static_urls(endpoint, values):
        if endpoint == "static" and "filename" in values:
            values["filename"] = fingerprinted(app.static_folder, values["filename"])

    sessions.skip_loading_paths(app, re.escape(app.static_url_path) + r"/.+")


def split(filename):
    """(`filename` without its fingerprint, the fingerprint), or (`filename`, None) if it has none."""
    match = FINGERPRINTED.fullmatch(filename)
    if match is None:
        return filename, None
    return match["stem"] + match["ext"], match["hash"]


def fingerprinted(folder, filename):
    """`filename` with its content's hash before the extension; as it is if there is no such
    file, or its name has no extension."""
    named = _NAMED.fullmatch(filename)
    digest = content_hash(folder, filename) if named else None
    if digest is None:
        return filename
    return f"{named['stem']}.{digest}{named['ext']}"


def content_hash(folder, filename):
    """The first 12 hex digits of the SHA-256 of the file static/`filename`; None if there is no
    such file."""
    path = safe_join(folder, filename)
    if path is None:
        return None
    try:
        info = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    stamp = (info.st_mtime_ns, info.st_size)
    kept = _hashes.get(path)
    if kept is None or kept[0] != stamp:
        with _lock:
            kept = _hashes.get(path)
            if kept is None or kept[0] != stamp:
                with open(path, "rb") as file:
                    info = os.fstat(file.fileno())  # the stamp of the bytes read, should it change now
                    digest = hashlib.file_digest(file, "sha256").hexdigest()[:HASH_LENGTH]
                kept = ((info.st_mtime_ns, info.st_size), digest)
                _hashes[path] = kept
    return kept[1]
