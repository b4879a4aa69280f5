"""Offline first, the server's side (kithmeet/offline.py): the manifest, the service worker's
script and what it precaches, the owner key a scan queue is kept under (people/device.py), the
headers, and the worker's ahead-of-time fetches leaving flashed messages alone. Who is signed
in, for the queue, is the API's /api/v1/session (tests/api/test_session.py). What the worker
does in a browser is tested in tests/browser/test_offline.py."""
import json
import re
import shutil
from pathlib import Path

import pytest
from PIL import Image

from sqlalchemy import func, select

from kithmeet import create_app, static_files
from kithmeet.extensions import db
from kithmeet.offline import OWNER_HEADER, WARM_HEADER
from kithmeet.people import services as people
from kithmeet.people.device import owner_key
from kithmeet.sessions import WebSession
from kithmeet.security import CSP
from kithmeet.static_files import FINGERPRINTED, STALE_HEADER, content_hash, split

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "static"
OWNER_META = re.compile(r'<meta name="kithmeet-owner" content="([^"]+)">')
KEY = re.compile(r"^[0-9a-f]{32}$")
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def _config(body):
    """The worker's settings: the line kithmeet/offline.py puts above static/js/sw.js."""
    line = next(line for line in body.splitlines() if line.startswith("self.KITHMEET = "))
    return json.loads(line.removeprefix("self.KITHMEET = ").removesuffix(";"))


def _static_file(url):
    assert url.startswith("/static/"), url
    return STATIC / split(url.removeprefix("/static/"))[0]


def _plain(url):
    """A static URL without its fingerprint (static_files.py)."""
    return "/static/" + split(url.removeprefix("/static/"))[0]


def _colour(name):
    """A custom property of app.css's :root, e.g. --brand."""
    return re.search(rf"{name}:\s*(#[0-9a-f]{{6}});", (STATIC / "css" / "app.css").read_text()).group(1)


def test_the_manifest_makes_the_site_installable(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.get_data(as_text=True))
    assert manifest["name"] and manifest["short_name"]
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == ("/", "/", "standalone")
    assert manifest["theme_color"] == _colour("--brand") and manifest["background_color"] == _colour("--paper")
    for shortcut in manifest["shortcuts"]:
        assert client.get(shortcut["url"]).status_code in (200, 302), shortcut  # real pages (302: sign in first)


def test_every_icon_of_the_manifest_is_a_png_of_its_stated_size(client):
    icons = json.loads(client.get("/manifest.webmanifest").get_data(as_text=True))["icons"]
    seen = set()
    for icon in icons:
        width, height = map(int, icon["sizes"].split("x"))
        with Image.open(_static_file(icon["src"])) as image:
            assert image.format == "PNG" and icon["type"] == "image/png"
            assert image.size == (width, height), icon
            if icon["purpose"] == "maskable":  # full bleed: a mask may cut any corner away
                assert image.convert("RGBA").getpixel((0, 0))[3] == 255, icon
        assert client.get(icon["src"]).status_code == 200
        seen.add((width, icon["purpose"]))
    assert {(192, "any"), (512, "any"), (192, "maskable"), (512, "maskable")} <= seen


def test_pages_link_the_manifest_and_theme_colour_and_register_the_worker(client, make_event):
    make_event()  # an organizer exists: the front page is shown, not the first-run setup
    html = client.get("/").get_data(as_text=True)
    assert '<link rel="manifest" href="/manifest.webmanifest">' in html
    assert f'<meta name="theme-color" content="{_colour("--brand")}">' in html
    assert re.search(r'<script src="/static/js/offline\.[0-9a-f]{12}\.js" defer data-worker="/sw\.js"'
                     r' data-session="/api/v1/session"></script>', html)  # where it asks if the network is back


