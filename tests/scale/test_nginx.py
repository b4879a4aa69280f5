"""Debian's nginx in front of gunicorn with docs/deploy/nginx.conf, the file docs/deploy.md shows
(only its ports and paths replaced), and a self-signed certificate: HTTPS, Secure cookies and
HSTS; X-Forwarded-* believed from that proxy only (TRUSTED_PROXIES), so the rate limits count the
real client behind it and nobody reaching gunicorn directly can pick an address or claim HTTPS;
static files served by nginx itself with the app's caching headers, compressed: fingerprinted
names from the folder `flask static-build` fills, a name not built there answered by the app."""
import datetime
import gzip
import hashlib
import http.client
import os
import re
import shutil
import ssl
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kithmeet import create_app

from ..pages import error_codes
from ..servers import ROOT, Gunicorn, free_port, wait_for_port

CONFIG = ROOT / "docs" / "deploy" / "nginx.conf"
NGINX = "/usr/sbin/nginx"
PROXY = "127.0.0.1"  # nginx connects to gunicorn from here: the one trusted proxy
# Clients on other loopback addresses: "other machines" as the app sees them. The site is shared
# by the module's tests, and the sign-in limit counts per address: each test has its own.
BROWSER = "127.0.0.10"
IMMUTABLE = "public, max-age=31536000, immutable"


