"""Forms of the API token page."""
from wtforms import HiddenField, StringField

from ..formtools import Form, at_most, no_controls, required, strip
from .tokens import MAX_NAME


class NewTokenForm(Form):
    name = StringField("Token name", filters=[strip], validators=[
        required("Name the token after what will use it."), at_most(MAX_NAME), no_controls()],
        description="What will use it, such as “My CRM”: so you know which to revoke later.")


class RevokeForm(Form):
    token = HiddenField(validators=[required("Choose a token."), at_most(16)])
