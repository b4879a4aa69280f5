"""The systemd units and settings file docs/deploy.md shows (docs/deploy/kithmeet.service,
kithmeet-mail.service, kithmeet.env) do what it says. There is no systemd here, so the test does
its part: reads the environment file and the units as systemd does, lays out a temporary install
where they say /srv/kithmeet is, runs the migrations as the upgrade steps do, then runs each
unit's ExecStart in its WorkingDirectory with that environment: the app answers, the mail worker
runs and stops cleanly on SIGTERM, and `flask backup` (the backup line) copies the database."""
import configparser
import os
import re
import shlex
import signal
import sqlite3
import stat
import subprocess
import time
import urllib.request

import pytest

from kithmeet.config import ENVIRONMENT

from ..servers import ROOT, free_port, wait_for_port

DEPLOY = ROOT / "docs" / "deploy"
INSTALL = "/srv/kithmeet"


def unit(name):
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # systemd's keys are case-sensitive
    parser.read_string((DEPLOY / name).read_text())
    return parser


def environment_file(path):
    """KEY=VALUE lines as systemd's EnvironmentFile reads them (comments and blank lines skipped)."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            value = value.strip()
            values[key.strip()] = value[1:-1] if len(value) > 1 and value[0] == value[-1] == '"' else value
    return values


def command_line(unit_file, environment, install):
    """ExecStart with ${VAR} expanded from the environment (as systemd does) and the install moved."""
    service = unit_file["Service"]
    line = re.sub(r"\$\{(\w+)\}", lambda match: environment[match.group(1)], service["ExecStart"])
    return shlex.split(line.replace(INSTALL, str(install))), service["WorkingDirectory"].replace(INSTALL, str(install))


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A temporary /srv/kithmeet: the checkout's virtualenv and app.py where the units look for
    them, an instance folder, and the env file with the database moved there, migrated."""
    install = tmp_path_factory.mktemp("srv") / "kithmeet"
    (install / "instance").mkdir(parents=True)
    (install / ".venv").symlink_to(ROOT / ".venv")
    (install / "app.py").symlink_to(ROOT / "app.py")
    environment = {key: value.replace(INSTALL, str(install))
                   for key, value in environment_file(DEPLOY / "kithmeet.env").items()}
    assert environment["KITHMEET_DATABASE_URL"].startswith(f"sqlite:///{install}/instance/")
    environment.update(KITHMEET_BIND=f"127.0.0.1:{free_port()}",
                       # instance/ of a temporary install is not where Flask looks (the package's
                       # folder): give the secret key here so nothing is written to the checkout's.
                       KITHMEET_SECRET_KEY="deploy-test-key", PATH="/usr/bin:/bin")
    migrate = subprocess.run([str(install / ".venv/bin/flask"), "--app", "app", "db", "upgrade"], cwd=install,
                             env=environment, capture_output=True, text=True, timeout=300)
    assert migrate.returncode == 0, migrate.stderr
    return install, environment


def test_every_setting_the_env_file_names_is_one_kithmeet_reads():
    named = re.findall(r"^#?(KITHMEET_\w+)=", (DEPLOY / "kithmeet.env").read_text(), re.MULTILINE)
    units = (DEPLOY / "kithmeet.service").read_text() + (DEPLOY / "kithmeet-mail.service").read_text()
    assert named and all(name in ENVIRONMENT or f"${{{name}}}" in units for name in named), named


@pytest.mark.parametrize("name", ["kithmeet.service", "kithmeet-mail.service"])
def test_every_path_a_unit_names_is_in_the_install(installed, name):
    install, environment = installed
    service = unit(name)["Service"]
    assert service["EnvironmentFile"] == "/etc/kithmeet/kithmeet.env"
    command, folder = command_line(unit(name), environment, install)
    assert os.access(command[0], os.X_OK) and os.path.isdir(folder)
    writable = service["ReadWritePaths"].replace(INSTALL, str(install))
    # ProtectSystem=strict: the database the env file names must be under the one writable folder.
    assert os.path.isdir(writable) and environment["KITHMEET_DATABASE_URL"].startswith(f"sqlite:///{writable}/")


def test_the_app_servers_unit_serves(installed):
    install, environment = installed
    command, folder = command_line(unit("kithmeet.service"), environment, install)
    server = subprocess.Popen(command, cwd=folder, env=environment, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        wait_for_port(int(environment["KITHMEET_BIND"].rsplit(":", 1)[1]), timeout=60)
        with urllib.request.urlopen(f"http://{environment['KITHMEET_BIND']}/organizer/login", timeout=30) as page:
            assert page.status == 200
    finally:
        server.send_signal(signal.SIGTERM)  # what `systemctl stop` sends (KillMode=mixed: to the main process)
        assert server.wait(timeout=30) == 0


def test_the_mail_workers_unit_runs_and_stops_on_sigterm(installed):
    install, environment = installed
    command, folder = command_line(unit("kithmeet-mail.service"), environment, install)
    log = install / "mail-worker.log"
    with open(log, "w") as output:
        worker = subprocess.Popen(command, cwd=folder, env=environment, stdout=output, stderr=output)
    try:
        deadline = time.monotonic() + 60
        while "mail worker started" not in log.read_text():
            assert worker.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        time.sleep(0.5)  # into its first round
    finally:
        worker.send_signal(signal.SIGTERM)  # what `systemctl stop` sends
        assert worker.wait(timeout=30) == 0, log.read_text()
    assert "mail worker stopped" in log.read_text()


def test_the_backup_line_copies_the_database_for_its_owner_only(installed):
    install, environment = installed
    line = re.search(r"(\S*flask --app app backup \S+)", (ROOT / "docs" / "deploy.md").read_text())
    assert line, "docs/deploy.md shows no backup line"
    command = shlex.split(line.group(1).replace(INSTALL, str(install)))
    destination = install / "backup.sqlite3"
    command[-1] = str(destination)
    done = subprocess.run(command, cwd=install, env=environment, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(destination.stat().st_mode) == 0o600
    with sqlite3.connect(destination) as copy:
        tables = {row[0] for row in copy.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"alembic_version", "person", "event"} <= tables and copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    copy.close()
    # A second run to the same name refuses: an old backup is never overwritten.
    again = subprocess.run(command, cwd=install, env=environment, capture_output=True, text=True, timeout=120)
    assert again.returncode != 0 and "exists" in again.stderr
