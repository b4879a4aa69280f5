from wtforms import SelectChoice, SelectField, TextAreaField
from wtforms.validators import Optional, ValidationError

from ..formtools import Form, at_most, coded, no_controls, strip
from .models import REASONS
from .services import MAX_DETAILS


class ReportForm(Form):
    reason = SelectField("What happened?", validate_choice=False,
                         choices=[SelectChoice("", "Choose one"),
                                  *(SelectChoice(value, label) for value, label in REASONS.items())])
    details = TextAreaField("Details", filters=[strip],
                            validators=[Optional(), at_most(MAX_DETAILS), no_controls(multiline=True)],
                            description="Optional. What happened, when, and anything the organizers should know. "
                                        "The person you report is not told who reported them.")

    def validate_reason(self, field):
        if field.data not in REASONS:
            raise ValidationError(coded("bad_reason", "Choose what best describes it."))
