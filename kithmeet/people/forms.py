import re

from wtforms import BooleanField, EmailField, HiddenField, StringField, TelField
from wtforms.validators import Email, Optional, ValidationError

from ..formtools import Form, at_most, coded, no_controls, required, strip, web_url
from .models import CONTACT_KINDS
from .profile import Profile

PHONE = re.compile(r"^\+?[0-9 ()./-]{5,30}$")


class ProfileForm(Form):
    name = StringField("Your name", filters=[strip], validators=[
        required("Tell people your name."), at_most(80), no_controls()], render_kw={"maxlength": 80})
    pronouns = StringField("Pronouns", filters=[strip], validators=[Optional(), at_most(40), no_controls()],
                           render_kw={"maxlength": 40},
                           description="Optional, e.g. she/her")
    headline = StringField("Headline", filters=[strip], validators=[Optional(), at_most(120), no_controls()],
                           render_kw={"maxlength": 120},
                           description="One line about you, e.g. “Backend dev learning Rust”")
    email = EmailField("Email", filters=[strip], render_kw={"autocomplete": "email"}, validators=[
        Optional(), at_most(254), no_controls(), Email(coded("bad_email", "That email address doesn't look right."))])
    share_email = BooleanField("Share with people I connect with", default=True)
    phone = TelField("Phone", filters=[strip], render_kw={"autocomplete": "tel"},
                     validators=[Optional(), at_most(30), no_controls()])
    share_phone = BooleanField("Share with people I connect with", default=True)
    linkedin = StringField("LinkedIn", filters=[strip], render_kw={"autocomplete": "off"},
                           validators=[Optional(), at_most(200), no_controls()],
                           description="Your profile address or just your profile name")
    share_linkedin = BooleanField("Share with people I connect with", default=True)
    website = StringField("Website", filters=[strip], render_kw={"autocomplete": "url", "inputmode": "url"},
                          validators=[Optional(), at_most(200), no_controls()])
    share_website = BooleanField("Share with people I connect with", default=True)
    # Unticked (and absent) means the default: contacts show as soon as someone connects.
    confirm_before_sharing = BooleanField(
        "Ask me first", description="Show my contact details to someone only after I confirm our connection. "
                                    "Otherwise they see the ones I share as soon as we connect.")
    nonce = HiddenField()

    prompt_fields = ()

    def validate_phone(self, field):
        if field.data and not PHONE.match(field.data):
            raise ValidationError(coded("bad_phone", "Use digits, spaces and an optional leading +, e.g. +44 20 7946 0958."))

    def validate_linkedin(self, field):
        value = field.data or ""
        if value and "/" not in value and "." not in value:
            if not re.match(r"^[A-Za-z0-9-]{3,100}$", value):
                raise ValidationError(coded("bad_url", "Use your LinkedIn profile name (letters, digits, dashes) or its address."))
            value = "https://www.linkedin.com/in/" + value
        field.data = web_url(value, host="linkedin.com")

    def validate_website(self, field):
        field.data = web_url(field.data)

    def prompt_answers(self):
        return [(label, getattr(self, name).data or "") for name, label in self.prompt_fields]

    def profile(self):
        """The form as the Profile the people services take."""
        return Profile(
            name=self.name.data, pronouns=self.pronouns.data or "", headline=self.headline.data or "",
            contacts={kind: getattr(self, kind).data or "" for kind in CONTACT_KINDS},
            shared={kind: getattr(self, "share_" + kind).data for kind in CONTACT_KINDS},
            answers=tuple(self.prompt_answers()), share_on_connect=not self.confirm_before_sharing.data)

    def contact_rows(self):
        return [(getattr(self, kind), getattr(self, "share_" + kind)) for kind in CONTACT_KINDS]


class EditProfileForm(ProfileForm):
    """The join form's fields plus the e-mail identity, for the person's own profile page.

    The identity is checked by people.identity (bad_email, email_taken), shown beside this field."""
    email_identity = EmailField(
        "Sign-in email", filters=[strip], render_kw={"autocomplete": "email"},
        validators=[Optional(), at_most(254), no_controls()],
        description="We send sign-in links and the e-mail after an event here. Nobody else sees it; "
                    "the contact email below is the one you share.")


def profile_form(prompts, person=None, base=ProfileForm, ask_code=False, **kwargs):
    """A ProfileForm (or `base`) with one field per prompt, prefilled from `person`; with
    `ask_code`, a field for the code announced at the venue (events.join_policy)."""
    attrs = {}
    if ask_code:
        attrs["entry_code"] = StringField(
            "Code for tonight", filters=[strip], render_kw={"autocapitalize": "characters", "spellcheck": "false"},
            validators=[required("Enter the code announced at the venue."), at_most(40), no_controls()],
            description="The organizers announce it at the venue.")
    names = []
    for i, label in enumerate(prompts):
        name = f"prompt_{i}"
        names.append((name, label))
        attrs[name] = StringField(label, filters=[strip], validators=[Optional(), at_most(200), no_controls()],
                                  render_kw={"maxlength": 200})
    attrs["prompt_fields"] = tuple(names)
    form_class = type("EventProfileForm", (base,), attrs)
    if person is not None:
        # Posted data still wins over these: a failed submit shows what was typed.
        kwargs.setdefault("data", _person_data(person, names))
    return form_class(**kwargs)


def _person_data(person, prompt_fields):
    data = {"name": person.name, "pronouns": person.pronouns, "headline": person.headline,
            "confirm_before_sharing": not person.share_on_connect, "email_identity": person.email or ""}
    contacts = {contact.kind: contact for contact in person.contacts}
    for kind in CONTACT_KINDS:
        contact = contacts.get(kind)
        data[kind] = contact.value if contact else ""
        data["share_" + kind] = contact.shared if contact else True
    answers = {answer.prompt: answer.answer for answer in person.answers}
    for name, label in prompt_fields:
        data[name] = answers.get(label, "")
    return data


class EmailSigninForm(Form):
    """"I've been here before": the address to e-mail a sign-in link to (people/email_signin.py)."""
    email = EmailField("Your email address", filters=[strip], render_kw={"autocomplete": "email"},
                       description="The one you gave when you joined.", validators=[
        required("Enter the email address you gave when you joined."), at_most(254), no_controls(),
        Email(coded("bad_email", "That email address doesn't look right."))])


class DeleteAccountForm(Form):
    """Deleting an account cannot be undone: the person types a word to confirm (people/erasure.py)."""
    confirm = StringField("Type DELETE to confirm", filters=[strip], render_kw={"autocomplete": "off"},
                          validators=[required("Type DELETE to confirm."), at_most(20), no_controls()])
