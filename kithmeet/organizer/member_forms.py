"""Forms of the members page, the invite link's page and leaving a series."""
from wtforms import EmailField, HiddenField, IntegerField, PasswordField, SelectChoice, SelectField
from wtforms.validators import Email, Optional

from ..events.members import INVITABLE
from ..events.models import ROLE_LABELS, ROLES
from ..formtools import Form, at_most, coded, no_controls, required, strip
from .forms import password_length


class InviteForm(Form):
    role = SelectField("Invite as", choices=[SelectChoice(role, ROLE_LABELS[role]) for role in INVITABLE], default="organizer",
                       description="Door volunteers run the kiosk and check people in; organizers run events.")
    email = EmailField("Their email (optional)", filters=[strip], validators=[
        Optional(), at_most(254), no_controls(), Email(coded("bad_email", "That email address doesn't look right."))],
        description="We e-mail them the link. Without one, copy the link and send it yourself.")


class RoleForm(Form):
    member = IntegerField(validators=[required("Choose a member.")])
    role = SelectField("Role", choices=[SelectChoice(role, ROLE_LABELS[role]) for role in reversed(ROLES)])


class MemberForm(Form):
    member = IntegerField(validators=[required("Choose a member.")])


class RevokeForm(Form):
    invite = HiddenField(validators=[required("Choose an invite."), at_most(16)])


class NewAccountForm(Form):
    email = EmailField("Your email", filters=[strip], validators=[
        required("Enter your email."), at_most(254), no_controls(),
        Email(coded("bad_email", "That email address doesn't look right."))])
    password = PasswordField("Choose a password", validators=[required("Choose a password."), password_length])


class ConfirmForm(Form):
    """A lone button: only the CSRF token."""
