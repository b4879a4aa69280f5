from wtforms import (BooleanField, DateTimeLocalField, EmailField, PasswordField, RadioField, SelectChoice, SelectField,
                     StringField, TextAreaField)
from wtforms.validators import DataRequired, Email, Optional, ValidationError

from ..errors import DomainError
from ..events import timezones
from ..events.join_policy import MAX_CAPACITY
from ..events.models import DEFAULT_PROMPTS, JOIN_POLICIES
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


POSITIONS = [SelectChoice(str(n), str(n)) for n in range(1, 6)]


def prompt_order(pairs):
    """[(label, position as posted)] -> the labels sorted by position, ties in box order."""
    def place(item):
        i, (_label, position) = item
        position = str(position or "")
        return (int(position) if position in {"1", "2", "3", "4", "5"} else i + 1, i)
    return [label for _i, (label, _position) in sorted(enumerate(pairs), key=place)]


def _time_zone(_form, field):
    try:
        field.data = timezones.checked_zone(field.data)
    except DomainError as error:
        raise ValidationError(coded(error.code, error.message)) from None


def time_zone_field(label, description):
    return StringField(label, filters=[strip], render_kw={"list": "time-zones", "autocomplete": "off"},
                       validators=[required("Choose a time zone."), at_most(timezones.MAX_ZONE), _time_zone],
                       description=description)


def _capacity(_form, field):
    value = field.data or ""
    # The length first: int() refuses a string of more than 4,300 digits with a ValueError.
    if len(value) > 6 or not value.isdecimal() or not 1 <= int(value) <= MAX_CAPACITY:
        raise ValidationError(coded("bad_capacity", f"Enter a whole number from 1 to {MAX_CAPACITY:,}, "
                                                    "or leave it empty for no limit."))


class EventForm(Form):
    series = StringField("Series", filters=[strip], render_kw={"list": "series-names"},
                         validators=[Optional(), at_most(120), no_controls()],
                         description="The recurring meetup this event belongs to, e.g. “Thursday Gathering”.")
    # Not "… series" in the label: the Series field's label must stay the only one saying it.
    time_zone = time_zone_field("Time zone",
                                "Only for a series named here for the first time; an existing series keeps "
                                "its own (change it in the series' settings). The date and time are in the "
                                "series' zone.")
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
    # Reordering without JavaScript: each prompt takes a position; ties keep the boxes' order.
    # Unchecked choices: a forged value falls back to the box's own place (prompt_order).
    prompt_0_position = SelectField("Position of the first prompt", choices=POSITIONS, default="1", validate_choice=False)
    prompt_1_position = SelectField("Position of the second prompt", choices=POSITIONS, default="2", validate_choice=False)
    prompt_2_position = SelectField("Position of the third prompt", choices=POSITIONS, default="3", validate_choice=False)
    prompt_3_position = SelectField("Position of the fourth prompt", choices=POSITIONS, default="4", validate_choice=False)
    prompt_4_position = SelectField("Position of the fifth prompt", choices=POSITIONS, default="5", validate_choice=False)
    # Who may join (events/join_policy.py checks the choice, the code and the number again).
    join_policy = RadioField("Who may join", default="open", validate_choice=False,
                             choices=[SelectChoice(value, label) for value, label in JOIN_POLICIES.items()])
    entry_code = StringField("Code announced at the venue", filters=[strip],
                             render_kw={"autocomplete": "off", "spellcheck": "false", "maxlength": 20},
                             validators=[Optional(), at_most(20), no_controls()],
                             description="Only with “A code announced at the venue”: 4 to 16 letters and digits, "
                                         "e.g. PIZZA-42. Leave it empty and we make one up.")
    capacity = StringField("Capacity", filters=[strip], render_kw={"inputmode": "numeric", "autocomplete": "off"},
                           validators=[Optional(), _capacity],
                           description="The most people who can check in. Leave it empty for no limit.")

    def capacity_value(self):
        return int(self.capacity.data) if self.capacity.data else None

    def prompts(self):
        """The prompt labels in the order their positions give (blanks kept: the service skips them)."""
        return prompt_order([(self[f"prompt_{i}"].data, self[f"prompt_{i}_position"].data) for i in range(5)])

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
    time_zone = None

    @classmethod
    def for_event(cls, event):
        labels = event.prompt_labels
        return cls(data={"name": event.name, "starts_at": timezones.local_input(event), "venue": event.venue,
                         "description": event.description, "join_policy": event.join_policy,
                         "entry_code": event.entry_code, "capacity": str(event.capacity or ""),
                         **{f"prompt_{i}": labels[i] if i < len(labels) else "" for i in range(5)}})


class RepeatEventForm(Form):
    """The next event of a series: only its date and time here; the rest is copied (events/repeat.py)."""
    starts_at = DateTimeLocalField("Date and time", format=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
                                   validators=[required("Pick a date and time, e.g. 2026-12-03 19:00.")])


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

    time_zone = time_zone_field("Time zone", "Event times are typed and shown in this zone. Changing it keeps "
                                             "each event's time on the clock (19:00 stays 19:00).")
    label_printer = BooleanField("A label printer is set up at the door",
                                 description="The kiosk then offers “print my badge” on a 62 × 100 mm label.")

    def months(self):
        return int(self.retention_months.data)
