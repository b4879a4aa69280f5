"""The branding page's form (events/branding.py checks everything again)."""
from flask_wtf.file import FileField
from wtforms import BooleanField, StringField
from wtforms.validators import Optional

from ..formtools import Form, at_most, no_controls, strip


class BrandingForm(Form):
    accent_color = StringField(
        "Accent colour", filters=[strip], render_kw={"autocomplete": "off", "spellcheck": "false", "maxlength": 7},
        validators=[Optional(), at_most(7), no_controls()],
        description="A # and six hexadecimal digits, e.g. #0d6b63. Buttons on the join page, badge and poster "
                    "take it, with white or black text, whichever reads better. Leave empty for kithmeet's own.")
    logo = FileField("Logo", render_kw={"accept": "image/png,image/jpeg"},
                     description="PNG or JPEG, up to 2 MB. We keep a copy at most 600 pixels wide, without the "
                                 "photo's details (camera, place).")
    remove_logo = BooleanField("Remove the logo")
