"""Small secrets kept in the instance folder (never in the repository)."""
import os
import tempfile


def read_or_create(path, make):
    """The file's content, or `make()` written there first.

    The file appears whole or not at all (written aside, then hard-linked into place), so
    gunicorn workers starting together agree on one value and never read a half-written one.
    """
    try:
        with open(path, encoding="ascii") as handle:
            value = handle.read().strip()
        if value:
            return value
    except FileNotFoundError:
        pass
    value = make()
    fd, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".new-")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(value)
        os.link(temporary, path)  # fails if another process got there first
    except FileExistsError:
        with open(path, encoding="ascii") as handle:
            return handle.read().strip()
    finally:
        os.unlink(temporary)
    return value