def test_the_worker_is_served_from_the_root_never_stale(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "application/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    body = response.get_data(as_text=True)
    version = _config(body)["version"]
    assert response.headers["ETag"] == f'"{version}"'
    assert body.endswith((STATIC / "js" / "sw.js").read_text())  # the worker itself, under its settings
    again = client.get("/sw.js", headers={"If-None-Match": f'"{version}"'})
    assert again.status_code == 304 and again.get_data() == b""


def test_the_worker_installs_only_from_a_server_that_has_this_release_s_files(client):
    """A server behind in a rolling deploy answers a content hash it does not know with its own
    file, marked (static_files.STALE_HEADER): the install fails on such an answer, before it keeps
    anything, so the browser installs the worker later from a server that has the files. How it
    behaves in a browser: tests/browser/test_offline.py."""
    body = client.get("/sw.js").get_data(as_text=True)
    assert re.search(rf'var STALE_HEADER = "{STALE_HEADER}";', body)
    install = body[body.index('addEventListener("install"'):body.index('addEventListener("activate"')]
    checked = re.search(r"fetch\(new Request\(url, \{ credentials: \"omit\" \}\)\)\.then\(function \(response\) \{\s*"
                        r"if \(!response\.ok \|\| response\.headers\.get\(STALE_HEADER\)\) throw ", install)
    assert checked, install
    # Kept only after every answer was checked: nothing is put into the cache before Promise.all.
    assert install.index("Promise.all(CONFIG.precache") < install.index("cache.put") and ".addAll(" not in install


def test_the_worker_precaches_the_shell_and_only_files_that_exist(client):
    config = _config(client.get("/sw.js").get_data(as_text=True))
    precache = config["precache"]
    assert config["offlinePage"] in precache and client.get(config["offlinePage"]).status_code == 200
    files = [url for url in precache if url != config["offlinePage"]]
    missing = [url for url in files if not _static_file(url).is_file()]
    assert missing == []
    # Named as the pages link them: fingerprinted with the content's hash (static_files.py).
    for url in files + [config["queueScript"]]:
        name = url.removeprefix("/static/")
        assert FINGERPRINTED.fullmatch(name) and split(name)[1] == content_hash(str(STATIC), split(name)[0]), url
    plain = {_plain(url) for url in files}
    for name in ("css/app.css", "js/app.js", "js/offline.js", "js/scan-queue.js", "icons/icon-192.png"):
        assert f"/static/{name}" in plain, name
    assert _plain(config["queueScript"]) == "/static/js/scan-queue.js" and config["queueScript"] in precache
    assert (config["ownerHeader"], config["warmHeader"]) == (OWNER_HEADER, WARM_HEADER)
    assert "/static/js/sw.js" not in plain
    # Whatever the scanner vendors is precached (its wasm too), its license texts are not.
    vendored = {f"/static/{path.relative_to(STATIC).as_posix()}"
                for path in (STATIC / "vendor" / "barcode-detector").glob("*.*js")}
    assert vendored and vendored <= plain
    assert not [url for url in precache if "LICENSE" in url or url.endswith(".md")]
    assert len(precache) == len(set(precache))


@pytest.fixture
def own_static(app, tmp_path, monkeypatch):
    """The app serving a copy of static/ that the test may change (and pages link a change at
    once, as they do NAME_RECHECK_SECONDS after a deploy)."""
    monkeypatch.setattr(static_files, "NAME_RECHECK_SECONDS", 0)
    copy = tmp_path / "static"
    shutil.copytree(STATIC, copy)
    app.static_folder = str(copy)
    return copy


def test_a_deploy_that_changes_a_precached_file_changes_the_worker(client, own_static):
    def worker():
        response = client.get("/sw.js")
        return response.headers["ETag"], _config(response.get_data(as_text=True))

    etag, config = worker()
    assert worker() == (etag, config)  # nothing changed: the same version
    (own_static / "css" / "app.css").write_text((own_static / "css" / "app.css").read_text() + "\n/* new */\n")
    changed_etag, changed = worker()
    assert changed["version"] != config["version"] and changed_etag != etag
    # The changed file is precached under its new name, as the pages now link it.
    css = [url for url in changed["precache"] if _plain(url) == "/static/css/app.css"]
    assert len(css) == 1 and css[0] not in config["precache"]
    assert client.get("/sw.js", headers={"If-None-Match": etag}).status_code == 200  # the old copy is stale
    (own_static / "vendor" / "barcode-detector" / "extra.wasm").write_bytes(b"\0asm")
    added = worker()[1]
    assert "/static/vendor/barcode-detector/extra.wasm" in {_plain(url) for url in added["precache"]}
    assert added["version"] != changed["version"]
    (own_static / "js" / "scan-queue.js").write_text("// changed\n")
    assert worker()[1]["version"] != added["version"]  # the queue script is in the version too


def test_the_owner_key_is_opaque_stable_and_per_person(app, make_event, make_person, signed_in, make_client):
    event = make_event()
    ada, bo = make_person("Ada", event=event), make_person("Bo", event=event)
    first, second = signed_in(ada), signed_in(ada)  # two sign-ins (two devices) of one person
    keys = [OWNER_META.search(client.get("/badge").get_data(as_text=True)).group(1) for client in (first, second)]
    assert keys[0] == keys[1] == owner_key(ada)
    assert KEY.match(keys[0]) and str(ada.id) != keys[0]
    assert owner_key(bo) != owner_key(ada)
    response = first.get("/followup")
    assert response.headers[OWNER_HEADER] == keys[0]  # what the worker keeps copies under
    assert OWNER_HEADER not in first.get("/static/css/app.css").headers  # pages only
    # Keyed with the site's secret: nobody can compute someone's key from their id.
    app.secret_key = "another-secret-key"
    assert owner_key(ada) != keys[0]


def test_a_signed_out_page_names_no_owner(client, make_event):
    make_event()
    response = client.get("/")
    assert OWNER_HEADER not in response.headers
    html = response.get_data(as_text=True)
    assert "kithmeet-owner" not in html and "scan-queue.js" not in html and "data-queue-status" not in html


def test_signing_out_lands_on_a_page_that_names_no_one(make_event, make_person, signed_in):
    """What tells the worker to drop the person's copies: the first page after it has no owner."""
    client = signed_in(make_person())
    assert OWNER_HEADER in client.get("/").headers
    landed = client.submit("/signout", page="/badge", follow_redirects=True)
    assert landed.status_code == 200 and landed.mimetype == "text/html"
    assert OWNER_HEADER not in landed.headers


def test_the_door_kiosk_installs_no_worker(app, make_organizer, make_event):
    organizer = make_organizer("door@example.org")
    event = make_event(organizer)
    client = app.test_client()
    client.submit("/organizer/login", data={"email": "door@example.org", "password": "a long enough password"})
    page = f"/organizer/events/{event.public_id}"
    assert "/static/js/offline." in client.get(page).get_data(as_text=True)  # an organizer's own pages do
    assert client.submit(f"{page}/kiosk", page=page).location == "/kiosk"
    kiosk = client.get("/kiosk")
    html = kiosk.get_data(as_text=True)
    assert kiosk.status_code == 200 and '<body class="kiosk">' in html
    assert "/static/js/offline." not in html and "manifest" not in html


def test_offline_files_keep_the_strict_policy_and_the_shared_ones_may_be_cached(make_event, make_person, signed_in):
    client = signed_in(make_person())
    for path in ("/sw.js", "/manifest.webmanifest", "/offline"):
        response = client.get(path)
        assert response.headers["Content-Security-Policy"] == CSP, path
    assert "unsafe" not in CSP and "script-src 'self';" in CSP + ";"
    # The same for everyone (even asked with a session cookie): not swept up by no-store.
    assert client.get("/sw.js").headers["Cache-Control"] == "no-cache"
    assert client.get("/manifest.webmanifest").headers["Cache-Control"].startswith("public")
    assert client.get("/offline").headers["Cache-Control"] == "no-store"  # names whoever is signed in


def test_the_worker_s_fetch_ahead_leaves_a_flashed_message_for_the_next_page(make_person, signed_in):
    """The worker fetches /badge and /scan for a person with no copies yet, while the page that
    asked is open; the flash waiting for the page they open next must still be there."""
    client = signed_in(make_person())  # the sign-in flash waits for the next page
    client.get("/api/v1/session")  # the CSRF secret stored, as the page that asks has it (no flash taken)
    for path in ("/badge", "/scan"):
        warmed = client.get(path, headers={WARM_HEADER: "1"})
        assert warmed.status_code == 200 and OWNER_HEADER in warmed.headers  # a page the worker keeps
        assert 'class="flashes"' not in warmed.get_data(as_text=True), path
    shown = client.get("/followup").get_data(as_text=True)
    assert 'class="flashes"' in shown and "flash-success" in shown
    assert 'class="flashes"' not in client.get("/followup").get_data(as_text=True)  # shown once, as always


def test_a_fetch_ahead_under_way_as_the_person_signs_in_leaves_the_new_cookie_alone(app, make_person, signed_in):
    """The page asks the worker to warm /badge and /scan, and the person at once signs in (or
    checks in) on it: the fetches still under way carry the old cookie, which the sign-in
    ended. They must not answer with a cookie of their own, or the browser keeps theirs and
    the person is signed out just as they signed in."""
    person = make_person()
    client = signed_in(person)
    old = client.get_cookie("session").value
    assert client.submit(f"/signin/{people.issue_signin_secret(person)}").status_code == 302  # a new id
    with app.app_context():
        rows = db.session.scalar(select(func.count()).select_from(WebSession))

    def stale(headers):
        late = app.test_client()
        late.set_cookie("session", old)
        return late.get("/scan", headers=headers)

    warmed = stale({WARM_HEADER: "1"})
    assert warmed.status_code == 302  # nobody by the old cookie: the worker keeps nothing
    assert "Set-Cookie" not in warmed.headers
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WebSession)) == rows
    assert "Set-Cookie" in stale({}).headers  # what a page of the person's own would do (and may)


