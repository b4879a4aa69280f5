"""What `make run` serves with: gunicorn's access log never holds a sign-in or reset secret."""
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from kithmeet.security import mask_secrets
from kithmeet.serving import AccessLogger

from .servers import ROOT, free_port, wait_for_port


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
        wait_for_port(port, timeout=60)  # then a request waits for a worker, however slow its start
        request = urllib.request.Request(f"http://127.0.0.1:{port}/signin/TOPSECRETVALUE42?next=x",
                                         headers={"Cookie": "session=COOKIEVALUE99"})
        with pytest.raises(urllib.error.HTTPError):  # an unknown link is a 404
            urllib.request.urlopen(request, timeout=60)
        with pytest.raises(urllib.error.HTTPError):  # an organizer's password-reset link
            urllib.request.urlopen(f"http://127.0.0.1:{port}/organizer/reset/TOPRESETSECRET77", timeout=60)
    finally:
        server.terminate()
        server.wait(timeout=30)
    text = log.read_text()
    assert "/signin/[hidden]" in text and "/organizer/reset/[hidden]" in text, text
    assert "TOPSECRETVALUE42" not in text and "COOKIEVALUE99" not in text and "TOPRESETSECRET77" not in text


@pytest.mark.parametrize("line", ["GET /signin/abc-DEF_1?x=1 HTTP/1.1", "GET /%73ignin/abc-DEF_1 HTTP/1.1",
                                  "GET /signin%2Fabc-DEF_1 HTTP/1.1", "Exception on /signin/abc-DEF_1 [POST]",
                                  # An organizer's password-reset link, spelled every way too.
                                  "GET /organizer/reset/abc-DEF_1 HTTP/1.1", "POST /Organizer/%72eset/abc-DEF_1",
                                  "GET /organizer%2Freset%2Fabc-DEF_1 HTTP/1.1",
                                  "Exception on /organizer/reset/abc-DEF_1 [POST]",
                                  # An unsubscribe key: whoever reads the log must not turn mail off.
                                  "POST /unsubscribe/abc-DEF_1?list=digest HTTP/1.1", "GET /%75nsubscribe/abc-DEF_1"])
def test_secrets_are_masked_however_the_path_is_spelled(line):
    assert AccessLogger.__mro__[1].__name__ == "Logger"
    masked = mask_secrets(line)
    assert "abc-DEF_1" not in masked and "[hidden]" in masked


def test_a_failing_request_for_a_sign_in_link_logs_no_secret(app, caplog, monkeypatch):
    from kithmeet.people import services

    def broken(_secret):
        raise RuntimeError("the database went away")
    monkeypatch.setattr(services, "redeem_signin_secret", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    token = client.csrf_token("/organizer/login")
    assert client.post("/signin/SECRETSECRETSECRET", data={"csrf_token": token}).status_code == 500
    assert "Exception on /signin/[hidden]" in caplog.text and "SECRETSECRETSECRET" not in caplog.text
