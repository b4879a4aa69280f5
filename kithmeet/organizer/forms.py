from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, EmailField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from ..events.models import DEFAULT_PROMPTS
from ..formtools import at_most, no_controls, strip
from .services import MIN_PASSWORD


class SetupForm(FlaskForm):
    code = StringField("Setup code", filters=[strip], validators=[DataRequired("Enter the setup code."), at_most(40)],
                       description="Printed in the terminal where kithmeet is running.")
    email = EmailField("Your email", filters=[strip], validators=[
        DataRequired("Enter your email."), at_most(254), Email("That email address doesn't look right.")])
    password = PasswordField("Choose a password", validators=[
        DataRequired("Choose a password."),
        Length(min=MIN_PASSWORD, max=200, message=f"Use {MIN_PASSWORD} to 200 characters.")])


class LoginForm(FlaskForm):
    email = EmailField("Email", filters=[strip], validators=[DataRequired("Enter your email."), at_most(254)])
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), at_most(200)])


class EventForm(FlaskForm):
    series = StringField("Series", filters=[strip], render_kw={"list": "series-names"},
                         validators=[Optional(), at_most(120), no_controls()],
                         description="The recurring meetup this event belongs to, e.g. “Thursday Gathering”.")
    name = StringField("Event name", filters=[strip], validators=[
        DataRequired("Give the event a name."), at_most(120), no_controls()])
    starts_at = DateTimeLocalField("Date and time", format=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
                                   validators=[DataRequired("Pick a date and time, e.g. 2026-11-26 19:00.")])
    venue = StringField("Venue", filters=[strip], validators=[Optional(), at_most(200), no_controls()])
    description = TextAreaField("Description", filters=[strip],
                                validators=[Optional(), at_most(2000), no_controls(multiline=True)])
    prompt_0 = StringField("Prompt 1", filters=[strip], default=DEFAULT_PROMPTS[0],
                           validators=[Optional(), at_most(80), no_controls()])
    prompt_1 = StringField("Prompt 2", filters=[strip], default=DEFAULT_PROMPTS[1],
                           validators=[Optional(), at_most(80), no_controls()])
    prompt_2 = StringField("Prompt 3", filters=[strip], default=DEFAULT_PROMPTS[2],
                           validators=[Optional(), at_most(80), no_controls()])

    def prompts(self):
        return [self.prompt_0.data, self.prompt_1.data, self.prompt_2.data]

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        # Across fields, so here rather than in a field validator that Optional() would skip.
        labels = [label.casefold() for label in self.prompts() if label]
        problem = None
        if not labels:
            problem = "Keep at least one prompt: it leads the badge."
        elif len(set(labels)) != len(labels):
            problem = "Each prompt must be different."
        if problem:
            self.prompt_0.errors = [*self.prompt_0.errors, problem]
            return False
        return valid
