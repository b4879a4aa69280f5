"""The in-page scanner, /scan, as the server draws it: who gets it, what it carries for
static/js/camera.js and scanner.js, the one page whose CSP lets WebAssembly run, and the
vendored reader served from our own static files. What the page does with a camera:
tests/browser/test_scanner.py."""
import re
from pathlib import Path

from kithmeet.events import services as events
from kithmeet.extensions import db
from kithmeet.organizer.models import Organizer
from kithmeet.security import CSP
from kithmeet.static_files import fingerprinted

from ..pages import error_codes

ROOT = Path(__file__).resolve().parent.parent.parent
VENDOR = ROOT / "static" / "vendor" / "barcode-detector"
WASM_PATH = "/static/vendor/barcode-detector/zxing_reader.wasm"
PONYFILL_PATH = "/static/vendor/barcode-detector/ponyfill.js"


def linked(path):
    """A static path as pages link it: with its content's hash (kithmeet/static_files.py)."""
    return "/static/" + fingerprinted(str(ROOT / "static"), path.removeprefix("/static/"))


def directives(csp):
    """{name: [sources]} of a Content-Security-Policy header."""
    parts = (part.split() for part in csp.split(";") if part.strip())
    return {name: sources for name, *sources in parts}


def test_scanner_page_carries_the_event_the_camera_view_and_the_typed_code(make_event, make_person, signed_in):
    event = make_event(name="Thursday Gathering #12")
    ada = make_person("Ada", event=event)
    response = signed_in(ada).get("/scan")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-state="scanning-at"' in html and "Thursday Gathering #12" in html
    assert 'data-state="no-open-event"' not in html
    assert re.search(r'<video[^>]*class="scanner-video"[^>]*aria-label="[^"]+"', html)
    # The reader and its .wasm come from our static files; scanner.js is told where.
    assert f'data-ponyfill="{linked(PONYFILL_PATH)}"' in html and f'data-wasm="{linked(WASM_PATH)}"' in html
    assert 'data-badge-base="http://localhost"' in html
    # camera.js first: deferred scripts run in document order, and scanner.js uses its kithmeetCamera.
    assert re.search(rf'<script src="{re.escape(linked("/static/js/camera.js"))}" defer></script>\s*'
                     rf'<script src="{re.escape(linked("/static/js/scanner.js"))}" defer></script>', html)
    # The typed code works without the script too: it is the home page's code form.
    assert re.search(r'<form method="post" action="/code"[^>]*id="typed-form"', html)
    assert 'name="csrf_token"' in html and 'id="code"' in html
    # The result region: the refusal's code goes into data-code of an alert, the card beside it.
    assert re.search(r'id="scan-outcome" role="alert"', html) and 'role="status"' in html
    assert 'id="undo-scan"' in html and 'id="talked-about"' in html and '<label class="label" for="talked-about">' in html
    assert response.headers["Cache-Control"] == "no-store"


def test_someone_not_checked_in_at_an_open_event_is_told_and_keeps_the_scanner(make_event, make_person,
                                                                              signed_in):
    event = make_event(status="open")
    ada = make_person("Ada", event=event)
    events.set_status(db.session.get(Organizer, event.series.organizer_id), event.public_id, "closed")
    html = signed_in(ada).get("/scan").get_data(as_text=True)
    assert 'data-state="no-open-event"' in html and 'data-state="scanning-at"' not in html
    assert 'class="scanner-video"' in html and 'id="typed-form"' in html


def test_home_and_badge_pages_link_to_the_scanner(make_person, signed_in):
    client = signed_in(make_person("Ada"))
    for page in ("/", "/badge"):
        html = client.get(page).get_data(as_text=True)
        assert re.search(r'href="/scan"[^>]*data-state="scanner-link"', html), page


def test_someone_not_signed_in_gets_what_the_badge_page_gives_them(client, make_event):
    make_event()
    for path in ("/scan", "/badge"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"] == "/", path
    assert "/scan" not in client.get("/").get_data(as_text=True)
    # A script asking for JSON gets the status, not a page.
    response = client.get("/scan", headers={"Accept": "application/json"})
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "sign_in_required"


def test_only_the_scanner_page_may_compile_webassembly(make_event, make_person, signed_in):
    event = make_event()
    ada, bo = make_person("Ada", event=event), make_person("Bo", event=event)
    client = signed_in(ada)
    strict = directives(CSP)
    scanner = directives(client.get("/scan").headers["Content-Security-Policy"])
    # Exactly one source more, on script-src; every other directive as strict as anywhere.
    assert scanner["script-src"] == ["'self'", "'wasm-unsafe-eval'"]
    assert {name: sources for name, sources in scanner.items() if name != "script-src"} == \
           {name: sources for name, sources in strict.items() if name != "script-src"}
    for path in ("/", "/badge", f"/B/{bo.badge_token}", "/followup", "/profile", "/static/js/scanner.js",
                 "/static/js/camera.js", WASM_PATH):
        response = client.get(path)
        assert response.headers["Content-Security-Policy"] == CSP, path
        assert "wasm" not in response.headers["Content-Security-Policy"], path


def test_the_vendored_reader_is_served_from_our_own_static_files(client):
    wasm = client.get(WASM_PATH)
    assert wasm.status_code == 200 and wasm.mimetype == "application/wasm"
    assert wasm.get_data()[:4] == b"\0asm"
    script = client.get(PONYFILL_PATH)
    assert script.status_code == 200 and script.mimetype == "text/javascript"
    wasm.close()
    script.close()


def test_the_vendored_reader_names_its_versions_and_licenses():
    readme = (VENDOR / "README.md").read_text()
    ponyfill = (VENDOR / "ponyfill.js").read_text()
    zxing = re.search(r"zxing-wasm (\d+\.\d+\.\d+)", readme).group(1)
    assert re.search(r"barcode-detector \d+\.\d+\.\d+", readme)
    # The ponyfill was built for one zxing-wasm; the .wasm beside it must be that one.
    assert f"zxing-wasm@{zxing}/" in ponyfill
    for license_file in ("LICENSE", "LICENSE-zxing-wasm"):
        assert "MIT License" in (VENDOR / license_file).read_text()
    # camera.js, which loads the reader, overrides the package's default (a CDN) with the path
    # the page gives it; neither script names another host.
    camera = (ROOT / "static" / "js" / "camera.js").read_text()
    assert "prepareZXingModule" in camera and "locateFile" in camera
    for name in ("camera.js", "scanner.js"):
        assert not re.search(r"https?://", (ROOT / "static" / "js" / name).read_text()), name


def test_a_typed_code_without_the_script_still_finds_the_badge(two_attendees):
    _, ada, bo, ada_token = two_attendees
    response = bo.submit("/code", data={"code": ada_token.lower()}, page="/scan")
    assert response.status_code == 302 and response.headers["Location"] == f"/B/{ada_token}"
    response = bo.submit("/code", data={"code": "not a code"}, page="/scan")
    assert "bad_code" in error_codes(response.get_data(as_text=True))
