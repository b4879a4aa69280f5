"""Forms of the organizer's account pages: password, two-factor, reset."""
from wtforms import PasswordField, StringField
from wtforms.validators import EqualTo

from ..formtools import Form, at_most, coded, no_controls, required, strip
from .forms import password_length


def _repeated(field_name):
    return EqualTo(field_name, coded("password_mismatch", "The two new passwords are not the same."))


class ChangePasswordForm(Form):
    current_password = PasswordField("Current password", validators=[required("Enter your current password."),
                                                                     at_most(200)])
    new_password = PasswordField("New password", validators=[required("Choose a new password."), password_length])
    confirm_password = PasswordField("New password again", validators=[
        required("Type the new password again."), _repeated("new_password")])


class ResetPasswordForm(Form):
    password = PasswordField("New password", validators=[required("Choose a new password."), password_length])
    confirm_password = PasswordField("New password again", validators=[
        required("Type the new password again."), _repeated("password")])


def _code_field(label="Code", description="The six digits your authenticator app shows, or a recovery code."):
    return StringField(label, filters=[strip], description=description,
                       validators=[required("Enter the code."), at_most(40), no_controls()])


class CodeForm(Form):
    """The second sign-in step: an app code, or a recovery code in its place."""
    code = _code_field()


class SetupCodeForm(Form):
    """Turning two-factor on: the password (a session alone must not turn it on), and a code
    made with the new secret, which proves the app has it."""
    password = PasswordField("Password", validators=[required("Enter your password."), at_most(200)])
    code = _code_field(description="The six digits your authenticator app shows now.")


class TurnOffForm(Form):
    password = PasswordField("Password", validators=[required("Enter your password."), at_most(200)])
    code = _code_field()
