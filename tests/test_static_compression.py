"""Static files go out gzip-compressed to clients that accept it (kithmeet/static_compression.py):
the same bytes once decompressed, a correct length and ETag, 304s and ranges still working,
and nothing changed for a client without gzip."""
import gzip
import os
import threading
from pathlib import Path

import pytest

from kithmeet import static_compression

STATIC = Path(__file__).resolve().parent.parent / "static"
WASM = "vendor/barcode-detector/zxing_reader.wasm"
GZIP = {"Accept-Encoding": "gzip, deflate, br"}


def get(client, name, headers=None, method="GET"):
    """The response with its body read, and the file closed (static files stream from an open file)."""
    response = client.open(f"/static/{name}", method=method, headers=headers or {})
    response.get_data()
    response.close()
    return response


def vary(response):
    return {value.strip().lower() for value in response.headers.get("Vary", "").split(",")}


@pytest.fixture
def own_static(app, tmp_path):
    """The app serving static files from a folder of the test's own, to write and change files in."""
    folder = tmp_path / "static"
    folder.mkdir()
    app.static_folder = str(folder)
    return folder


@pytest.mark.parametrize("name", ["js/scanner.js", "css/app.css", WASM, "favicon.svg"])
def test_a_compressible_file_goes_out_gzipped_and_decompresses_to_the_file_exactly(client, name):
    response = get(client, name, GZIP)
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    body = response.get_data()
    assert int(response.headers["Content-Length"]) == len(body)
    assert gzip.decompress(body) == (STATIC / name).read_bytes()
    assert len(body) < (STATIC / name).stat().st_size
    assert "accept-encoding" in vary(response)
    assert "Accept-Ranges" not in response.headers  # a range is of the file's own bytes, served as they are


def test_the_wasm_keeps_its_mime_type_compressed_or_not(client):
    # Browsers compile a .wasm while it downloads only when it comes as application/wasm.
    assert get(client, WASM, GZIP).mimetype == "application/wasm"
    assert get(client, WASM).mimetype == "application/wasm"


@pytest.mark.parametrize("accept", [None, "identity", "gzip;q=0", "br"])
def test_a_client_without_gzip_gets_the_file_itself(client, accept):
    response = get(client, WASM, {"Accept-Encoding": accept} if accept else {})
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers
    assert response.get_data() == (STATIC / WASM).read_bytes()
    assert int(response.headers["Content-Length"]) == (STATIC / WASM).stat().st_size
    # Said on the plain answer too, or a shared cache could hand it to everyone.
    assert "accept-encoding" in vary(response)


def test_conditional_requests_answer_304_for_each_copy(client):
    compressed, plain = get(client, WASM, GZIP), get(client, WASM)
    assert compressed.headers["ETag"] != plain.headers["ETag"]  # two representations, two strong ETags

    again = get(client, WASM, {**GZIP, "If-None-Match": compressed.headers["ETag"],
                               "If-Modified-Since": compressed.headers["Last-Modified"]})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert "accept-encoding" in vary(again)
    assert get(client, WASM, {"If-None-Match": plain.headers["ETag"]}).status_code == 304
    # A client that no longer accepts gzip holds no copy it can use: it gets the file.
    switched = get(client, WASM, {"If-None-Match": compressed.headers["ETag"]})
    assert switched.status_code == 200 and "Content-Encoding" not in switched.headers


def test_a_range_request_gets_the_files_own_bytes(client):
    response = get(client, WASM, {**GZIP, "Range": "bytes=100-199"})
    assert response.status_code == 206
    assert "Content-Encoding" not in response.headers
    assert response.get_data() == (STATIC / WASM).read_bytes()[100:200]


def test_head_tells_the_compressed_length(client):
    full = get(client, "js/scanner.js", GZIP)
    head = get(client, "js/scanner.js", GZIP, method="HEAD")
    assert head.status_code == 200 and head.get_data() == b""
    assert head.headers["Content-Encoding"] == "gzip"
    assert head.headers["Content-Length"] == full.headers["Content-Length"]


def test_images_and_files_gzip_would_not_shrink_are_sent_as_they_are(client, own_static):
    (own_static / "tiny.js").write_text(";")
    tiny = get(client, "tiny.js", GZIP)
    assert "Content-Encoding" not in tiny.headers and tiny.get_data() == b";"
    (own_static / "photo.png").write_bytes(b"\x89PNG" + b"\0" * 4000)
    photo = get(client, "photo.png", GZIP)
    assert "Content-Encoding" not in photo.headers and len(photo.get_data()) == 4004
    assert "accept-encoding" not in vary(photo)
    assert get(client, "missing.js", GZIP).status_code == 404


def test_a_file_is_compressed_once_and_again_when_it_changes(client, own_static, monkeypatch):
    made = []
    real = gzip.compress
    monkeypatch.setattr(gzip, "compress", lambda data, *args, **kwargs: made.append(len(data)) or real(
        data, *args, **kwargs))
    script = own_static / "app.js"
    script.write_text("console.log('first');\n" * 200)
    for _ in range(3):
        assert gzip.decompress(get(client, "app.js", GZIP).get_data()) == script.read_bytes()
    assert len(made) == 1

    script.write_text("console.log('second');\n" * 300)  # a deploy: new bytes, size and mtime
    os.utime(script, ns=(script.stat().st_atime_ns, script.stat().st_mtime_ns + 10**9))
    assert gzip.decompress(get(client, "app.js", GZIP).get_data()) == script.read_bytes()
    assert len(made) == 2


def test_many_first_requests_at_once_compress_the_file_once(app, own_static, monkeypatch):
    made = []
    real = gzip.compress
    monkeypatch.setattr(gzip, "compress", lambda data, *args, **kwargs: made.append(len(data)) or real(
        data, *args, **kwargs))
    (own_static / "big.js").write_bytes(os.urandom(300_000).hex().encode())  # slow enough to overlap
    start, bodies = threading.Barrier(6), []

    def fetch():
        client = app.test_client()
        start.wait()
        bodies.append(get(client, "big.js", GZIP).get_data())

    threads = [threading.Thread(target=fetch) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 1
    assert len(bodies) == 6 and len(set(bodies)) == 1
    assert gzip.decompress(bodies[0]) == (own_static / "big.js").read_bytes()
    assert static_compression._compressed[str(own_static / "big.js")][1] == bodies[0]
