"""'I've been here before': asking for a sign-in link by e-mail, and using one.

Routes on the people blueprint (people/views.py imports this module). The service is
people/email_signin.py; the request page answers the same way for any valid address.
"""
import time

from flask import current_app, flash, redirect, render_template, request, url_for

from .. import ratelimits
from ..auth import current_person, sign_in_person
from ..errors import DomainError, NotFound
from ..formtools import coded
from . import email_signin
from .forms import EmailSigninForm
from .views import bp


@bp.route("/signin/email", methods=["GET", "POST"])
def signin_by_email():
    form = EmailSigninForm()
    if form.validate_on_submit():
        started = time.monotonic()
        try:
            email_signin.request_link(form.email.data, client=ratelimits.requester())
        except DomainError as error:  # a malformed address: said to anyone, it tells nothing
            form.email.errors = [*form.email.errors, coded(error.code, error.message)]
        else:
            # A known address costs a few writes an unknown one does not: answer no sooner than
            # the floor either way, so the response time does not tell them apart.
            time.sleep(max(0.0, started + current_app.config["EMAIL_SIGNIN_MIN_SECONDS"] - time.monotonic()))
            return redirect(url_for(".signin_by_email", sent=1))
    sent = request.method == "GET" and request.args.get("sent") == "1"
    released = request.method == "GET" and request.args.get("released") == "1"
    return render_template("people/signin_email.html", form=form, sent=sent, released=released)


@bp.route("/signin/email/<token>", methods=["GET", "POST"])
def email_link(token):
    # GET only asks: mail scanners and link previews open links, and must not sign anyone in.
    if request.method == "POST" and request.form.get("action") == "release":
        # "This isn't my profile": the address comes off that profile; nobody is signed in.
        try:
            email_signin.release(token)
        except NotFound:
            raise
        except DomainError as error:  # confirmed there: the page again, saying why
            person = email_signin.person_by_link(token)
            return render_template("people/email_link.html", person=person, error=error), 409, {
                "Cache-Control": "no-store"}
        return redirect(url_for(".signin_by_email", released=1))
    if request.method == "POST":
        sign_in_person(email_signin.redeem(token, current=current_person()))
        flash("You're signed in. Here are the people you met.", "success")
        return redirect(url_for("followup.index"))
    person = email_signin.person_by_link(token)
    return render_template("people/email_link.html", person=person), 200, {"Cache-Control": "no-store"}
