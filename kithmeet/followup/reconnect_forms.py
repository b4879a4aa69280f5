"""The "send them a link" form of reconnect today (reconnect_views.py)."""
from wtforms import StringField, URLField

from ..formtools import Form, at_most, no_controls, required, strip, web_url

MAX_LINK = 2000  # what browsers and mail programs reliably keep in a link
MAX_LINE = 300


class LinkDraftForm(Form):
    link = URLField("Link", filters=[strip], render_kw={"autocomplete": "url", "inputmode": "url"},
                    validators=[required("Paste the link you want to send."), at_most(MAX_LINK), no_controls()],
                    description="A web address starting with https://")
    line = StringField("Your line (optional)", filters=[strip], validators=[at_most(MAX_LINE), no_controls()])

    def validate_link(self, field):
        # The profile form's check: a plain http(s) address a browser opens where it says.
        field.data = web_url(field.data)