def test_a_fetch_ahead_writes_nothing_to_the_session_it_reads(app, make_person, signed_in):
    client = signed_in(make_person())
    client.get("/badge")  # the sign-in flash shown: the session as a page leaves it
    cookie = client.get_cookie("session").value
    with app.app_context():
        before = db.session.execute(select(WebSession.id_hash, WebSession.data, WebSession.expires_at)).all()
    for path in ("/badge", "/scan"):
        response = client.get(path, headers={WARM_HEADER: "1"})
        assert response.status_code == 200 and "Set-Cookie" not in response.headers, path
        assert OWNER_HEADER in response.headers, path  # kept by the worker: its session holds its tokens
        # For the worker alone: no shared cache keeps an answer drawn for a session it did not save.
        assert response.headers["Cache-Control"] == "no-store" and "Cookie" in response.headers["Vary"], path
    with app.app_context():
        assert db.session.execute(select(WebSession.id_hash, WebSession.data, WebSession.expires_at)).all() == before
    assert client.get_cookie("session").value == cookie


def test_a_page_fetched_ahead_is_not_kept_when_its_render_changed_the_session(app, make_person, signed_in):
    """The person signs in again on the page that asked for the fetch ahead (here: signs every
    other device out, which keeps this one signed in under a new id and a new CSRF secret), and
    the worker's fetch of /scan goes out with the new cookie before the next page is drawn. Its
    render makes a CSRF secret that it does not save: a copy kept with that token would refuse
    its scans. So the worker is not told whose page it is (it keeps none), and the next page's
    token holds."""
    client = signed_in(make_person())
    token = client.csrf_token("/badge")
    assert client.post("/badge/sign-out-everywhere", data={"csrf_token": token}).status_code == 302
    warmed = client.get("/scan", headers={WARM_HEADER: "1"})
    assert warmed.status_code == 200 and OWNER_HEADER not in warmed.headers
    assert "Set-Cookie" not in warmed.headers
    shown = client.get("/badge")
    assert shown.status_code == 200 and OWNER_HEADER in shown.headers
    fresh = CSRF_META.search(shown.get_data(as_text=True)).group(1)
    answer = client.post("/api/v1/scans", json={"badge": "ZZZZZZZZ", "client_id": "c1"},
                         headers={"X-CSRFToken": fresh, "Accept": "application/json"})
    assert answer.status_code != 400 or answer.get_json()["error"]["code"] != "csrf"


