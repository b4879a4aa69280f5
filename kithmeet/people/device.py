"""What a person's devices keep their things under: one opaque key per person for this site.

The service worker keeps a person's page copies under it and the scan queue its entries, so
both the offline blueprint and the API (which tells a script whose session it is) read it
from here rather than from each other.
"""
import hashlib
import hmac

from flask import current_app


def owner_key(person):
    """A stable, opaque key for `person` on this site: the same on every device and sign-in,
    told apart from every other person's, and never their id (an HMAC under the secret key).
    The person's birth is in it so an id SQLite hands out again after a delete gets a new key."""
    message = f"offline-owner:{person.id}:{person.created_at.isoformat()}".encode()
    return hmac.new(current_app.secret_key.encode(), message, hashlib.sha256).hexdigest()[:32]