def self_signed(folder):
    """fullchain.pem and privkey.pem for localhost, as docs/deploy/nginx.conf names them."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(key, hashes.SHA256()))
    folder.mkdir(parents=True)
    (folder / "fullchain.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (folder / "privkey.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                           serialization.NoEncryption()))
    return folder / "fullchain.pem"


def site_config(https_port, http_port, upstream_port, ssl_folder, built_folder):
    """docs/deploy/nginx.conf with the strings its header names replaced, and nothing else."""
    text = CONFIG.read_text()
    replacements = {"meet.example.org": "localhost", "/var/lib/kithmeet/static": str(built_folder),
                    "/srv/kithmeet": str(ROOT), "/etc/ssl/kithmeet/": f"{ssl_folder}/",
                    "127.0.0.1:8000": f"127.0.0.1:{upstream_port}", "listen 443": f"listen 127.0.0.1:{https_port}",
                    "listen 80": f"listen 127.0.0.1:{http_port}"}
    for old, new in replacements.items():
        assert old in text, f"docs/deploy/nginx.conf no longer has {old!r}: update the test and the docs together"
        text = text.replace(old, new)
    return text


class Nginx:
    """nginx in the foreground with its own prefix, pid, logs and temp folders under `folder`;
    the site is docs/deploy/nginx.conf, included as Debian's nginx.conf includes sites-enabled."""

    def __init__(self, folder, site):
        self.folder = Path(folder)
        self.site = site
        self.process = None

    def start(self, port):
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "kithmeet.conf").write_text(self.site)
        user = "user root;" if os.geteuid() == 0 else ""  # workers read the tests' private tmp folder
        temp = " ".join(f"{kind}_temp_path {self.folder}/{kind};" for kind in ("client_body", "proxy", "fastcgi",
                                                                                  "uwsgi", "scgi"))
        (self.folder / "nginx.conf").write_text(
            f"{user}\nworker_processes 1;\npid {self.folder}/nginx.pid;\nerror_log {self.folder}/error.log;\n"
            "events { worker_connections 256; }\n"
            f"http {{\n include /etc/nginx/mime.types;\n default_type application/octet-stream;\n"
            f" access_log {self.folder}/access.log;\n {temp}\n include {self.folder}/kithmeet.conf;\n}}\n")
        command = [NGINX, "-p", str(self.folder), "-c", str(self.folder / "nginx.conf"), "-e",
                   str(self.folder / "error.log"), "-g", "daemon off;"]
        check = subprocess.run([*command, "-t"], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(port)
        return self

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def build_static(folder):
    """The fingerprinted files, as docs/deploy.md has them built before the new code serves."""
    app = create_app({"SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": "sqlite://"},
                     instance_path=str(folder.parent / "build-instance"))
    result = app.test_cli_runner().invoke(args=["static-build", str(folder)])
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("proxied")
    assert shutil.which(NGINX) or os.path.exists(NGINX), "nginx is missing: `make test` installs it"
    https_port, http_port = free_port(), free_port()
    certificate = self_signed(tmp_path / "ssl")
    app = Gunicorn(tmp_path / "app", f"sqlite:///{tmp_path / 'site.sqlite3'}",
                   {"PUBLIC_URL": f"https://localhost:{https_port}", "TRUSTED_PROXIES": PROXY,
                    # An hour: a window that cannot end between a test's four tries, however slow.
                    "RATELIMIT_ORGANIZER_SIGNIN": "3 per hour"}, name="app")
    proxy = Nginx(tmp_path / "nginx", "")
    built = build_static(tmp_path / "built")
    try:
        app.start()
        proxy.site = site_config(https_port, http_port, app.port, tmp_path / "ssl", built)
        proxy.start(https_port)
        yield {"https": https_port, "http": http_port, "app": app, "built": built,
               "tls": ssl.create_default_context(cafile=str(certificate))}
    finally:
        proxy.stop()
        app.stop()


def ask(site, path, *, method="GET", via="nginx", source=BROWSER, headers=None, body=None):
    """One request on its own connection from `source`: through nginx over HTTPS (`via="nginx"`),
    to nginx's plain port (`"http"`), or straight to gunicorn (`"gunicorn"`). Returns
    (status, headers, body bytes)."""
    if via == "nginx":
        connection = http.client.HTTPSConnection("localhost", site["https"], context=site["tls"],
                                                 source_address=(source, 0), timeout=20)
    else:
        port = site["http"] if via == "http" else site["app"].port
        connection = http.client.HTTPConnection("127.0.0.1", port, source_address=(source, 0), timeout=20)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def app_log(site):
    """gunicorn's access log lines, once it has written every request answered before this call:
    a request of its own straight to gunicorn, after those, is waited for (as long as a busy
    machine needs) in the log; gunicorn writes each line as its response goes out."""
    mark = f"/log-mark-{uuid.uuid4().hex}"
    assert ask(site, mark, via="gunicorn", source=PROXY)[0] == 404
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        lines = site["app"].access_log.read_text().splitlines()
        if any(mark in line for line in lines):
            return lines
        time.sleep(0.05)
    raise AssertionError("gunicorn never logged a request it answered")


def sign_in_page(site, **where):
    """The organizer sign-in page's session cookie and CSRF token."""
    status, headers, body = ask(site, "/organizer/login", **where)
    assert status == 200
    cookie = headers["Set-Cookie"]
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', body.decode()).group(1)
    return cookie, cookie.split(";")[0], token


def sign_in(site, cookie, token, referer=None, **where):
    headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
    if referer:
        headers["Referer"] = referer
    body = f"csrf_token={token}&email=nobody%40example.org&password=not+the+password"
    status, _, page = ask(site, "/organizer/login", method="POST", headers=headers, body=body, **where)
    return status, error_codes(page.decode())


def test_https_through_nginx_with_secure_cookies_and_hsts(proxied):
    status, headers, _ = ask(proxied, "/organizer/login", via="http")
    assert status == 301 and headers["Location"] == "https://localhost/organizer/login"  # nginx's own
    set_cookie, cookie, token = sign_in_page(proxied)
    assert "Secure" in set_cookie and "HttpOnly" in set_cookie
    assert ask(proxied, "/organizer/login")[1]["Strict-Transport-Security"] == "max-age=31536000"
    # A form works through the proxy: the app sees HTTPS and the Host the browser used, so the
    # CSRF check's same-origin Referer rule passes (a wrong password is the only complaint).
    status, codes = sign_in(proxied, cookie, token, referer=f"https://localhost:{proxied['https']}/organizer/login")
    assert status == 200 and "csrf" not in codes and codes
    # Without a Referer the HTTPS rule refuses it: the app believed nginx's X-Forwarded-Proto.
    assert sign_in(proxied, cookie, token) == (400, ["csrf"])


def test_forwarded_headers_are_believed_from_the_proxy_only(proxied):
    straight, other = "127.0.0.5", "127.0.0.6"
    # Straight to gunicorn from another address: a forged X-Forwarded-For does not escape the limit...
    statuses = [ask(proxied, "/organizer/login", method="POST", via="gunicorn", source=straight,
                    headers={"X-Forwarded-For": f"203.0.113.{i}"})[0] for i in range(4)]
    assert statuses == [400, 400, 400, 429]
    # ...and a forged X-Forwarded-Proto does not make the request HTTPS (no Referer rule; its
    # Secure cookie is sent back by hand, as a client on plain HTTP could).
    _, cookie, token = sign_in_page(proxied, via="gunicorn", source=straight,
                                    headers={"X-Forwarded-Proto": "https"})
    forged = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-Proto": "https",
              "X-Forwarded-For": "198.51.100.7"}
    status, _, page = ask(proxied, "/organizer/login", method="POST", via="gunicorn", source=other,
                          headers=forged, body=f"csrf_token={token}&email=nobody%40example.org&password=wrong+one")
    assert status == 200 and "csrf" not in error_codes(page.decode())


