"""The door kiosk's forms. Every field is autocomplete="off" (the password "new-password",
which Chrome heeds where it ignores "off"): a shared tablet must not offer the previous
person's name or address to the next, nor an organizer's saved password."""
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import Email, Optional, ValidationError

from ..formtools import Form, at_most, coded, no_controls, required, strip

OFF = {"autocomplete": "off"}


class SearchForm(Form):
    name = StringField("Your name", filters=[strip], validators=[
        required("Type at least two letters of your name."), at_most(80), no_controls()],
        render_kw={**OFF, "maxlength": 80, "autocapitalize": "words", "spellcheck": "false"},
        description="Two or more letters, first or last name.")


class PickForm(Form):
    person = HiddenField()

    def validate_person(self, field):
        if not ((field.data or "").isascii() and field.data.isdecimal()) or len(field.data) > 18:
            raise ValidationError(coded("unknown_person", "Pick your name from the list."))

    def person_id(self):
        return int(self.person.data)


def join_form(prompt):
    """The short join form: a name, the event's first prompt (when it has one) and an optional e-mail."""
    attrs = {}
    if prompt:
        attrs["answer"] = StringField(prompt, filters=[strip], validators=[Optional(), at_most(200), no_controls()],
                                      render_kw={**OFF, "maxlength": 200})
    return type("KioskJoinForm", (JoinForm,), attrs)()


class JoinForm(Form):
    name = StringField("Your name", filters=[strip], validators=[
        required("Tell people your name."), at_most(80), no_controls()],
        render_kw={**OFF, "maxlength": 80, "autocapitalize": "words", "spellcheck": "false"},
        description="As you'd like it on your badge.")
    email = EmailField("Email (optional)", filters=[strip], render_kw=OFF, validators=[
        Optional(), at_most(254), no_controls(), Email(coded("bad_email", "That email address doesn't look right."))],
        description="For a sign-in link later and the follow-up e-mail. Nobody else sees it.")
    nonce = HiddenField()


class LeaveForm(Form):
    password = PasswordField("Organizer password", render_kw={"autocomplete": "new-password"},
                             validators=[required("Enter your password."), at_most(200)],
                             description="The password of the account that opened the kiosk.")
