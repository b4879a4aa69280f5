"""The follow-up list."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from ..auth import current_person, person_required
from ..errors import DomainError, NotFound
from . import services
from .forms import EntryForm

bp = Blueprint("followup", __name__)


def _render(number, failed=None):
    """The list page; `failed` is (public_id, form) of an entry whose save failed, shown as typed."""
    page = services.followup_page(current_person(), number, current_app.config["FOLLOWUP_PAGE_SIZE"])
    forms = {entry.connection.public_id: EntryForm(
        formdata=None, prefix=entry.connection.public_id,
        data={"talked_about": entry.shared_text, "talked_about_version": entry.shared_text_version,
              "private_note": entry.side.private_note, "status": entry.side.status})
        for entry in page.entries}
    if failed:
        forms[failed[0]] = failed[1]
    return render_template("followup/list.html", page=page, forms=forms), 400 if failed else 200


@bp.get("/followup")
@person_required
def index():
    return _render(request.args.get("page", default=1, type=int))


@bp.post("/followup/<public_id>")
@person_required
def update(public_id):
    number = request.args.get("page", default=1, type=int)
    form = EntryForm(prefix=public_id)
    if form.validate_on_submit():
        try:
            services.update_entry(current_person(), public_id, status=form.status.data,
                                  private_note=form.private_note.data, talked_about=form.talked_about.data,
                                  talked_about_version=form.talked_about_version.data or None)
        except NotFound:
            raise  # not one of yours: the 404 page says so
        except DomainError as error:
            form.form_errors.append(error.message)
        else:
            flash("Saved.", "success")
            return redirect(url_for(".index", page=services.page_number(number), _anchor=f"c-{public_id}"))
    return _render(number, (public_id, form))
