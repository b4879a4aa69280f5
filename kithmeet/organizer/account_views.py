"""The organizer's account pages: the two-factor sign-in step, changing and resetting the
password, turning two-factor on and off, and the activity log. Registered on views.bp."""
from flask import flash, redirect, render_template, request, session, url_for

from ..audit import services as audit
from ..auth import current_organizer, organizer_required, sign_in_organizer
from ..errors import DomainError
from ..formtools import coded
from ..redirects import safe_next
from . import passwords, twofactor
from .account_forms import ChangePasswordForm, CodeForm, ResetPasswordForm, SetupCodeForm, TurnOffForm
from .views import PENDING_SIGN_IN, bp

# Pages that show a secret (a TOTP secret, recovery codes, a reset form under its link).
NO_STORE = {"Cache-Control": "no-store"}


def _show(form, field, error):
    """The refusal beside `field`, or above the form when it is about no one field."""
    if field is None:
        form.form_errors.append(coded(error.code, error.message))
    else:
        field.errors = [*field.errors, coded(error.code, error.message)]


@bp.route("/login/code", methods=["GET", "POST"])
def login_code():
    pending = session.get(PENDING_SIGN_IN)
    if not (isinstance(pending, list) and len(pending) == 4):
        flash("Sign in with your email and password first.", "info")
        return redirect(url_for(".login"))
    form = CodeForm()
    expired = False
    if form.validate_on_submit():
        try:
            organizer = twofactor.complete_sign_in(*pending, form.code.data)
        except DomainError as error:
            expired = error.code == "sign_in_expired"
            if expired:
                session.pop(PENDING_SIGN_IN, None)
            _show(form, form.code if error.code == "bad_code" else None, error)
        else:
            session.pop(PENDING_SIGN_IN, None)
            sign_in_organizer(organizer)
            return redirect(safe_next(request.args.get("next"), within="/organizer", default=url_for(".dashboard")))
    return render_template("organizer/login_code.html", form=form, expired=expired)


@bp.get("/account")
@organizer_required
def account():
    organizer = current_organizer()
    on = twofactor.is_on(organizer)
    return render_template("organizer/account.html", organizer=organizer, two_factor_on=on,
                           codes_left=twofactor.recovery_codes_left(organizer) if on else None)


@bp.route("/account/password", methods=["GET", "POST"])
@organizer_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            organizer = passwords.change_password(current_organizer(), form.current_password.data,
                                                  form.new_password.data)
        except DomainError as error:
            _show(form, {"bad_password": form.current_password, "weak_password": form.new_password}.get(error.code),
                  error)
        else:
            sign_in_organizer(organizer)  # this browser stays signed in; every other one is signed out
            flash("Your password is changed, and every other sign-in has ended.", "success")
            return redirect(url_for(".account"))
    return render_template("organizer/password.html", form=form)


@bp.post("/account/two-factor/start")
@organizer_required
def start_two_factor():
    twofactor.start(current_organizer())
    return redirect(url_for(".confirm_two_factor"))


@bp.route("/account/two-factor", methods=["GET", "POST"])
@organizer_required
def confirm_two_factor():
    organizer = current_organizer()
    if twofactor.is_on(organizer) or not organizer.totp_secret:
        return redirect(url_for(".account"))
    form = SetupCodeForm()
    if form.validate_on_submit():
        try:
            codes = twofactor.turn_on(organizer, form.password.data, form.code.data)
        except DomainError as error:
            _show(form, {"bad_password": form.password, "bad_code": form.code}.get(error.code), error)
        else:
            sign_in_organizer(organizer)
            # Shown in this response only, never parked in the session; a reload cannot show them again.
            return render_template("organizer/recovery_codes.html", codes=codes), 200, NO_STORE
    return render_template("organizer/two_factor.html", form=form, secret=twofactor.secret_for_typing(organizer),
                           qr=twofactor.qr_svg(twofactor.provisioning_uri(organizer))), 200, NO_STORE


@bp.route("/account/two-factor/off", methods=["GET", "POST"])
@organizer_required
def disable_two_factor():
    organizer = current_organizer()
    if not twofactor.is_on(organizer):
        return redirect(url_for(".account"))
    form = TurnOffForm()
    if form.validate_on_submit():
        try:
            twofactor.turn_off(organizer, form.password.data, form.code.data)
        except DomainError as error:
            _show(form, {"bad_password": form.password, "bad_code": form.code}.get(error.code), error)
        else:
            sign_in_organizer(organizer)
            flash("Two-factor sign-in is off, and every other sign-in has ended.", "success")
            return redirect(url_for(".account"))
    return render_template("organizer/two_factor_off.html", form=form)


@bp.get("/activity")
@organizer_required
def activity():
    page = max(1, min(request.args.get("page", 1, type=int), 100_000))
    entries, more = audit.for_organizer(current_organizer().id, page)
    return render_template("organizer/activity.html", entries=entries, page=page, more=more)


@bp.route("/reset/<secret>", methods=["GET", "POST"])
def reset_password(secret):
    # A dead link is a 404 before any form. Reading never uses the link up: link previews
    # and prefetchers open it too.
    passwords.organizer_by_reset_secret(secret)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            passwords.reset_password(secret, form.password.data)
        except DomainError as error:
            if error.status == 404:
                raise
            _show(form, form.password if error.code == "weak_password" else None, error)
        else:
            # Not signed in here: with two-factor on, signing in still needs a code.
            flash("Your new password is set, and every sign-in has ended. Sign in with it.", "success")
            return redirect(url_for(".login"))
    return render_template("organizer/reset.html", form=form), 200, NO_STORE
