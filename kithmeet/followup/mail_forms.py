"""The mail switches on the follow-up page: the weekly nudge, and the digest back on."""
from wtforms import HiddenField
from wtforms.validators import AnyOf

from ..formtools import Form, coded


class MailChoiceForm(Form):
    # Each button sends the one change it names: which mail, and on or off.
    mail = HiddenField(validators=[AnyOf(("nudge", "digest"), message=coded("bad_choice", "Choose an e-mail."))])
    choice = HiddenField(validators=[AnyOf(("on", "off"), message=coded("bad_choice", "Choose on or off."))])
    # The page the button was on, to come back to: "list" or "emails" (anything else reads as "list").
    back = HiddenField()
