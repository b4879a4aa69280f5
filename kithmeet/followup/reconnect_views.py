"""Reconnect today: the day's picks with their drafts, "Done", "not today", and the "send them
a link" draft. Registered on followup's blueprint (views.bp) by register_blueprints."""
from flask import flash, redirect, render_template, url_for

from ..auth import current_person, person_required
from ..connections import rotation
from ..database import utcnow
from . import reconnect
from .reconnect_forms import LinkDraftForm
from .views import bp


def _today():
    """Days are UTC days: one rotation for everyone's "today", whatever their time zone."""
    return utcnow().date()


def _link_form(public_id, **kwargs):
    # Prefixed by the connection: the page holds one of these per pick, and ids stay unique.
    return LinkDraftForm(prefix=public_id, **kwargs)


@bp.get("/followup/reconnect", endpoint="reconnect")
@person_required
def reconnect_page():
    chosen = reconnect.picks(current_person(), _today())
    forms = {pick.public_id: _link_form(pick.public_id, formdata=None) for pick in chosen}
    return render_template("followup/reconnect.html", picks=chosen, forms=forms)


@bp.post("/followup/reconnect/<public_id>/done")
@person_required
def reconnect_done(public_id):
    rotation.done(current_person(), public_id)
    # No name: a flash waits in the stored session (docs/decisions.md).
    flash("Done. They'll come round again in a month or so.", "success")
    return redirect(url_for(".reconnect"))


@bp.post("/followup/reconnect/<public_id>/skip")
@person_required
def reconnect_skip(public_id):
    person, today = current_person(), _today()
    before = {pick.public_id for pick in reconnect.picks(person, today)}
    rotation.skip(person, public_id, today)
    # Promise a newcomer only when the page will show one: near the end of a list, no one is left.
    newcomer = any(pick.public_id not in before for pick in reconnect.picks(person, today))
    flash("Not today. They're back tomorrow; someone else takes their place." if newcomer else
          "Not today. They're back tomorrow.", "success")
    return redirect(url_for(".reconnect"))


@bp.route("/followup/reconnect/<public_id>/draft", methods=["GET", "POST"])
@person_required
def reconnect_draft(public_id):
    """The "send them a link" draft, made on the server: nothing is stored, so a POST answers
    with the draft itself (or the form with its errors and what was typed)."""
    chosen = reconnect.pick(current_person(), public_id)
    form = _link_form(public_id)
    draft = None
    if form.validate_on_submit():
        text, mail, text_message = chosen.link_draft(form.link.data, form.line.data)
        draft = {"text": text, "mailto": mail, "sms": text_message}
    status = 400 if form.is_submitted() and draft is None else 200
    return render_template("followup/reconnect_draft.html", pick=chosen, form=form, draft=draft), status
