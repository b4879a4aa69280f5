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
(an old page after a deploy, or a server not yet deployed): the current file, but `no-store`
and marked with STALE_HEADER, since those bytes are not the ones the name promises: nothing
may keep them under it, and the service worker refuses to install from such an answer.

nginx in front (docs/deploy/) never works a hash out itself: `build` (`flask static-build
DEST`) writes every file under its content-hashed name into a folder nginx serves for a year,
keeping older releases' files, and a name missing there is passed to the app.

A hash is worked out once per file and process, and again only when the file's mtime or size
changes. A page's links ask for the file's name at most every NAME_RECHECK_SECONDS: a signed-in
page links six files, and looking at each on every page was a twentieth of the scan page's time.
Static files are the same for everyone: no session is read for them (sessions.py).
Compression is static_compression.py's, applied to the file behind either name.
"""
import gzip
import hashlib
import os
import re
import tempfile
import time

from werkzeug.security import safe_join

from . import sessions
from .static_compression import COMPRESSIBLE, kept_while_unchanged

CACHE_CONTROL = "public, max-age=31536000, immutable"
# On the answer for a fingerprint that is not the file's current one (static/js/sw.js reads it).
STALE_HEADER = "X-Kithmeet-Stale-Name"
HASH_LENGTH = 12
# `<dir>/<name>.<hash>.<ext>`: the hash sits before the last extension, as nginx.conf's location expects.
FINGERPRINTED = re.compile(rf"(?P<stem>.+)\.(?P<hash>[0-9a-f]{{{HASH_LENGTH}}})(?P<ext>\.[^./]+)")
_NAMED = re.compile(r"(?P<stem>.*[^/])(?P<ext>\.[^./]+)")  # a file name with an extension

_hashes = {}  # path -> ((mtime_ns, size), hash)
NAME_RECHECK_SECONDS = 2.0  # how stale a page's link may be after a deploy changes a file in place
_clock = time.monotonic


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
        if fingerprint == content_hash(app.static_folder, real):
            if response.status_code in (200, 206, 304):
                response.headers["Cache-Control"] = CACHE_CONTROL
        elif response.status_code < 400:
            response.headers["Cache-Control"] = "no-store"
            response.headers[STALE_HEADER] = "1"
        return response

    app.view_functions["static"] = static

    names = {}  # (static folder, filename) -> (when looked at, fingerprinted name)

    @app.url_defaults
    def fingerprint_static_urls(endpoint, values):
        if endpoint == "static" and "filename" in values:
            key = (app.static_folder, values["filename"])
            now = _clock()
            kept = names.get(key)
            if kept is None or now - kept[0] >= NAME_RECHECK_SECONDS:
                if len(names) >= 4096:  # names come from templates, but bound it anyway
                    names.clear()
                kept = names[key] = (now, fingerprinted(*key))
            values["filename"] = kept[1]

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
    if path is None or not os.path.isfile(path):
        return None
    return kept_while_unchanged(
        _hashes, path, lambda file: hashlib.file_digest(file, "sha256").hexdigest()[:HASH_LENGTH])


def build(folder, destination):
    """Write every file of static/ (`folder`) with an extension into `destination` under its
    fingerprinted name, `<dir>/<name>.<hash>.<ext>`, with a gzip copy (`….gz`) beside those of a
    compressible kind where that is smaller: what nginx serves as the names pages link. Nothing
    already in `destination` is removed or changed, so the files of earlier releases stay for
    pages an old server still hands out; running it again writes nothing new. Each file appears
    whole (written aside, then renamed). Returns (files written, files already there).
    Raises ValueError if `destination` lies inside `folder`."""
    folder, destination = os.path.realpath(folder), os.path.realpath(destination)
    if os.path.commonpath([folder, destination]) == folder:
        raise ValueError("the build folder must be outside the static folder")
    written = kept = 0
    for top, folders, files in os.walk(folder):
        folders[:] = sorted(name for name in folders if not name.startswith("."))
        for name in sorted(files):
            source = os.path.join(top, name)
            relative = os.path.relpath(source, folder).replace(os.sep, "/")
            named = _NAMED.fullmatch(relative)
            if name.startswith(".") or named is None or not os.path.isfile(source):
                continue
            with open(source, "rb") as file:
                data = file.read()
            # Hashed from the bytes written, not the per-process cache: name and content agree
            # even if the file changes while this runs.
            digest = hashlib.sha256(data).hexdigest()[:HASH_LENGTH]
            target = os.path.join(destination, f"{named['stem']}.{digest}{named['ext']}")
            copies = [(target, data)]
            if named["ext"].lower() in COMPRESSIBLE:
                # mtime=0: the same file gives the same bytes on every build.
                packed = gzip.compress(data, 9, mtime=0)
                if len(packed) < len(data):
                    copies.append((target + ".gz", packed))
            for path, content in copies:
                if _holds(path, content):
                    kept += 1
                else:
                    _write_whole(path, content)
                    written += 1
    return written, kept


def _holds(path, content):
    try:
        with open(path, "rb") as file:
            return file.read() == content
    except OSError:
        return False


def _write_whole(path, content):
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".building-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
        os.chmod(temporary, 0o644)  # nginx's workers read it
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
