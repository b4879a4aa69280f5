"""Words typed into a follow-up entry that could not be saved because the other person
changed the shared line meanwhile. Kept in the person's session until they save the entry,
so the page that shows the conflict can be reloaded without losing them."""
from flask import session

from ..connections import notes

KEY = "followup_drafts"
KEEP = 5  # a session cookie is small: only the latest few conflicts are kept


def remember(public_id, typed, their_text):
    drafts = dict(session.get(KEY) or {})
    drafts.pop(public_id, None)
    drafts[public_id] = {"typed": typed, "theirs": notes.fingerprint(their_text)}
    session[KEY] = dict(list(drafts.items())[-KEEP:])


def forget(public_id):
    drafts = dict(session.get(KEY) or {})
    if drafts.pop(public_id, None) is not None:
        session[KEY] = drafts


def pending():
    """{connection public id: {"typed": words, "theirs": fingerprint of the line they conflicted with}}."""
    drafts = session.get(KEY) or {}
    return drafts if isinstance(drafts, dict) else {}
