"""The personal API token page, /settings/api-tokens: make a token (its secret is drawn into that
one response and never again), see one's tokens, revoke one. Pages for people, so a blueprint of
their own beside the JSON one."""
from flask import Blueprint, flash, redirect, render_template, url_for

from ..auth import current_person, person_required
from ..errors import DomainError
from ..formtools import coded
from . import tokens
from .forms import NewTokenForm, RevokeForm

bp = Blueprint("api_tokens", __name__)


def _page(form=None, secret=None, made=None, status=200):
    return render_template("api/tokens.html", tokens=tokens.tokens_of(current_person()), form=form or NewTokenForm(),
                           revoke_form=RevokeForm(), secret=secret, made=made), status


@bp.get("/settings/api-tokens")
@person_required
def index():
    return _page()


@bp.post("/settings/api-tokens")
@person_required
def create():
    form = NewTokenForm()
    if form.validate_on_submit():
        try:
            token, secret = tokens.create(current_person(), form.name.data)
        except DomainError as error:
            form.name.errors = [*form.name.errors, coded(error.code, error.message)]
        else:
            # Shown in this response only (no-store, as every page of a signed-in person): no
            # redirect, no session, no log line carries it.
            return _page(secret=secret, made=token)
    return _page(form, status=400)


@bp.post("/settings/api-tokens/revoke")
@person_required
def revoke():
    form = RevokeForm()
    if form.validate_on_submit():
        tokens.revoke(current_person(), form.token.data)  # anyone else's: NotFound, the 404 page
        flash("Revoked. Anything using that token can no longer reach your data.", "success")
    return redirect(url_for(".index"))
