"""Offline first in a real browser: the service worker keeps the badge, the scanner and the
follow-up list for the signed-in person; scans made offline wait in the queue (IndexedDB) and
record exactly once when they are sent, however often and from however many tabs.

The network is cut with Playwright's context.set_offline(True), which the worker's own fetches
obey too. Scans are counted in the database, not on the page."""
import json
import re
import time
import uuid
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from kithmeet.connections.models import Connection, Scan
from kithmeet.extensions import db
from kithmeet.people import services as people
from kithmeet.people.device import owner_key
from kithmeet import static_files
from kithmeet.security import CSP

from .support import PHONE, image_loaded, sign_in_as

pytestmark = pytest.mark.browser

UNKNOWN_BADGE = "ZZZZZZZZZZZ"  # a well-formed code nobody has
OFFLINE_PAGE = '[data-state="offline-page"]'


def wait_until(page, script, arg=None, timeout=10):
    """Poll `script` (a function that may return a promise: wait_for_function would take the
    promise itself for a true answer) until it gives a true value."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(script, arg):
        assert time.monotonic() < deadline, f"still false after {timeout} s: {script}"
        time.sleep(0.1)


def settled(page):
    """Wait until the queue of the signed-in person is empty (sent, or refused and listed)."""
    wait_until(page, "() => window.kithmeetQueue.pending().then(count => count === 0)")


def controlled(page):
    """Wait until the service worker is installed (shell precached) and controls the page. A page
    whose load began before the worker was active stays uncontrolled: it is loaded again."""
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    if not page.evaluate("() => navigator.serviceWorker.controller !== null"):
        page.reload()
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", polling=100)


def kept(page, path):
    """Wait until the worker keeps a copy of `path` for the signed-in person."""
    wait_until(page, """path => caches.keys().then(names => {
        const own = names.filter(name => name.startsWith("kithmeet-pages-"));
        return own.length === 1 && caches.open(own[0]).then(cache => cache.match(path)).then(Boolean);
    })""", path)


def copies(page):
    """{cache name: [paths]} of every person's copies on this phone."""
    return page.evaluate("""() => caches.keys().then(names => Promise.all(names
        .filter(name => name.startsWith("kithmeet-pages-"))
        .map(name => caches.open(name).then(cache => cache.keys())
            .then(requests => [name, requests.map(r => new URL(r.url).pathname).sort()]))))
        .then(Object.fromEntries)""")


def pending(page):
    return page.evaluate("window.kithmeetQueue.pending()")


def queued_entries(page):
    """The queue's raw entries (IndexedDB), as a replayed or second copy would carry them."""
    return page.evaluate("""() => new Promise((resolve, reject) => {
        const open = indexedDB.open("kithmeet-queue");
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
            const read = open.result.transaction("scans").objectStore("scans").getAll();
            read.onsuccess = () => { open.result.close(); resolve(read.result); };
        };
    })""")


def put_entries(page, entries):
    page.evaluate("""entries => window.kithmeetQueue.pending().then(() => new Promise((resolve, reject) => {
        const open = indexedDB.open("kithmeet-queue");
        open.onsuccess = () => {
            const tx = open.result.transaction("scans", "readwrite");
            entries.forEach(entry => tx.objectStore("scans").put(entry));
            tx.oncomplete = () => { open.result.close(); resolve(); };
            tx.onerror = () => reject(tx.error);
        };
    }))""", entries)


def scan_counts(app, scanner_token):
    """(Scan rows made by the badge's owner, connections they are in)."""
    with app.app_context():
        person = people.person_by_badge(scanner_token)
        scans = db.session.scalar(select(func.count(Scan.id)).where(Scan.scanner_id == person.id))
        links = db.session.scalar(select(func.count(Connection.id)).where(
            (Connection.person_a_id == person.id) | (Connection.person_b_id == person.id)))
        return scans, links


