from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import Optional, ValidationError

from ..formtools import Form, at_most, coded, no_controls, required, strip
from ..urls import badge_token_from
from .notes import MAX_TEXT


class ConnectForm(Form):
    talked_about = TextAreaField("What did you talk about?", filters=[strip],
                                 validators=[Optional(), at_most(MAX_TEXT), no_controls(multiline=True)])
    private_note = TextAreaField("Private note", filters=[strip],
                                 validators=[Optional(), at_most(MAX_TEXT), no_controls(multiline=True)])
    # Made when the page is drawn: the same form sent twice is one scan.
    client_id = HiddenField()


class CodeForm(Form):
    code = StringField("Badge code", filters=[strip], validators=[
        required("Type the code printed under the QR."), at_most(300), no_controls()],
        description="The letters and digits under someone's QR, or their badge link.")

    def validate_code(self, field):
        # A pasted badge link works too, when it is one of this site's.
        token = badge_token_from(field.data)
        if token is None:
            raise ValidationError(coded("bad_code", "A badge code has 11 letters and digits, like K7QM 4XTR 9PA."))
        self.token = token
