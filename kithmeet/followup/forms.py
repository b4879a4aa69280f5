from wtforms import DateField, HiddenField, SearchField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import Optional

from ..connections.models import FOLLOWUP_STATUSES
from ..connections.notes import MAX_TEXT
from ..formtools import Form, at_most, no_controls, strip
from .services import MAX_QUERY, SORTS


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
    snoozed_until = DateField("Snooze until", validators=[Optional()],
                              description="For “Snoozed”: on this day they are back to follow up.")


class FilterForm(Form):
    """The list's filters: a GET form, so no CSRF token (it changes nothing)."""

    class Meta:
        csrf = False

    q = SearchField("Search", filters=[strip], validators=[Optional(), at_most(MAX_QUERY)],
                    description="Names, headlines, answers, what you talked about, your notes.")
    event = SelectField("Met at", choices=[SelectChoice("", "Any event")], validate_choice=False)
    status = SelectField("Status", choices=[SelectChoice("", "All but archived")] + [
        SelectChoice(value, label) for value, label in FOLLOWUP_STATUSES.items()], validate_choice=False)
    sort = SelectField("Order", choices=[SelectChoice(value, label) for value, label in SORTS.items()],
                       validate_choice=False)
