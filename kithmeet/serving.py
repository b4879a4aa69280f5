"""Serving under gunicorn (`make run`): an access log that never writes a secret.

A personal sign-in link carries its secret in the path (`/signin/<secret>`), and a link
that was opened but not confirmed still works; gunicorn's access log would keep it in
plain text for anyone who reads the log. The secret is replaced before a line is written,
and request headers (cookies) are never offered to the log format.
"""
import re

from gunicorn.glogging import Logger

SECRET_IN_PATH = re.compile(r"(/signin/)[^/?#\s]+")
MASK = r"\1[hidden]"


class AccessLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in list(atoms.items()):
            if key.endswith("}i") or key in ("{http_cookie}e", "{http_authorization}e"):
                atoms[key] = "-"
            elif isinstance(value, str) and "/signin/" in value:
                atoms[key] = SECRET_IN_PATH.sub(MASK, value)
        return atoms
