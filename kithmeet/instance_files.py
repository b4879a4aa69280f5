"""Small secrets kept in the instance folder (never in the repository)."""
import os


def read_or_create(path, make):
    """The file's content, or `make()` written there first.

    O_EXCL makes creation atomic: gunicorn workers starting together agree on one value.
    """
    try:
        with open(path, encoding="ascii") as handle:
            value = handle.read().strip()
        if value:
            return value
    except FileNotFoundError:
        pass
    value = make()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        with open(path, encoding="ascii") as handle:
            return handle.read().strip() or value
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(value)
    return value
