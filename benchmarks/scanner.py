"""Measure the in-page scanner in headless Chromium; print a table. Not a test: numbers to read.

- From the badge entering the camera's view to "connected" on screen, for ten scanners (each a
  new person, each a new connection, each in a Chromium of its own) on their first visit to
  /scan: the fake camera plays a blank white view for BLANK_SECONDS, then one of our own
  badges. The page notes when the first badge frame is presented (requestVideoFrameCallback on
  the scanner's <video>: the first frame that is not blank, its mediaTime just past the blank
  part) and when the result says "connected" (a MutationObserver), both on the page's own
  clock. Which reader ran (native BarcodeDetector or the vendored polyfill) is printed.
- The scanner page's bytes on a cold load (a fresh browser context: no HTTP cache, no service
  worker) and on a warm load (the second visit, the service worker installed): every response
  body and header the server wrote, counted by the server itself, so whatever the page, its
  reader's wasm and the service worker (precaching the app shell) asked for is in it, and a
  response the worker served from its cache is not. Static files go out gzip-compressed
  (kithmeet/static_compression.py).

The app is served as the browser tests serve it (werkzeug, threaded, on 127.0.0.1, SQLite),
in this process; Debian's Chromium is driven by Playwright with the browser tests' flags.

Run: make benchmark   (or .venv/bin/python benchmarks/scanner.py)
"""
import logging
import re
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kithmeet import create_app, static_files  # noqa: E402
from kithmeet.events import services as events  # noqa: E402
from kithmeet.extensions import db  # noqa: E402
from kithmeet.organizer import services as organizers  # noqa: E402
from kithmeet.people import services as people  # noqa: E402
from kithmeet.people.profile import Profile  # noqa: E402
from tests.browser.camera import FPS, HEIGHT, WIDTH, badge_picture, write_y4m  # noqa: E402
from tests.browser.support import CHROMIUM, CHROMIUM_ARGS, PHONE  # noqa: E402

SCANNERS = 10
BLANK_SECONDS = 2  # the blank view first: the reader (wasm fetched and compiled) is ready before the badge
BADGE_SECONDS = 6  # then the badge, before the fake camera's file loops back to the blank view
TIMEOUT_MS = 15_000
QUIET_SECONDS = 1.0  # a load is over when the server has had no request for this long

# Runs in every page before its scripts: the two moments, on the page's clock (performance.now()).
# The badge's first frame is told by its pixels (a 32x24 copy, darker than the blank white view):
# the fake camera's mediaTime runs a frame ahead of the file (its first frame has 0.1 s), so
# "mediaTime >= the blank part" picked the last blank frame. Its mediaTime is kept, as a check.
WATCH = """
(() => {
  window.__scan = {badgeAt: null, badgeMediaTime: null, connectedAt: null, sawBlank: false, invalid: false};
  document.addEventListener("DOMContentLoaded", () => {
    const video = document.querySelector(".scanner-video");
    const outcome = document.getElementById("scan-outcome");
    if (!video || !outcome) return;
    const canvas = document.createElement("canvas");
    canvas.width = 32;
    canvas.height = 24;
    const picture = canvas.getContext("2d", {willReadFrequently: true});
    const frame = (now, meta) => {
      picture.drawImage(video, 0, 0, 32, 24);
      const pixels = picture.getImageData(0, 0, 32, 24).data;
      let sum = 0;
      for (let i = 0; i < pixels.length; i += 4) sum += pixels[i];
      if (sum / (pixels.length / 4) < 250) {
        // The badge counts as entering only after a blank view: a camera that starts mid-badge
        // (the fake one sometimes does) makes no sample.
        window.__scan.invalid = !window.__scan.sawBlank;
        window.__scan.badgeAt = meta.presentationTime;
        window.__scan.badgeMediaTime = meta.mediaTime;
      } else {
        window.__scan.sawBlank = true;
        video.requestVideoFrameCallback(frame);
      }
    };
    video.requestVideoFrameCallback(frame);
    new MutationObserver(() => {
      if (outcome.dataset.state === "connected" && window.__scan.connectedAt === null) {
        window.__scan.connectedAt = performance.now();
      }
    }).observe(outcome, {attributes: true, attributeFilter: ["data-state"]});
  });
})();
"""


# The page's own share (its document and what it fetched), as the browser counts it: the rest of
# what the server wrote was asked for by the service worker.
PAGE_BYTES = """[...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")]
    .reduce((sum, entry) => sum + entry.transferSize, 0)"""


