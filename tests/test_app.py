"""The app as create_app() assembles it."""
import flask_limiter
import pytest


def _hooks(app):
    return [*app.before_request_funcs.get(None, []), *app.after_request_funcs.get(None, []),
            *app.teardown_request_funcs.get(None, [])]


def _module(hook):
    return getattr(getattr(hook, "func", hook), "__module__", "") or ""


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True}])
def test_flask_limiter_runs_no_hook_of_its_own_on_every_request(app):
    # kithmeet counts its limits in ratelimits.check; Flask-Limiter's hooks would look for
    # decorated limits there are none of (tests/test_ratelimits.py: the limits still hold).
    assert app.config["RATELIMIT_ENABLED"]
    assert not [hook for hook in _hooks(app) if _module(hook).startswith(flask_limiter.__name__)]


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True}])
def test_the_hooks_that_are_left_are_kithmeets_and_flasks_extensions_that_need_them(app):
    modules = {_module(hook).split(".")[0] for hook in _hooks(app)}
    assert modules <= {"kithmeet", "flask_wtf", "flask_sqlalchemy", "flask"}, modules


# `make run` installs kithmeet without its extras (pyproject's redis and postgres): a site on
# SQLite must start, migrate and serve with neither package there, as on a fresh laptop.
WITHOUT_EXTRAS = """
import sys

class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("redis", "psycopg", "psycopg2"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, NotInstalled())
import flask_migrate
from kithmeet import create_app
from kithmeet.mail import worker

app = create_app({"SECRET_KEY": "fresh laptop", "SQLALCHEMY_DATABASE_URI": sys.argv[1]}, instance_path=sys.argv[2])
with app.app_context():
    flask_migrate.upgrade()
    worker.send_due()
print(app.test_client().get("/", follow_redirects=True).status_code, sorted(name for name in sys.modules if name.startswith("redis")))
"""


def test_a_site_on_sqlite_starts_migrates_and_serves_without_the_optional_packages(tmp_path):
    import os
    import subprocess
    import sys

    env = {key: value for key, value in os.environ.items() if not key.startswith(("KITHMEET_", "REDIS"))}
    result = subprocess.run([sys.executable, "-c", WITHOUT_EXTRAS, f"sqlite:///{tmp_path / 'site.sqlite3'}",
                             str(tmp_path / "instance")], capture_output=True, text=True, env=env, timeout=120,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split()[-2:] == ["200", "[]"], result.stdout
