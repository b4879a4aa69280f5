"""Helpers for tests that use the pages as a person does: filling forms, and reading the
error codes a page shows (never its wording)."""
import re

BADGE = re.compile(r"/badge/([A-Z0-9]+)\.svg")


def join(client, event, **data):
    fields = {"name": "Ada Okafor", "prompt_0": "Flask", **data}
    return client.submit(f"/J/{event.join_code}", data=fields)


def badge_token(client):
    return BADGE.search(client.get("/badge").get_data(as_text=True)).group(1)


def new_signin_path(client):
    """Make a personal sign-in link from the badge page, as a person does; return its path."""
    html = client.submit("/badge/sign-in-link", page="/badge", follow_redirects=True).get_data(as_text=True)
    return re.search(r'value="http://localhost(/signin/[^"]+)"', html).group(1)


def email_link_token(app, address):
    """Ask for an e-mailed sign-in link to `address` (as the "I've been here before" page does)
    and return its token, read from the mail it queued."""
    from sqlalchemy import select

    from kithmeet.extensions import db
    from kithmeet.mail.models import OutgoingMail
    from kithmeet.people import email_signin

    with app.test_request_context():  # the link is built on the request's host
        email_signin.request_link(address)
    mail = db.session.scalars(select(OutgoingMail).order_by(OutgoingMail.id.desc())).first()
    return re.search(r"/signin/email/([A-Za-z0-9_-]+)", mail.text_body).group(1)


def error_codes(html):
    """Every error code the page shows (`data-code` on error pages, field and form errors), in order."""
    return re.findall(r'data-code="([^"]+)"', html)


def field_error(html, field_id):
    """The code of the error shown under one field, or None when that field shows no error."""
    match = re.search(rf'id="{re.escape(field_id)}-error" data-code="([^"]+)"', html)
    return match.group(1) if match else None


def form_error_codes(html):
    """The codes of the form-level errors, shown in the role="alert" box above the fields."""
    box = re.search(r'<div class="flash flash-error" role="alert">(.*?)</div>', html, re.DOTALL)
    return re.findall(r'<p data-code="([^"]+)"', box.group(1)) if box else []
