"""Serving under gunicorn (`make run`): an access log that never writes a secret.

A personal sign-in link carries its secret in the path (`/signin/<secret>`), as does an
organizer's password-reset link (`/organizer/reset/<secret>`), and a link that was opened
but not confirmed still works; gunicorn's access log would keep it in
plain text for anyone who reads the log. The secret is replaced before a line is written,
and request and response headers (cookies) are never offered to the log format.
"""
from gunicorn.glogging import Logger

from .security import mask_secrets


class AccessLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in list(atoms.items()):
            if key.endswith(("}i", "}o")) or key in ("{http_cookie}e", "{http_authorization}e"):
                atoms[key] = "-"
            elif isinstance(value, str):
                atoms[key] = mask_secrets(value)
        return atoms
