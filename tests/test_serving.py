"""What `make run` serves with: gunicorn's access log never holds a sign-in secret."""
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from kithmeet.serving import AccessLogger

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_gunicorns_access_log_hides_sign_in_secrets(tmp_path):
    (tmp_path / "served.py").write_text(
        "from kithmeet import create_app\n"
        "from kithmeet.extensions import db\n"
        f"app = create_app({{'SQLALCHEMY_DATABASE_URI': 'sqlite:///{tmp_path}/s.sqlite3', 'SECRET_KEY': 'k'}},"
        f" instance_path='{tmp_path}/instance')\n"
        "with app.app_context():\n"
        "    db.create_all()\n")
    port = free_port()
    log = tmp_path / "access.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--chdir", str(tmp_path),
         "--access-logfile", str(log), "--logger-class", "kithmeet.serving.AccessLogger",
         "--access-logformat", '%(h)s "%(r)s" %(s)s %(U)s %(q)s %({cookie}i)s', "served:app"],
        cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{port}/signin/TOPSECRETVALUE42?next=x",
                                                 headers={"Cookie": "session=COOKIEVALUE99"})
                urllib.request.urlopen(request, timeout=5)
            except urllib.error.HTTPError:
                break  # the server answered (an unknown link is a 404)
            except OSError:
                time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(timeout=10)
    text = log.read_text()
    assert "/signin/[hidden]" in text, text
    assert "TOPSECRETVALUE42" not in text and "COOKIEVALUE99" not in text


def test_the_logger_masks_every_place_a_path_appears():
    assert AccessLogger.__mro__[1].__name__ == "Logger"
    from kithmeet.serving import MASK, SECRET_IN_PATH

    assert SECRET_IN_PATH.sub(MASK, "GET /signin/abc-DEF_1?x=1 HTTP/1.1") == "GET /signin/[hidden]?x=1 HTTP/1.1"
