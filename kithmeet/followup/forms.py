from wtforms import HiddenField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import Optional

from ..connections.models import FOLLOWUP_STATUSES
from ..connections.notes import MAX_TEXT
from ..formtools import Form, at_most, no_controls, strip


class EntryForm(Form):
    talked_about = TextAreaField("Talked about (both of you see this)", filters=[strip],
                                 validators=[Optional(), at_most(MAX_TEXT), no_controls(multiline=True)])
    private_note = TextAreaField("Private note (only you see this)", filters=[strip],
                                 validators=[Optional(), at_most(MAX_TEXT), no_controls(multiline=True)])
    # Fingerprint of the shared line as this page showed it (see connections.notes.edit).
    talked_about_fingerprint = HiddenField()
    # The private note as this page showed it: words a scan adds meanwhile are merged, not lost.
    private_note_seen = HiddenField(filters=[strip], validators=[Optional(), at_most(MAX_TEXT)])
    status = SelectField("Status", choices=[SelectChoice(value, label) for value, label in FOLLOWUP_STATUSES.items()])
