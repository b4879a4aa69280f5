from wtforms import (BooleanField, DateTimeLocalField, EmailField, PasswordField, SelectChoice, SelectField, StringField,
                     TextAreaField)
from wtforms.validators import DataRequired, Email, Optional, ValidationError

from ..events.models import DEFAULT_PROMPTS
from ..events.series import MAX_URL, RETENTION_MONTHS
from ..formtools import Form, at_most, coded, no_controls, required, strip, web_url
from .services import MAX_PASSWORD, MIN_PASSWORD


def password_length(_form, field):
    if not MIN_PASSWORD <= len(field.data or "") <= MAX_PASSWORD:
        raise ValidationError(coded("weak_password", f"Use {MIN_PASSWORD} to {MAX_PASSWORD} characters."))


class SetupForm(Form):
    code = StringField("Setup code", filters=[strip], validators=[required("Enter the setup code."), at_most(40), no_controls()],
                       description="Printed in the terminal where kithmeet is running.")
    email = EmailField("Your email", filters=[strip], validators=[
        required("Enter your email."), at_most(254), no_controls(), Email(coded("bad_email", "That email address doesn't look right."))])
    password = PasswordField("Choose a password", validators=[
        required("Choose a password."), password_length])


class LoginForm(Form):
    email = EmailField("Email", filters=[strip], validators=[required("Enter your email."), at_most(254), no_controls()])
    password = PasswordField("Password", validators=[required("Enter your password."), at_most(200)])


class EventForm(Form):
    series = StringField("Series", filters=[strip], render_kw={"list": "series-names"},
                         validators=[Optional(), at_most(120), no_controls()],
                         description="The recurring meetup this event belongs to, e.g. “Thursday Gathering”.")
    name = StringField("Event name", filters=[strip], validators=[
        required("Give the event a name."), at_most(120), no_controls()])
    starts_at = DateTimeLocalField("Date and time", format=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
                                   validators=[required("Pick a date and time, e.g. 2026-11-26 19:00.")])
    venue = StringField("Venue", filters=[strip], validators=[Optional(), at_most(200), no_controls()])
    description = TextAreaField("Description", filters=[strip],
                                validators=[Optional(), at_most(2000), no_controls(multiline=True)])
    prompt_0 = StringField("Prompt 1", filters=[strip], default=DEFAULT_PROMPTS[0],
                           validators=[Optional(), at_most(80), no_controls()])
    prompt_1 = StringField("Prompt 2", filters=[strip], default=DEFAULT_PROMPTS[1],
                           validators=[Optional(), at_most(80), no_controls()])
    prompt_2 = StringField("Prompt 3", filters=[strip], default=DEFAULT_PROMPTS[2],
                           validators=[Optional(), at_most(80), no_controls()])
    prompt_3 = StringField("Prompt 4", filters=[strip], validators=[Optional(), at_most(80), no_controls()])
    prompt_4 = StringField("Prompt 5", filters=[strip], validators=[Optional(), at_most(80), no_controls()])

    def prompts(self):
        return [self.prompt_0.data, self.prompt_1.data, self.prompt_2.data, self.prompt_3.data, self.prompt_4.data]

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        # Across fields, so here rather than in a field validator that Optional() would skip.
        labels = [label.casefold() for label in self.prompts() if label]
        problem = code = None
        if not labels:
            problem, code = "Keep at least one prompt: it leads the badge.", "no_prompt"
        elif len(set(labels)) != len(labels):
            problem, code = "Each prompt must be different.", "duplicate_prompt"
        if problem:
            self.prompt_0.errors = [*self.prompt_0.errors, coded(code, problem)]
            return False
        return valid


class EditEventForm(EventForm):
    """The new-event form filled in with an event's values. The series is left out: an event
    stays in the series it was made in (events.update_event)."""
    series = None

    @classmethod
    def for_event(cls, event):
        labels = event.prompt_labels
        return cls(data={"name": event.name, "starts_at": event.starts_at, "venue": event.venue,
                         "description": event.description,
                         **{f"prompt_{i}": labels[i] if i < len(labels) else "" for i in range(5)}})


class DeleteEventForm(Form):
    """Deleting a draft cannot be undone, so the button comes with a box to tick."""
    confirm = BooleanField("Yes, delete this draft", validators=[
        DataRequired(coded("confirm_delete", "Tick the box to delete the draft."))])


class StatusForm(Form):
    """Open or close an event: the buttons on the event page post one of these values."""
    status = SelectField("Status", choices=[SelectChoice("open", "Open"), SelectChoice("closed", "Closed")])


def _months(_form, field):
    low, high = RETENTION_MONTHS
    value = (field.data or "").strip()
    # The length first: int() refuses a string of more than 4,300 digits with a ValueError.
    if len(value) > 6 or not value.isdecimal() or not low <= int(value) <= high:  # isdecimal: what int() reads
        raise ValidationError(coded("bad_retention", f"Enter a whole number of months from {low} to {high}."))


def _web_address(_form, field):
    field.data = web_url(field.data)


class SeriesSettingsForm(Form):
    """A series' retention and code-of-conduct link (events/series.py checks both again)."""
    retention_months = StringField("Keep attendee data for (months)", filters=[strip],
                                   render_kw={"inputmode": "numeric", "min": RETENTION_MONTHS[0],
                                              "max": RETENTION_MONTHS[1]},
                                   validators=[required("Enter a number of months."), _months],
                                   description="After a person's last event in this series, from "
                                               f"{RETENTION_MONTHS[0]} to {RETENTION_MONTHS[1]} months. "
                                               "Coming to any event again starts it anew.")
    code_of_conduct_url = StringField("Code of conduct link", filters=[strip],
                                      render_kw={"inputmode": "url", "autocomplete": "url"},
                                      validators=[Optional(), at_most(MAX_URL), no_controls(), _web_address],
                                      description="Shown on the join page. Leave empty for none.")

    def months(self):
        return int(self.retention_months.data)
