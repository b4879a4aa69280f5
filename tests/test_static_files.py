"""Static files by fingerprinted names (kithmeet/static_files.py): pages link
`/static/<dir>/<name>.<hash>.<ext>`, the hash being the content's; that path is cached for a
year, the plain one still works with short caching, both gzip-compressed as before, and neither
reads the session."""
import gzip
import hashlib
import os
import re
from pathlib import Path

import pytest
from flask import url_for

from kithmeet import static_files
from kithmeet.static_files import STALE_HEADER

STATIC = Path(__file__).resolve().parent.parent / "static"
IMMUTABLE = "public, max-age=31536000, immutable"
GZIP = {"Accept-Encoding": "gzip"}
LINK = re.compile(r'(?:src|href|data-[a-z]+)="(/static/[^"]+)"')


def digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def get(client, path, headers=None):
    response = client.get(path, headers=headers or {})
    response.get_data()
    response.close()
    return response


@pytest.fixture
def own_static(app, tmp_path, monkeypatch):
    """The app serving static files from a folder of the test's own, to write and change files in
    (and see a change at once, as a page does NAME_RECHECK_SECONDS after a deploy)."""
    monkeypatch.setattr(static_files, "NAME_RECHECK_SECONDS", 0)
    folder = tmp_path / "static"
    (folder / "js").mkdir(parents=True)
    app.static_folder = str(folder)
    return folder


def linked(app, filename):
    with app.test_request_context():
        return url_for("static", filename=filename)


def test_pages_link_every_static_file_by_its_content_hash(client, make_event, make_person, signed_in):
    event = make_event()
    pages = [client.get("/").get_data(as_text=True), signed_in(make_person(event=event)).get("/scan").get_data(
        as_text=True)]
    links = {link for html in pages for link in LINK.findall(html)}
    assert {"css/app", "js/app", "js/camera", "js/scanner", "vendor/barcode-detector/zxing_reader"} <= {
        link.removeprefix("/static/").split(".")[0] for link in links}
    for link in links:
        match = re.fullmatch(r"/static/(?P<stem>.+)\.(?P<hash>[0-9a-f]{12})(?P<ext>\.[a-z]+)", link)
        assert match, link
        assert match["hash"] == digest(STATIC / (match["stem"] + match["ext"])), link


@pytest.mark.parametrize("name", ["css/app.css", "js/scanner.js", "favicon.svg", "icons/icon-192.png",
                                  "vendor/barcode-detector/zxing_reader.wasm"])
def test_a_fingerprinted_path_is_cached_for_a_year(app, client, name):
    path = linked(app, name)
    assert path != f"/static/{name}"
    plain = get(client, path)
    assert plain.status_code == 200 and plain.headers["Cache-Control"] == IMMUTABLE
    assert plain.get_data() == (STATIC / name).read_bytes()
    compressed = get(client, path, GZIP)
    assert compressed.headers["Cache-Control"] == IMMUTABLE
    if name.endswith((".css", ".js", ".svg", ".wasm")):  # what static_compression shrinks
        assert compressed.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(compressed.get_data()) == (STATIC / name).read_bytes()
    for held in (plain, compressed):
        again = get(client, path, {**({} if held is plain else GZIP), "If-None-Match": held.headers["ETag"]})
        assert again.status_code == 304 and again.headers["Cache-Control"] == IMMUTABLE


def test_the_plain_path_still_works_with_short_caching(client):
    plain = get(client, "/static/css/app.css")
    assert plain.status_code == 200 and plain.get_data() == (STATIC / "css" / "app.css").read_bytes()
    assert plain.headers["Cache-Control"] == "no-cache"  # asked again each time, answered 304 while unchanged
    assert get(client, "/static/css/app.css", {"If-None-Match": plain.headers["ETag"]}).status_code == 304
    compressed = get(client, "/static/css/app.css", GZIP)
    assert compressed.headers["Content-Encoding"] == "gzip" and compressed.headers["Cache-Control"] == "no-cache"
    assert get(client, "/static/css/app.css", {**GZIP, "If-None-Match": compressed.headers["ETag"]}).status_code == 304


def test_a_changed_file_gets_a_new_name_and_the_old_name_is_never_promised_for_a_year(app, client, own_static):
    script = own_static / "js" / "tool.js"
    script.write_text("console.log('first');\n")
    first = linked(app, "js/tool.js")
    assert first == f"/static/js/tool.{digest(script)}.js"
    assert linked(app, "js/tool.js") == first  # the same content, the same name

    script.write_text("console.log('second, longer');\n")  # a deploy: new bytes, size and mtime
    os.utime(script, ns=(script.stat().st_atime_ns, script.stat().st_mtime_ns + 10**9))
    second = linked(app, "js/tool.js")
    assert second == f"/static/js/tool.{digest(script)}.js" and second != first
    assert get(client, second).headers["Cache-Control"] == IMMUTABLE
    assert STALE_HEADER not in get(client, second).headers
    # A page from before the deploy still gets the file, but marked as not the bytes its name
    # promises, and kept by nobody (the service worker refuses to install from it).
    for path in (first, "/static/js/tool.000000000000.js"):
        old = get(client, path)
        assert old.status_code == 200 and old.get_data() == script.read_bytes()
        assert old.headers["Cache-Control"] == "no-store" and old.headers[STALE_HEADER] == "1"
        compressed = get(client, path, GZIP)  # static_compression's answer is marked the same
        assert compressed.headers["Cache-Control"] == "no-store" and compressed.headers[STALE_HEADER] == "1"
    assert get(client, "/static/js/missing.0123456789ab.js").status_code == 404
    assert STALE_HEADER not in get(client, "/static/js/tool.js").headers  # the plain name promises nothing


