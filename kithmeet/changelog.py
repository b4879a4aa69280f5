"""One structured log line per state change: what happened, who did it, to which rows.

A line is written when the change's transaction commits, so the log never tells of a
change that was rolled back. Only ids and short status words go in a line. Note text, contact values, names, badge
tokens and secrets never do: `record` refuses any value that is not an int, None or a
short lower-case word, so a careless call fails in the tests instead of leaking in logs.
"""
import logging
import re

from .database import after_commit

logger = logging.getLogger("kithmeet.changes")
_WORD = re.compile(r"^[a-z_]{1,32}$")


def _safe(value):
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(item, int) for item in value):
        return ",".join(str(item) for item in value)
    if isinstance(value, str) and _WORD.match(value):
        return value
    raise TypeError(f"refusing to log a {type(value).__name__}: only ids and status words are logged")


def record(action, actor, **ids):
    """Log `action` (e.g. "connection.made") by `actor` ("person:12", "organizer:3", "cli")."""
    if not re.match(r"^[a-z_]+\.[a-z_]+$", action):
        raise ValueError(f"bad action name {action!r}")
    kind, _, actor_id = (actor or "system").partition(":")
    if kind not in ("person", "organizer", "cli", "system") or (actor_id and not actor_id.isdigit()):
        raise ValueError(f"bad actor {actor!r}")
    fields = " ".join(f"{key}={_safe(value)}" for key, value in sorted(ids.items()))
    after_commit(lambda: logger.info("%s actor=%s%s", action, actor or "system", f" {fields}" if fields else ""))


def person(person_or_id):
    return f"person:{getattr(person_or_id, 'id', person_or_id)}"


def organizer(organizer_or_id):
    return f"organizer:{getattr(organizer_or_id, 'id', organizer_or_id)}"


def init_app(app):
    # Flask's own logger passes on warnings only; state changes are logged at INFO, and
    # they go wherever the app's log goes (gunicorn's error log under `make run`).
    logger.setLevel(app.config["CHANGELOG_LEVEL"])
    app.logger  # noqa: B018 - creating it attaches Flask's handler where no other is set
