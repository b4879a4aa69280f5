from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Optional

from ..formtools import at_most, no_controls, strip
from .services import MAX_TEXT


class ConnectForm(FlaskForm):
    talked_about = TextAreaField("What did you talk about?", filters=[strip],
                                 validators=[Optional(), at_most(MAX_TEXT), no_controls(multiline=True)])
    private_note = TextAreaField("Private note", filters=[strip],
                                 validators=[Optional(), at_most(MAX_TEXT), no_controls(multiline=True)])
    # Made when the page is drawn: the same form sent twice is one scan.
    client_id = HiddenField()


class CodeForm(FlaskForm):
    code = StringField("Badge code", filters=[strip], validators=[
        DataRequired("Type the code printed under the QR."), at_most(40)])