def owner_of(app, badge_token):
    with app.app_context():
        return owner_key(people.person_by_badge(badge_token))


def grouped(token):
    return " ".join(token[i:i + 4] for i in range(0, len(token), 4))


def net_errors_only(errors):
    """The context's console errors, less the failed loads of a cut network (expected offline)."""
    return [error for error in errors if "ERR_INTERNET_DISCONNECTED" not in error]


@pytest.fixture
def night(live_server, seed):
    """An open event where Ada and three others joined: (Ada's badge, her sign-in path, the others' badges)."""
    _, code = seed.event()
    ada, ada_signin = seed.person(code, "Ada Okafor", answers=["Scaling Flask apps"])
    others = [seed.person(code, name)[0] for name in ("Bo Lindqvist", "Chen Wei", "Dara Nwosu")]
    return ada, ada_signin, others


def ada_phone(new_context, live_server, signin):
    """Ada signed in on her phone, its service worker in control."""
    context = new_context(**PHONE)
    page = context.new_page()
    sign_in_as(page, live_server.url, signin)  # lands on /badge
    controlled(page)
    return context, page


def test_the_badge_page_is_served_offline_with_its_qr(live_server, night, new_context):
    ada, signin, (bo, *_) = night
    context, page = ada_phone(new_context, live_server, signin)
    src = page.locator("img.badge-qr").get_attribute("src")
    kept(page, "/badge")
    kept(page, src)
    page.goto(f"{live_server.url}/B/{bo}")  # someone else's card, and the API: never kept
    assert page.evaluate("() => fetch('/api/v1/me').then(response => response.status)") == 200

    context.set_offline(True)
    response = page.goto(live_server.url + "/badge")
    assert response.from_service_worker
    assert response.headers["content-security-policy"] == CSP  # the page's own strict policy comes along
    expect(page.locator("html")).to_have_attribute("data-offline-copy", re.compile(r"^\d{4}-\d\d-\d\dT"))
    expect(page.locator('[data-state="offline-copy"]')).to_contain_text("You're offline — this is your badge as last seen at")
    assert image_loaded(page.locator("img.badge-qr"))
    expect(page.get_by_role("heading", name="Ada Okafor")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out on this device")).to_be_disabled()

    # Only her own pages were kept: not the other person's card, nothing from the API.
    [(name, paths)] = copies(page).items()
    assert name == "kithmeet-pages-" + owner_of(live_server.app, ada)
    assert set(paths) <= {"/", "/badge", "/scan", "/followup", src}, paths
    page.goto(f"{live_server.url}/B/{bo}")
    expect(page.locator(OFFLINE_PAGE)).to_be_visible()
    assert net_errors_only(new_context.errors) == []


def test_the_followup_list_offline_is_the_last_copy_marked_read_only(live_server, night, seed, new_context):
    ada, signin, (bo, chen, _) = night
    seed.connect(ada, bo, talked_about="Offline-first apps")
    context, page = ada_phone(new_context, live_server, signin)
    page.goto(live_server.url + "/followup")
    expect(page.get_by_text("Bo Lindqvist")).to_be_visible()
    kept(page, "/followup")
    seed.connect(chen, ada)  # made after the copy: the copy does not know it

    context.set_offline(True)
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-offline-copy", re.compile("."))
    note = page.locator('[data-state="offline-copy"]')
    expect(note).to_have_text(re.compile(r"^You're offline — this is your list as last seen at \d\d?:\d\d"))
    expect(page.get_by_text("Bo Lindqvist")).to_be_visible()
    expect(page.get_by_text("Chen Wei")).to_have_count(0)
    forms = page.locator('form[data-offline="read-only"]')
    assert forms.count() >= 1
    assert page.locator("main input:enabled, main button:enabled, main select:enabled").count() == 0

    # A page never kept (one connection's) is the offline page, not an error.
    page.goto(live_server.url + "/followup/nothere")
    expect(page.locator(OFFLINE_PAGE)).to_be_visible()

    context.set_offline(False)  # back online: the copy gives way to the page itself
    page.goto(live_server.url + "/followup")
    expect(page.get_by_text("Chen Wei")).to_be_visible()
    expect(page.locator("html")).not_to_have_attribute("data-offline-copy", re.compile("."))


def test_signing_out_drops_the_copies_but_a_queue_waits_for_its_owner(live_server, night, seed, new_context):
    ada, signin, (bo, *_) = night
    context, page = ada_phone(new_context, live_server, signin)
    kept(page, "/badge")
    # A scan Ada saved that can't be sent yet (the API unreachable) when she signs out.
    context.route("**/api/v1/scans", lambda route: route.abort())
    waiting = {"client_id": str(uuid.uuid4()), "owner": owner_of(live_server.app, ada), "badge": bo,
               "talked_about": "", "scanned_at": "2026-11-26T19:40:00.000Z", "added_at": "2026-11-26T19:40:00.000Z"}
    put_entries(page, [waiting])
    page.reload()
    expect(page.locator("[data-queue-status]")).to_have_text("1 scan waiting to sync")
    page.get_by_role("button", name="Sign out on this device").click()
    page.wait_for_url(live_server.url + "/")
    wait_until(page, """() => caches.keys().then(names =>
        !names.some(name => name.startsWith("kithmeet-pages-")))""")
    assert [entry["client_id"] for entry in queued_entries(page)] == [waiting["client_id"]]
    context.unroute("**/api/v1/scans")

    # Bo signs in on the same phone: Ada's scan is not his to send, nor to count.
    sign_in_as(page, live_server.url, seed.signin_path(bo))
    assert pending(page) == 0
    assert page.evaluate("window.kithmeetQueue.flush()") == {"synced": 0, "refused": 0, "kept": 0}
    assert [entry["client_id"] for entry in queued_entries(page)] == [waiting["client_id"]]
    assert scan_counts(live_server.app, ada) == (0, 0)
    context.set_offline(True)
    page.goto(live_server.url + "/followup")  # no copy of anyone's list: the offline page, never Ada's
    expect(page.locator(OFFLINE_PAGE)).to_be_visible()

    # Ada back on her phone: her scan goes, once.
    context.set_offline(False)
    page.goto(live_server.url + "/badge")
    page.get_by_role("button", name="Sign out on this device").click()
    page.wait_for_url(live_server.url + "/")
    sign_in_as(page, live_server.url, seed.signin_path(ada))
    settled(page)
    assert scan_counts(live_server.app, ada) == (1, 1)


def scanner(live_server, page):
    page.goto(live_server.url + "/scan")
    expect(page.locator("#scanner")).to_have_attribute("data-ready", "1")
    kept(page, "/scan")


def type_code(page, code):
    page.get_by_role("textbox", name="Badge code").fill(code)
    page.get_by_role("button", name="Connect").click()


def test_three_scans_offline_sync_once_even_sent_again(live_server, night, new_context):
    ada, signin, others = night
    context, page = ada_phone(new_context, live_server, signin)
    scanner(live_server, page)
    context.set_offline(True)
    page.reload()  # the scanner's copy, still working: its scans go to the queue
    expect(page.locator('[data-state="offline-live"]')).to_be_visible()
    for number, badge in enumerate(others, start=1):
        type_code(page, grouped(badge))
        expect(page.locator("#scan-outcome")).to_have_text("Saved — will connect when you're back online")
        expect(page.locator("[data-queue-status]")).to_have_text(
            "1 scan waiting to sync" if number == 1 else f"{number} scans waiting to sync")
    assert pending(page) == 3
    entries = queued_entries(page)
    assert sorted(entry["badge"] for entry in entries) == sorted(others)
    assert scan_counts(live_server.app, ada) == (0, 0)

    context.set_offline(False)  # the `online` event sends the queue
    settled(page)
    expect(page.locator("[data-queue-status]")).to_have_text("")
    assert scan_counts(live_server.app, ada) == (3, 3)

    # The same queue sent again (a restored copy, a retry after a lost answer): nothing new.
    put_entries(page, entries)
    assert pending(page) == 3
    result = page.evaluate("window.kithmeetQueue.flush()")
    assert result == {"synced": 3, "refused": 0, "kept": 0}
    assert scan_counts(live_server.app, ada) == (3, 3)
    assert net_errors_only(new_context.errors) == []


def test_two_tabs_sending_at_once_send_each_scan_once(live_server, night, new_context):
    ada, signin, others = night
    context, first = ada_phone(new_context, live_server, signin)
    second = context.new_page()
    second.goto(live_server.url + "/followup")
    posts = []
    context.on("request", lambda request: request.method == "POST" and request.url.endswith("/api/v1/scans")
               and posts.append(request.url))
    context.set_offline(True)
    for badge in others:
        first.evaluate("badge => window.kithmeetQueue.add({badge, client_id: crypto.randomUUID(),"
                       " scanned_at: new Date().toISOString()})", badge)
    expect(second.locator("[data-queue-status]")).to_have_text("3 scans waiting to sync")  # the other tab knows

    # Back online: both tabs' `online` handlers (and the worker's Background Sync, where it
    # fires) send at once; and both tabs are told to again, without waiting for each other.
    context.set_offline(False)
    for page in (first, second):
        page.evaluate("() => { window.sending = window.kithmeetQueue.flush(); }")
    results = [page.evaluate("window.sending") for page in (first, second)]
    for page in (first, second):
        settled(page)
    assert scan_counts(live_server.app, ada) == (3, 3)
    assert len(posts) == 3, posts  # one sender at a time: each scan went once
    assert sum(result["refused"] + result["kept"] for result in results) == 0


def test_scans_refused_at_sync_are_listed_not_dropped(live_server, night, new_context):
    ada, signin, (bo, *_) = night
    context, page = ada_phone(new_context, live_server, signin)
    scanner(live_server, page)
    context.set_offline(True)
    for number, code in enumerate((ada, UNKNOWN_BADGE, bo), start=1):  # her own, nobody's, a good one
        type_code(page, code)
        expect(page.locator("#scan-outcome")).to_have_text("Saved — will connect when you're back online")
        expect(page.locator("[data-queue-status]")).to_have_text(re.compile(rf"^{number} scans? waiting"))
    context.set_offline(False)
    settled(page)
    refused = page.locator("[data-queue-refused]")
    expect(refused).to_be_visible()
    expect(refused.get_by_role("heading")).to_have_text("2 saved scans didn't connect")
    codes = refused.locator("li").evaluate_all("items => items.map(item => item.dataset.code)")
    assert sorted(codes) == ["self_scan", "unknown_badge"]
    expect(refused).to_contain_text(grouped(UNKNOWN_BADGE))
    assert scan_counts(live_server.app, ada) == (1, 1)

    page.goto(live_server.url + "/")  # the home page lists them too, until dismissed
    expect(page.locator("[data-queue-refused] li")).to_have_count(2)
    page.get_by_role("button", name="Dismiss").click()
    expect(page.locator("[data-queue-refused]")).to_be_hidden()
    page.reload()
    expect(page.locator("[data-queue-refused]")).to_be_hidden()


def test_the_worker_s_fetch_ahead_says_so(live_server, night, new_context):
    """The badge and scanner fetched ahead carry the header that keeps a flash for the next page
    (what the server does with it: tests/test_offline.py)."""
    ada, signin, _ = night
    warm = []
    context = new_context(**PHONE)
    context.on("request", lambda request: request.service_worker and urlsplit(request.url).path == "/scan"
               and warm.append(request.headers.get("x-kithmeet-warm")))
    page = context.new_page()
    sign_in_as(page, live_server.url, signin)  # lands on /badge, which asks the worker to fetch /scan
    kept(page, "/scan")
    assert warm == ["1"]


@pytest.mark.parametrize("status", [409, 400])
def test_a_scan_that_lost_a_race_stays_queued(live_server, night, new_context, status):
    """`conflict` (another write won, e.g. Ada's Undo of the scan this one meets) is "try again",
    like a 5xx or a 429: the scan waits for the next send, it is not listed as refused."""
    ada, signin, (bo, *_) = night
    context, page = ada_phone(new_context, live_server, signin)
    lost = json.dumps({"error": {"code": "conflict", "message": "That could not be saved; try again."}})
    context.route("**/api/v1/scans", lambda route: route.fulfill(status=status, content_type="application/json",
                                                                  body=lost))
    entry = {"client_id": str(uuid.uuid4()), "owner": owner_of(live_server.app, ada), "badge": bo,
             "talked_about": "", "scanned_at": "2026-11-26T19:40:00.000Z", "added_at": "2026-11-26T19:40:00.000Z"}
    put_entries(page, [entry])
    assert page.evaluate("window.kithmeetQueue.flush()") == {"synced": 0, "refused": 0, "kept": 1}
    assert pending(page) == 1 and page.evaluate("window.kithmeetQueue.refused()") == []
    assert scan_counts(live_server.app, ada) == (0, 0)

    context.unroute("**/api/v1/scans")  # the race is over: the next send records it, once
    assert page.evaluate("window.kithmeetQueue.flush()") == {"synced": 1, "refused": 0, "kept": 0}
    assert scan_counts(live_server.app, ada) == (1, 1)


def test_a_page_kept_from_before_a_deploy_gets_today_s_static_files_offline(live_server, night, new_context):
    _, signin, _ = night
    context, page = ada_phone(new_context, live_server, signin)
    current = page.locator('link[href^="/static/css/app."]').get_attribute("href")
    stale = re.sub(r"\.[0-9a-f]{12}\.css$", ".000000000000.css", current)  # as a copy kept before a deploy names it
    assert stale != current
    context.set_offline(True)
    answer = page.evaluate("""url => fetch(url).then(response => response.text().then(text =>
        [response.status, response.headers.get("content-type"), text.length]))""", stale)
    assert answer[0] == 200 and answer[1].startswith("text/css") and answer[2] > 1000


INSTALLED = """() => navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(registration => {
    const worker = registration.installing || registration.waiting || registration.active;
    const done = () => worker.state === "redundant" || worker.state === "activated";
    return done() ? worker.state : new Promise(resolve => worker.addEventListener("statechange", () => {
        if (done()) resolve(worker.state);
    }));
})"""


def test_the_worker_installs_only_from_a_server_that_has_this_release_s_files(live_server, night, new_context,
                                                                              monkeypatch):
    _, signin, _ = night
    real_split = static_files.split

    def behind(filename):
        # A server not yet deployed, in a rolling deploy: it knows the stylesheet by another
        # hash, so it answers the name today's pages link with its own file, marked stale.
        plain, fingerprint = real_split(filename)
        return (plain, "000000000000" if fingerprint and plain == "css/app.css" else fingerprint)

    monkeypatch.setattr(static_files, "split", behind)
    context = new_context(**PHONE)
    page = context.new_page()
    sign_in_as(page, live_server.url, signin)
    assert page.evaluate(INSTALLED) == "redundant"  # the install failed...
    assert page.evaluate("() => navigator.serviceWorker.controller") is None
    # ...before it kept anything: no shell under the stylesheet's name holding other bytes.
    assert page.evaluate("() => caches.keys()") == []
    monkeypatch.undo()  # the files are there now: the next visit installs it
    page.reload()
    assert page.evaluate(INSTALLED) == "activated"
    controlled(page)
    assert not net_errors_only(new_context.errors)