def test_an_anonymous_page_fetched_with_the_header_is_kept_by_no_cache(app, make_event, make_client):
    """Anyone may send the header: a join page drawn with it (its CSRF token and nonce in a
    session never saved) must not be cached for the next visitor by a proxy in front."""
    event = make_event()
    plain = make_client().get(f"/J/{event.join_code}")
    assert "Set-Cookie" in plain.headers  # an ordinary visit keeps its session
    warmed = make_client().get(f"/J/{event.join_code}", headers={WARM_HEADER: "1"})
    assert warmed.status_code == 200 and "Set-Cookie" not in warmed.headers
    assert warmed.headers["Cache-Control"] == "no-store" and "Cookie" in warmed.headers["Vary"]


def test_a_state_change_with_the_fetch_ahead_s_header_is_saved_as_any_other(make_person, signed_in, make_client):
    """Only GETs are fetched ahead: a sign-in or sign-out posted with the header still ends
    the old session and gives the browser the new one."""
    person = make_person()
    client = signed_in(person)
    old = client.get_cookie("session").value
    token = client.csrf_token("/badge")
    signed_out = client.post("/signout", data={"csrf_token": token}, headers={WARM_HEADER: "1"})
    assert signed_out.status_code == 302 and "Set-Cookie" in signed_out.headers
    assert client.get_cookie("session").value != old
    assert client.get("/badge").status_code == 302  # signed out
    again = make_client()
    page = f"/signin/{people.issue_signin_secret(person)}"
    signed_in_again = again.post(page, data={"csrf_token": again.csrf_token(page)}, headers={WARM_HEADER: "1"})
    assert signed_in_again.status_code == 302 and "Set-Cookie" in signed_in_again.headers
    assert again.get("/badge").status_code == 200


def test_the_offline_page_names_no_one(tmp_path):
    """The worker precaches it without cookies; drawn for nobody it has no personal part."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'o.sqlite3'}",
                      "SECRET_KEY": "k", "RATELIMIT_ENABLED": False}, instance_path=str(tmp_path / "instance"))
    with app.app_context():
        db.create_all()
    response = app.test_client().get("/offline")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'data-state="offline-page"' in html
    assert "kithmeet-owner" not in html and "Set-Cookie" not in response.headers
    assert "Cache-Control" not in response.headers


def test_the_worker_and_queue_scripts_reach_nothing_outside_the_site():
    for name in ("sw.js", "scan-queue.js", "offline.js"):
        text = (STATIC / "js" / name).read_text()
        assert not re.search(r"https?://", text), name
        assert "eval(" not in text and "innerHTML" not in text, name
