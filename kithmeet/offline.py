"""Offline first: the web app manifest, the service worker (served from the root so its scope
is the whole site), the page it falls back to, and the header naming whose page it is (the
owner key, people.device.owner_key). The queue asks the API's /api/v1/session who is signed in.

What the worker does lives in static/js/sw.js; this module only tells it what to precache
and which version it is. The version is a hash of every file it precaches (and of the worker
and the queue script themselves), so a deploy that changes any of them changes /sw.js, and
browsers install the new worker and drop the old copies. The precache list names the files
as pages link them, by url_for: fingerprinted (static_files.py), so what a page asks for is
what the worker holds. The worker's own URL, /sw.js, never changes.
"""
import hashlib
import json
from pathlib import Path

from flask import Blueprint, current_app, g, has_request_context, render_template, request, session, url_for

from . import sessions, static_files
from .people.device import owner_key

bp = Blueprint("offline", __name__)

WORKER = "js/sw.js"
QUEUE_SCRIPT = "js/scan-queue.js"
# The app shell, relative to static/: what a phone needs to draw any page of ours with no
# network. Every vendored file of the scanner is listed from the directory itself, so
# whatever the scanner vendors (its wasm included) is precached without a list to keep.
SHELL_FILES = ("css/app.css", "favicon.svg")
SHELL_FOLDERS = ("js", "icons", "vendor/barcode-detector")
# Texts beside the vendored code (licenses, READMEs): served, but never needed offline.
NOT_SHELL = {WORKER, "vendor/barcode-detector/LICENSE", "vendor/barcode-detector/LICENSE-zxing-wasm",
             "vendor/barcode-detector/README.md"}
# The response header naming whose page this is (the owner key), read by the worker: only
# pages with it are kept, under that key, and a page without it means nobody is signed in.
OWNER_HEADER = "X-Kithmeet-Owner"
# The request header of the worker's ahead-of-time fetch of a page (sw.js `warm`): nobody
# reads that page, so it must not take the flashed messages waiting for the next one.
WARM_HEADER = "X-Kithmeet-Warm"
THEME_COLOR = "#0d6b63"  # --brand in static/css/app.css
BACKGROUND_COLOR = "#f6f4ef"  # --paper
ICONS = (("icons/icon-192.png", 192, "any"), ("icons/icon-512.png", 512, "any"),
         ("icons/maskable-192.png", 192, "maskable"), ("icons/maskable-512.png", 512, "maskable"))


@bp.record_once
def warming_is_read_only(state):
    # A warm fetch set off before a sign-in on the page must not put its old cookie back.
    sessions.background_requests(state.app, WARM_HEADER)


@bp.app_context_processor
def offline_context():
    # The door kiosk is an organizer's tablet locked to its own pages: it installs no worker.
    context = {"offline_owner": owner_key, "installable": has_request_context() and request.blueprint != "kiosk"}
    if has_request_context() and WARM_HEADER in request.headers:
        # Overrides Flask's global for this render only: the flashes stay in the session.
        context["get_flashed_messages"] = no_flashed_messages
    return context


def no_flashed_messages(with_categories=False, category_filter=()):
    return []


@bp.after_app_request
def name_the_owner(response):
    # Pages only, and only the person the page's render already looked up (every template
    # is given current_person): no query, and a static file never names its reader.
    person = g.get("current_person")
    if person is None or response.mimetype != "text/html":
        return response
    if WARM_HEADER in request.headers and session.modified:
        # A fetch ahead whose render added to the session (a CSRF secret a sign-in on the page
        # dropped a moment before) is not saved (sessions.background_requests): its forms'
        # tokens would not hold, so the worker is not told to keep it. It asks again later.
        return response
    response.headers[OWNER_HEADER] = owner_key(person)
    return response


def shell_files():
    """The static files the worker precaches, relative to static/, sorted."""
    static = Path(current_app.static_folder)
    names = {name for name in SHELL_FILES if (static / name).is_file()}
    for folder in SHELL_FOLDERS:
        for path in (static / folder).rglob("*") if (static / folder).is_dir() else ():
            if path.is_file() and not path.name.startswith("."):
                names.add(path.relative_to(static).as_posix())
    return sorted(names - NOT_SHELL)


def worker_version(files):
    # Of the files' content hashes, as their fingerprinted names carry them (static_files.py):
    # each file is read again only when it changes.
    digest = hashlib.sha256()
    for name in (WORKER, *files):  # the queue script is among them (static/js/)
        digest.update(f"{name}\0{static_files.content_hash(current_app.static_folder, name) or ''}\0".encode())
    return digest.hexdigest()[:16]


@bp.get("/manifest.webmanifest")
def manifest():
    body = {
        "id": "/",
        "name": "kithmeet",
        "short_name": "kithmeet",
        "description": "Your badge, the scanner and the people you met, also when the venue's Wi-Fi is not.",
        "start_url": url_for("home.index"),
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOR,
        "background_color": BACKGROUND_COLOR,
        "icons": [{"src": url_for("static", filename=name), "sizes": f"{size}x{size}", "type": "image/png",
                   "purpose": purpose} for name, size, purpose in ICONS],
        "shortcuts": [{"name": name, "url": url_for(endpoint)} for name, endpoint in (
            ("My badge", "people.badge"), ("Scan badges", "connections.scanner"), ("People I met", "followup.index"))
            if endpoint in current_app.view_functions],
    }
    response = current_app.response_class(json.dumps(body, indent=1), mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/sw.js")
def service_worker():
    files = shell_files()
    version = worker_version(files)
    config = {
        "version": version,
        "precache": [url_for("offline.offline_page")] + [url_for("static", filename=name) for name in files],
        "offlinePage": url_for("offline.offline_page"),
        "queueScript": url_for("static", filename=QUEUE_SCRIPT),
        "ownerHeader": OWNER_HEADER,
        "warmHeader": WARM_HEADER,
    }
    source = (Path(current_app.static_folder) / WORKER).read_text()
    body = f"// kithmeet service worker {version}\nself.KITHMEET = {json.dumps(config)};\n{source}"
    response = current_app.response_class(body, mimetype="application/javascript")
    # Asked again on every visit (browsers check the worker for updates), answered from the
    # version alone when nothing changed.
    response.headers["Cache-Control"] = "no-cache"
    response.set_etag(version)
    return response.make_conditional(request)


@bp.get("/offline")
def offline_page():
    return render_template("offline/offline.html")
