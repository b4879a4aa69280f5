"""How many rows a running guest-list import has decided: what the mapping page polls. The
import's own transaction is invisible to other connections until it commits, and on SQLite
another connection could not even write while it runs, so the count is a small file in the
instance folder, which every worker of this machine reads (the poll may reach any of them).
"""
import os
import tempfile

from flask import current_app

PROGRESS_FOLDER = "import-progress"


def read(public_id):
    try:
        with open(_path(public_id), encoding="ascii") as handle:
            return int(handle.read(20) or 0)
    except (FileNotFoundError, ValueError):
        return 0


def _path(public_id):
    # public_id comes from the import row, never from the request: a token of the code alphabet.
    return os.path.join(current_app.instance_path, PROGRESS_FOLDER, public_id)


def tell(public_id, done):
    """Write the count aside and rename it into place, so a reader never sees half a number."""
    folder = os.path.dirname(_path(public_id))
    os.makedirs(folder, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".new-")
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(str(done))
    os.replace(temporary, _path(public_id))


def forget(public_id):
    try:
        os.unlink(_path(public_id))
    except FileNotFoundError:
        pass
