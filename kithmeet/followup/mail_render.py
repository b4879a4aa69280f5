"""What the follow-up mails (the digest, the weekly nudge) share: absolute links, the
unsubscribe headers, and rendering a plain-text and an HTML part from templates/mail/.

Links are built on PUBLIC_URL when it is set; else, inside a request (an organizer
closing the event), on the host it came in on; else (a CLI command, the mail worker's
loop) on what `make run` serves. A site that mails people should set PUBLIC_URL.
"""
import re

from flask import current_app

from ..mail.services import MAX_SUBJECT
from ..urls import external_url, local_base

_LINE_BREAKS = re.compile(r"[\r\n]+")


def link(endpoint, **values):
    return external_url(endpoint, _fallback=local_base(), **values)


def unsubscribe_link(token, list_name):
    """The one-click link of `list_name` ("digest" or "nudge") for the holder of `token`."""
    return link("followup.unsubscribe", token=token, list=list_name)


def unsubscribe_headers(url):
    """RFC 2369's List-Unsubscribe with RFC 8058's one-click POST: a mail client may POST
    `List-Unsubscribe=One-Click` to the link, without cookies or a CSRF token."""
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def one_line(subject):
    """A subject built from people's words (an event's name) as one line that fits."""
    subject = _LINE_BREAKS.sub(" ", subject).strip()
    return subject if len(subject) <= MAX_SUBJECT else subject[:MAX_SUBJECT - 1] + "…"


def render(name, context):
    """(text, html) from templates/mail/<name>.txt and .html. The app's Jinja environment
    escapes the .html part (autoescape by extension) and not the text part. Rendered
    without context processors: they read the request's session, and there may be no
    request, or it may be an organizer's."""
    env = current_app.jinja_env
    return (env.get_template(f"mail/{name}.txt").render(**context),
            env.get_template(f"mail/{name}.html").render(**context))
