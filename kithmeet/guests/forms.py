from flask_wtf.file import FileField
from wtforms import HiddenField, SelectField

from ..formtools import Form, coded
from .parsing import FIELD_LABELS, FIELDS, shown

NOT_IN_FILE = ""


class UploadForm(Form):
    file = FileField("Guest list (CSV or TSV)", description=(
        "The attendee export of Eventbrite, Meetup, Luma, Tito or pretix, or any spreadsheet saved as CSV with a name "
        "and an e-mail column. Up to 5 MB."))
    event = HiddenField()

    def data_bytes(self):
        """The uploaded file's name and bytes ("", b"" when nothing was chosen)."""
        upload = self.file.data
        if upload is None or not hasattr(upload, "read"):
            return "", b""
        try:
            return upload.filename or "", upload.read()
        finally:
            upload.close()  # a big upload is spooled to a temporary file: let it go now


class MappingForm(Form):
    """One select per field, listing the file's columns; the choices come from the upload."""

    name = SelectField(FIELD_LABELS["name"], validate_choice=False)
    first_name = SelectField(FIELD_LABELS["first_name"], validate_choice=False)
    last_name = SelectField(FIELD_LABELS["last_name"], validate_choice=False)
    email = SelectField(FIELD_LABELS["email"], validate_choice=False)
    job_title = SelectField(FIELD_LABELS["job_title"], validate_choice=False)
    company = SelectField(FIELD_LABELS["company"], validate_choice=False)

    def offer(self, header, detected):
        """Offer the file's columns in every select; preselect the detected ones unless posted."""
        choices = [(NOT_IN_FILE, "(not in this file)")] + [
            (str(i), shown(cell) or f"Column {i + 1}") for i, cell in enumerate(header)]
        for field in FIELDS:
            select = self[field]
            select.choices = choices
            if select.raw_data is None or not select.raw_data:
                select.data = NOT_IN_FILE if detected.get(field) is None else str(detected[field])

    def mapping(self, columns):
        """{field: column index or None} as chosen; a value that isn't a column gets bad_mapping."""
        chosen = {}
        for field in FIELDS:
            value = self[field].data or NOT_IN_FILE
            if value == NOT_IN_FILE:
                chosen[field] = None
            elif value.isascii() and value.isdecimal() and int(value) < columns:
                chosen[field] = int(value)
            else:
                self[field].errors = [*self[field].errors, coded("bad_mapping", "Choose a column from the file.")]
                chosen[field] = None
        return chosen