def test_a_file_is_hashed_once_until_it_changes(app, own_static, monkeypatch):
    hashed = []
    real = hashlib.file_digest
    monkeypatch.setattr(hashlib, "file_digest", lambda file, name: hashed.append(file.name) or real(file, name))
    script = own_static / "js" / "once.js"
    script.write_text("1;\n")
    for _ in range(3):
        linked(app, "js/once.js")
    assert len(hashed) == 1
    script.write_text("22;\n")
    linked(app, "js/once.js")
    assert len(hashed) == 2


def test_a_page_links_a_changed_file_by_its_new_name_once_the_recheck_interval_passed(app, own_static, monkeypatch):
    monkeypatch.setattr(static_files, "NAME_RECHECK_SECONDS", 2.0)
    clock = [1000.0]
    monkeypatch.setattr(static_files, "_clock", lambda: clock[0])
    looked = []
    real = static_files.fingerprinted
    monkeypatch.setattr(static_files, "fingerprinted", lambda *key: looked.append(key) or real(*key))
    script = own_static / "js" / "tool.js"
    script.write_text("1;\n")
    first = linked(app, "js/tool.js")
    script.write_text("22;\n")
    clock[0] += 1.9
    assert linked(app, "js/tool.js") == first and len(looked) == 1  # within the interval: not looked at
    clock[0] += 0.1
    assert linked(app, "js/tool.js") == f"/static/js/tool.{digest(script)}.js" != first
    assert len(looked) == 2


@pytest.mark.parametrize("name", ["js/missing.js", "LICENSE", "../app.py", "js/"])
def test_names_without_a_file_or_an_extension_stay_as_they_are(app, own_static, name):
    (own_static / "LICENSE").write_text("text")
    assert linked(app, name) == f"/static/{name}"


def test_a_static_file_reads_no_session(make_person, signed_in, count_queries, app):
    client = signed_in(make_person())
    paths = [linked(app, "css/app.css"), "/static/css/app.css", "/static/js/missing.js"]
    with count_queries() as statements:
        responses = [get(client, path) for path in paths]
    assert statements == []
    assert [response.status_code for response in responses] == [200, 200, 404]
    assert all("Cookie" not in response.headers.get("Vary", "") for response in responses)
    assert all("Set-Cookie" not in response.headers for response in responses)


def test_the_service_worker_keeps_its_own_plain_url(client, make_event):
    make_event()  # an organizer exists: the front page is shown, not the first-run setup
    html = client.get("/").get_data(as_text=True)
    assert 'data-worker="/sw.js"' in html
    assert client.get("/sw.js").status_code == 200


def built_files(folder):
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def test_static_build_writes_each_file_under_its_content_hash_and_keeps_earlier_builds(app, own_static, tmp_path):
    (own_static / "js" / "tool.js").write_text("console.log('a tool, long enough to be worth compressing');\n" * 20)
    (own_static / "css").mkdir()
    (own_static / "css" / "app.css").write_text("body { color: black; }\n")
    (own_static / "icon.png").write_bytes(b"\x89PNG not text")
    (own_static / "LICENSE").write_text("no extension: only ever linked by its plain name")
    (own_static / ".hidden.js").write_text("1;")
    destination = tmp_path / "built"
    runner = app.test_cli_runner()

    result = runner.invoke(args=["static-build", str(destination)])
    assert result.exit_code == 0, result.output
    first = built_files(destination)
    tool = (own_static / "js" / "tool.js").read_bytes()
    names = {f"js/tool.{digest(own_static / 'js' / 'tool.js')}.js", f"css/app.{digest(own_static / 'css' / 'app.css')}.css",
             f"icon.{digest(own_static / 'icon.png')}.png"}
    # The gzip copy where it is smaller: the repetitive script, not the one-line stylesheet or the image.
    assert set(first) == names | {f"js/tool.{digest(own_static / 'js' / 'tool.js')}.js.gz"}
    for name in names:
        plain = re.sub(r"\.[0-9a-f]{12}(\.[a-z]+)$", r"\1", name)
        assert first[name] == (own_static / plain).read_bytes()
        assert hashlib.sha256(first[name]).hexdigest()[:12] == name.split(".")[-2]
    assert gzip.decompress(first[f"js/tool.{digest(own_static / 'js' / 'tool.js')}.js.gz"]) == tool
    # What url_for links is exactly what was built.
    assert linked(app, "js/tool.js").removeprefix("/static/") in first

    # Run again: nothing written, nothing touched.
    stamps = {path: path.stat().st_mtime_ns for path in destination.rglob("*")}
    again = runner.invoke(args=["static-build", str(destination)])
    assert again.exit_code == 0 and "Wrote 0 files" in again.output
    assert {path: path.stat().st_mtime_ns for path in destination.rglob("*")} == stamps

    # A new release: its files join the earlier ones, which stay for old pages.
    (own_static / "js" / "tool.js").write_text("console.log('the next release');\n")
    assert runner.invoke(args=["static-build", str(destination)]).exit_code == 0
    second = built_files(destination)
    assert {name: second[name] for name in first} == first
    assert f"js/tool.{digest(own_static / 'js' / 'tool.js')}.js" in second


def test_static_build_refuses_a_folder_inside_the_static_one(app, own_static):
    result = app.test_cli_runner().invoke(args=["static-build", str(own_static / "built")])
    assert result.exit_code != 0 and not (own_static / "built").exists()