class Meter:
    """WSGI middleware: the bytes of every response the server writes (status line, headers,
    body), as they cross the network, and what a static file's body would have been without
    gzip (its size on disk)."""

    def __init__(self, app, static_folder):
        self.app, self.static, self.lock = app, Path(static_folder), threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.responses, self.busy, self.last = [], 0, time.monotonic()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        sizes = {"head": 0, "body": 0, "gzip": False}

        def counting_start(status, headers, exc_info=None):
            # What werkzeug writes: the status line, each header, its Server and Date, a blank line.
            sizes["head"] = len(f"HTTP/1.1 {status}\r\n") + sum(len(f"{k}: {v}\r\n") for k, v in headers) + 80
            sizes["gzip"] = any(k.lower() == "content-encoding" and v == "gzip" for k, v in headers)
            return start_response(status, headers, exc_info)

        with self.lock:
            self.busy += 1
        try:
            body = self.app(environ, counting_start)
            try:
                for chunk in body:
                    sizes["body"] += len(chunk)
                    yield chunk
            finally:
                if hasattr(body, "close"):
                    body.close()
        finally:
            plain = sizes["body"]
            if sizes["gzip"] and path.startswith("/static/"):
                plain = (self.static / static_files.split(path[len("/static/"):])[0]).stat().st_size
            with self.lock:
                self.responses.append((path, sizes["head"] + sizes["body"], sizes["head"] + plain))
                self.busy -= 1
                self.last = time.monotonic()

    def wait_quiet(self, page, timeout=15):
        """Until nothing has been asked for QUIET_SECONDS (the worker's precache included)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            page.wait_for_timeout(200)
            with self.lock:
                if not self.busy and time.monotonic() - self.last >= QUIET_SECONDS:
                    return
        raise TimeoutError("the page kept asking for more")

    def take(self):
        """[(path, bytes written, bytes it would have been without gzip)] since the last reset."""
        with self.lock:
            return list(self.responses)


def build(tmp):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite3", "SECRET_KEY": "bench",
                      "RATELIMIT_ENABLED": False, "CHANGELOG_LEVEL": "WARNING"}, instance_path=f"{tmp}/instance")
    with app.app_context():
        db.create_all()
    return app


def seed(app, scanners):
    """An open event, the person whose badge the camera shows, and `scanners` people who scan it;
    returns (the badge's token, each scanner's sign-in path), with spares for spoilt samples."""
    with app.app_context():
        organizer = organizers.create_organizer("bench@example.org", "benchmark password")
        event = events.create_event(organizer, name="Bench night", starts_at=datetime(2026, 11, 26, 19),
                                    prompts=("Ask me about",))
        events.set_status(organizer, event.public_id, "open")

        def join(name):
            return people.join_event(event, Profile(name=name, headline="Benchmarks", contacts={}, shared={},
                                                    answers=(("Ask me about", "Fast scanners"),)))
        ada = join("Ada Okafor")
        return ada.badge_token, [f"/signin/{people.issue_signin_secret(join(f'Scanner {i}'))}"
                                 for i in range(2 * scanners + 1)]


def wait_for(page, expression, timeout=TIMEOUT_MS):
    """Poll `expression` (evaluate is not subject to the page's strict CSP, wait_for_function is):
    the moments are noted by the page itself, so how often this asks does not change them."""
    deadline = time.monotonic() + timeout / 1000
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise TimeoutError(f"not true in time: {expression}")
        page.wait_for_timeout(50)


def sign_in(context, base, path):
    """Through the context's own cookie jar, without loading a page (nothing warms its cache)."""
    page = context.request.get(base + path).text()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    assert context.request.post(base + path, form={"csrf_token": token}).ok


def scanned(page):
    """After a first visit to /scan, in ms: from the first badge frame presented to "connected"
    ("total"), split into reading it (to the scan's POST leaving) and connecting (the POST's
    answer and the card drawn); the wasm's lead on the badge; which reader ran ("reader").
    None if the camera showed no blank view before the badge."""
    wait_for(page, "window.__scan.connectedAt !== null && window.__scan.badgeAt !== null")
    seen = page.evaluate("window.__scan")
    if seen["invalid"]:
        return None
    # A badge frame of the file's first pass. The fake camera's mediaTime is the file's time give
    # or take a frame (its first frames have 0.1 s or so), and a busy page may skip frames: the
    # mediaTime of the frame found is printed, to see how late after the blank part it came.
    assert BLANK_SECONDS - 1.5 / FPS < seen["badgeMediaTime"] < BLANK_SECONDS + BADGE_SECONDS, seen
    timing = page.evaluate("""() => {
      const entries = performance.getEntriesByType("resource");
      const wasm = entries.find(e => e.name.endsWith(".wasm"));
      const post = entries.find(e => e.name.endsWith("/api/v1/scans"));
      return {wasm: wasm ? wasm.responseEnd : null, post: post ? post.startTime : null};
    }""")
    return {"total": seen["connectedAt"] - seen["badgeAt"], "media time": seen["badgeMediaTime"] * 1000,
            "reading": timing["post"] - seen["badgeAt"] if timing["post"] else None,
            "connecting": seen["connectedAt"] - timing["post"] if timing["post"] else None,
            "wasm lead": seen["badgeAt"] - timing["wasm"] if timing["wasm"] else None,
            "reader": page.get_attribute("#scanner", "data-reader")}


def scan_once(browser, base, signin_path):
    """One scanner's first visit to /scan, in a fresh context: what `scanned` tells."""
    context = browser.new_context(**PHONE)
    try:
        context.add_init_script(WATCH)
        sign_in(context, base, signin_path)
        page = context.new_page()
        page.goto(base + "/scan")
        return scanned(page)
    finally:
        context.close()


def loads(browser, base, meter, signin_path):
    """A scanner's first visit to /scan in a fresh context (a scan like scan_once's, timed too)
    and the next visit, each until the server has been quiet: (what `scanned` tells of the
    first, [(responses, the bytes the page itself was sent, by its Resource Timing)] of each)."""
    context = browser.new_context(**PHONE)
    try:
        context.add_init_script(WATCH)
        sign_in(context, base, signin_path)
        page = context.new_page()
        measured, first = [], None
        for _ in range(2):
            meter.reset()
            page.goto(base + "/scan")
            if first is None:
                first = scanned(page)
            wait_for(page, "window.__scan.connectedAt !== null")
            page.evaluate("navigator.serviceWorker.ready.then(() => true)")
            meter.wait_quiet(page)
            measured.append((meter.take(), page.evaluate(PAGE_BYTES)))
        assert page.evaluate("navigator.serviceWorker.controller !== null"), "the worker did not serve the second visit"
        return first, measured
    finally:
        context.close()


def kb(responses, column=1):
    return sum(row[column] for row in responses) / 1024


def largest(responses, count):
    return ", ".join(f"{path.rsplit('/', 1)[-1]} {size / 1024:.1f}"
                     for path, size, _ in sorted(responses, key=lambda row: -row[1])[:count])


def main(scanners=SCANNERS):
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    with tempfile.TemporaryDirectory() as tmp:
        app = build(tmp)
        ada, signins = seed(app, scanners)
        meter = Meter(app.wsgi_app, app.static_folder)
        app.wsgi_app = meter
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        base = f"http://127.0.0.1:{server.server_port}"
        blank = Image.new("RGB", (WIDTH, HEIGHT), "white")
        # Each picture lasts a second (FPS frames): BLANK_SECONDS of an empty view, then the badge.
        video = write_y4m(Path(tmp) / "camera.y4m", *[blank] * BLANK_SECONDS,
                          *[badge_picture(base, ada)] * BADGE_SECONDS, frames=FPS)
        started = time.monotonic()
        try:
            with sync_playwright() as playwright:
                # A Chromium per scanner: each starts the fake camera's file afresh. Now and then
                # its first frame is the badge anyway; that sample is spoilt, the next scanner's counts.
                def camera():
                    return playwright.chromium.launch(executable_path=CHROMIUM, args=[
                        *CHROMIUM_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                        f"--use-file-for-fake-video-capture={video}"])
                runs, spoilt = [], 0
                for number, path in enumerate(signins):
                    if len(runs) == scanners:
                        break
                    browser = camera()
                    try:
                        if number == 0:
                            run, (cold, warm) = loads(browser, base, meter, path)
                        else:
                            run = scan_once(browser, base, path)
                    finally:
                        browser.close()
                    if run is None:
                        spoilt += 1  # the next scanner tries again
                    else:
                        runs.append(run)
        finally:
            server.shutdown()
            server.server_close()
            with app.app_context():
                db.engine.dispose()

        samples = [run["total"] for run in runs]
        readers = sorted({run["reader"] for run in runs})
        print(f"The in-page scanner in headless Chromium: {len(runs)} scanners, each a new connection, "
              f"{', '.join(readers)} reader ({time.monotonic() - started:.0f} s in all; {spoilt} spoilt samples "
              "retried: the camera started mid-badge)")
        print(f"{'ms':<46}{'median':>8}{'min':>7}{'max':>7}")
        for label, key in (("badge in view -> connected on screen", "total"),
                           ("  of which reading (to the POST leaving)", "reading"),
                           ("  of which connecting (POST, card drawn)", "connecting"),
                           ("the wasm had arrived before the badge by", "wasm lead"),
                           (f"the badge frame's mediaTime (file: {BLANK_SECONDS * 1000} on)", "media time")):
            values = [run[key] for run in runs if run[key] is not None]
            if values:
                print(f"{label:<46}{statistics.median(values):>8.0f}{min(values):>7.0f}{max(values):>7.0f}")
        print("  each, ms: " + " ".join(f"{ms:.0f}" for ms in samples))
        print(f"{'load of /scan':<46}{'KB':>8}{'no gzip':>9}{'requests':>10}{'page KB':>9}")
        for label, (rows, own) in (("cold (fresh context; the worker installs)", cold),
                                   ("warm (second visit; the worker's cache)", warm)):
            print(f"{label:<46}{kb(rows):>8.1f}{kb(rows, 2):>9.1f}{len(rows):>10}{own / 1024:>9.1f}")
        cold, warm = cold[0], warm[0]
        print(f"  cold, largest (KB): {largest(cold, 5)}")
        print(f"  warm, all (KB): {largest(warm, len(warm))}")
        print("(KB: bodies and headers the server wrote, the service worker's requests included; 'no gzip': the same\n"
              " with static files uncompressed; page KB: the page's own share, by its Resource Timing transferSize)")


if __name__ == "__main__":
    main()