def test_rate_limits_count_the_client_behind_the_proxy(proxied):
    client, other = "127.0.0.2", "127.0.0.3"
    # A new forged address each time: nginx appends the one it saw, and only that one counts.
    statuses = [ask(proxied, "/organizer/login", method="POST", source=client,
                    headers={"X-Forwarded-For": f"203.0.113.{i}"})[0] for i in range(4)]
    assert statuses == [400, 400, 400, 429]
    # Another client through the same proxy has its own count: not everyone as the proxy's address.
    assert ask(proxied, "/organizer/login", method="POST", source=other)[0] == 400


def fingerprinted(path):
    """/static/<dir>/<name>.<first 12 hex of the content's sha256>.<ext>, as url_for writes it."""
    digest = hashlib.sha256((ROOT / path.lstrip("/")).read_bytes()).hexdigest()[:12]
    stem, ext = path.rsplit(".", 1)
    return f"{stem}.{digest}.{ext}"


def test_static_files_are_served_by_nginx_with_the_apps_caching(proxied):
    files = ("/static/css/app.css", "/static/js/app.js", "/static/favicon.svg")
    # How the app itself caches a plain name (asked directly, before counting what reaches it).
    apps = {path: ask(proxied, path, via="gunicorn", source=PROXY)[1]["Cache-Control"] for path in files}
    answered_before = len(app_log(proxied))
    for path in files:
        status, headers, body = ask(proxied, fingerprinted(path))
        assert status == 200 and body == (ROOT / path.lstrip("/")).read_bytes()
        assert headers["Cache-Control"] == IMMUTABLE
        status, headers, body = ask(proxied, path)
        assert status == 200 and headers["ETag"] and headers["Cache-Control"] == apps[path]
    # Compressed for a client that takes gzip.
    status, headers, body = ask(proxied, "/static/css/app.css", headers={"Accept-Encoding": "gzip"})
    assert headers["Content-Encoding"] == "gzip" and gzip.decompress(body) == (ROOT / "static/css/app.css").read_bytes()
    # Whatever a page links to under /static/ is there.
    page = ask(proxied, "/organizer/login")[2].decode()
    linked = set(re.findall(r'(?:href|src)="(/static/[^"?]+)', page))
    assert linked and all(ask(proxied, path)[0] == 200 for path in linked)
    # None of it reached the app: nginx answered every /static/ request itself.
    reached = app_log(proxied)[answered_before:]
    assert reached and not [line for line in reached if "/static/" in line], reached


def test_fingerprinted_names_come_from_the_build_folder_and_only_their_own_bytes_are_immutable(proxied):
    built = proxied["built"]
    # What an earlier release built stays and is served as it was (an old server's pages name it).
    earlier = b"/* an earlier release's stylesheet */\n"
    old_name = f"css/app.{hashlib.sha256(earlier).hexdigest()[:12]}.css"
    (built / old_name).write_bytes(earlier)
    status, headers, body = ask(proxied, f"/static/{old_name}")
    assert status == 200 and body == earlier and headers["Cache-Control"] == IMMUTABLE
    assert headers["Strict-Transport-Security"] == "max-age=31536000"
    # Today's files by their names, from the build: the gzip copy beside each, sent as it is.
    for path in ("/static/css/app.css", "/static/js/app.js"):
        status, headers, body = ask(proxied, fingerprinted(path), headers={"Accept-Encoding": "gzip"})
        assert status == 200 and headers["Cache-Control"] == IMMUTABLE and headers["Content-Encoding"] == "gzip"
        assert body == (built / (fingerprinted(path).removeprefix("/static/") + ".gz")).read_bytes()
        assert gzip.decompress(body) == (ROOT / path.lstrip("/")).read_bytes()
        assert headers["Strict-Transport-Security"] == "max-age=31536000"
    # A hash nobody built: the app answers it with today's file, never a year's promise.
    status, headers, body = ask(proxied, "/static/css/app.000000000000.css")
    assert status == 200 and body == (ROOT / "static/css/app.css").read_bytes()
    assert "immutable" not in headers["Cache-Control"] and headers["Cache-Control"] == "no-store"
    assert headers["X-Kithmeet-Stale-Name"] == "1"
    assert headers.get_all("Strict-Transport-Security") == ["max-age=31536000"]  # one, from nginx
    assert ask(proxied, "/static/css/nothing.0123456789ab.css")[0] == 404  # no such file at all
    # Plain names, from the checkout, carry HSTS too.
    assert ask(proxied, "/static/css/app.css")[1]["Strict-Transport-Security"] == "max-age=31536000"
