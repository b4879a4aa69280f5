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
