"""Joining an event, the badge page, and personal sign-in links."""
import uuid

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for

from ..auth import current_person, person_required, sign_in_person, sign_out_person
from ..errors import DomainError, wants_json
from ..events import join_policy
from ..events import services as events
from ..formtools import coded
from ..redirects import safe_next
from ..tokens import grouped, normalize
from ..urls import external_url
from . import erasure, export, services
from .forms import DeleteAccountForm, EditProfileForm, profile_form
from .profile import shared_contacts

bp = Blueprint("people", __name__)


@bp.get("/j/<code>")
def join_lowercase(code):
    return redirect(url_for(".join", code=normalize(code), next=request.args.get("next")), 301)


JOIN_EMAIL_ERRORS = {"bad_email", "email_known", "email_taken"}
ENTRY_CODE_ERRORS = {"bad_entry_code", "too_many_guesses"}


@bp.route("/J/<code>", methods=["GET", "POST"])
def join(code):
    event = events.event_by_join_code(normalize(code))
    person = current_person()
    try:
        events.ensure_joinable(event)
    except DomainError as error:
        # After the night is when the poster is scanned again (a new phone, a lost cookie): a page
        # that leads on (back in, or to the people met) rather than the bare error page.
        if error.code != "event_closed" or wants_json():
            raise
        return render_template("people/join_closed.html", event=event, person=person, error=error), error.status
    next_path = request.args.get("next", "")
    # Someone already checked in is back in without the code (events.services.check_in).
    ask_code = event.join_policy == "code" and not (person and events.is_checked_in(person.id, event.id))
    form = profile_form(event.prompt_labels, person=person, ask_code=ask_code)
    if request.method == "GET":
        # The nonce is honoured only from the browser it was given to: it must not sign anyone in elsewhere.
        form.nonce.data = session["join_nonce"] = uuid.uuid4().hex
        if person is not None:
            try:  # said before they fill the form in, in the words the join itself would refuse with
                events.ensure_not_excluded(person.id, event)
            except DomainError as error:
                form.form_errors.append(coded(error.code, error.message))
        if join_policy.is_full(event, person.id if person else None):  # before the form is filled in
            form.form_errors.append(coded("event_full", join_policy.full(event).message))
    if form.validate_on_submit():
        try:
            joined = services.join_event(event, form.profile(), person=person, nonce=form.nonce.data,
                                         issued_nonce=session.get("join_nonce"),
                                         entry_code=form.entry_code.data if ask_code else None)
        except DomainError as error:
            if ask_code and error.code in ENTRY_CODE_ERRORS:
                form.entry_code.errors = [*form.entry_code.errors, coded(error.code, error.message)]
            elif error.code in JOIN_EMAIL_ERRORS:  # beside the field; email_known also offers a sign-in link there
                form.email.errors = [*form.email.errors, coded(error.code, error.message)]
            else:
                form.form_errors.append(coded(error.code, error.message))
        else:
            session.pop("join_nonce", None)  # spent: a stale copy of this form signs no one in later
            sign_in_person(joined)
            flash("You're checked in.", "success")
            # Back to the badge that was scanned before joining, if that is where they came from.
            return redirect(safe_next(next_path, within="/B/", default=url_for(".badge")))
    return render_template("people/join.html", event=event, form=form, person=person, next_path=next_path)


@bp.get("/badge")
@person_required
def badge():
    person = current_person()
    # Branded as the event where the badge is in use tonight, if any (events/branding.py).
    return render_template("people/badge.html", person=person, code=grouped(person.badge_token),
                           event=events.open_event_or_none(person.id))


# The service's refusals that belong to one field; any other is shown above the form.
PROFILE_ERROR_FIELDS = {"name_required": "name", "bad_email": "email_identity", "email_taken": "email_identity"}


@bp.route("/profile", methods=["GET", "POST"])
@person_required
def edit_profile():
    person = current_person()
    form = profile_form(services.profile_prompts(person), person=person, base=EditProfileForm)
    if form.validate_on_submit():
        email_before = person.email
        try:
            services.update_profile(person, form.profile(), form.email_identity.data)
        except DomainError as error:
            message = coded(error.code, error.message)
            if error.code in PROFILE_ERROR_FIELDS:
                field = form[PROFILE_ERROR_FIELDS[error.code]]
                field.errors = [*field.errors, message]
            else:
                form.form_errors.append(message)
        else:
            # Post/redirect/get back here: the message is at the top of the page, where it opens.
            flash("Your profile is saved. A new sign-in email is confirmed the first time you sign in with a "
                  "link sent to it." if person.email and person.email != email_before else
                  "Your profile is saved.", "success")
            return redirect(url_for(".edit_profile"))
    # The preview is drawn from the saved profile (a refused save rolled back), never from the form.
    return render_template("people/profile.html", form=form, person=person,
                           shared=shared_contacts(person))


