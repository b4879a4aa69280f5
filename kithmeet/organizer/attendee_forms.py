from wtforms import BooleanField, HiddenField
from wtforms.validators import DataRequired

from ..formtools import Form, at_most, coded, no_controls, required, strip


class AttendeeActionForm(Form):
    """Hiding someone or removing them from the series: the button comes with a box to tick."""
    attendee = HiddenField(filters=[strip], validators=[required("Pick someone on the list."), at_most(40),
                                                        no_controls()])
    confirm = BooleanField("Yes, I'm sure", validators=[
        DataRequired(coded("confirm_required", "Tick the box to confirm."))])