@bp.route("/badge/sign-in-link", methods=["GET", "POST"])
@person_required
def signin_link():
    link = None
    if request.method == "POST":
        # Shown in this response only: the secret is never put in a cookie or a redirect, and
        # the page is no-store. Sending the form again makes a new link and voids this one.
        link = external_url("people.signin", secret=services.issue_signin_secret(current_person()))
    return render_template("people/signin_link.html", link=link), 200, {"Cache-Control": "no-store"}


@bp.post("/badge/replace")
@person_required
def replace_badge():
    services.replace_badge(current_person())
    flash("Your badge has a new code. The old one no longer works; print or show this one.", "success")
    return redirect(url_for(".badge"))


@bp.route("/signin/<secret>", methods=["GET", "POST"])
def signin(secret):
    # GET only shows whose link it is: link previews and prefetchers must not sign anyone in.
    if request.method == "POST":
        person = services.redeem_signin_secret(secret)
        sign_in_person(person)
        # No name here: a flash waits in the server-side session until shown, and a session
        # must hold ids only (a deleted account's name must not outlive it there).
        flash("You're signed in.", "success")
        return redirect(url_for(".badge"))
    person = services.person_by_signin_secret(secret)
    return render_template("people/signin.html", person=person), 200, {"Cache-Control": "no-store"}


@bp.post("/badge/sign-out-everywhere")
@person_required
def sign_out_everywhere():
    person = services.sign_out_everywhere(current_person())
    sign_in_person(person)  # this device stays signed in
    flash("Every other device is signed out, and any sign-in link you made no longer works.", "success")
    return redirect(url_for(".badge"))


@bp.post("/signout")
def signout():
    sign_out_person()
    flash("Signed out on this device.", "info")
    return redirect(url_for("home.index"))


# Your account: download everything kithmeet holds about you, or delete it all.

def _download(body, filename, mimetype):
    # A text/* mimetype gets "; charset=utf-8" from the response class.
    return current_app.response_class(body, mimetype=mimetype, headers={
        "Content-Disposition": export.attachment(filename), "Cache-Control": "no-store"})


@bp.get("/account")
@person_required
def account():
    return render_template("people/account.html", person=current_person())


@bp.get("/account/my-data.json")
@person_required
def export_data():
    return _download(export.json_document(current_person()), "kithmeet-my-data.json", "application/json")


@bp.get("/account/people-i-met.vcf")
@person_required
def export_people():
    return _download(export.people_vcards(current_person()), "kithmeet-people-i-met.vcf", "text/vcard")


@bp.get("/account/my-card.vcf")
@person_required
def export_own_card():
    return _download(export.own_vcard(current_person()), "kithmeet-my-card.vcf", "text/vcard")


@bp.get("/account/people-i-met.csv")
@person_required
def contacts_csv():
    return _download(export.contacts_csv(current_person()), "kithmeet-people-i-met.csv", "text/csv")


@bp.get("/followup/<public_id>.vcf")
@person_required
def connection_vcard(public_id):
    # Beside the follow-up pages it belongs with; an export, so people/export.py writes it.
    body, name = export.connection_vcard(current_person(), public_id)
    return _download(body, f"{name}.vcf", "text/vcard")


@bp.route("/account/delete", methods=["GET", "POST"])
@person_required
def delete_account():
    form = DeleteAccountForm()
    if form.validate_on_submit():
        try:
            erasure.delete_account(current_person(), form.confirm.data)
        except DomainError as error:
            form.confirm.errors = [*form.confirm.errors, coded(error.code, error.message)]
        else:
            sign_out_person()  # other devices' sign-ins name a person who no longer exists
            flash("Your account and everything kithmeet held about you are deleted.", "success")
            return redirect(url_for("home.index"))
    return render_template("people/account_delete.html", form=form, word=erasure.CONFIRM_WORD)


from . import email_views  # noqa: E402,F401 - "I've been here before": its routes join this blueprint
