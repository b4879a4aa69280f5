"""The follow-up list."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from ..auth import current_person, person_required
from ..errors import DomainError, NotFound
from ..formtools import coded
from . import drafts, services
from .forms import EntryForm

bp = Blueprint("followup", __name__)
CONFLICT = coded("edit_conflict", "They changed this line while you were editing. Your words are still "
                                  "in the box and theirs are above it: combine them, then save.")


def _entry_form(entry):
    data = {"talked_about": entry.shared_text, "talked_about_fingerprint": entry.shared_text_fingerprint,
            "private_note": entry.side.private_note, "private_note_seen": entry.side.private_note,
            "status": entry.side.status}
    if entry.conflicted:
        # Their current words are shown beside the field (and fingerprinted by it): the next
        # save is made knowing them, and conflicts again only if they change once more.
        data["talked_about"] = entry.draft.typed
    form = EntryForm(formdata=None, prefix=entry.connection.public_id, data=data)
    if entry.conflicted:
        form.talked_about.errors = [CONFLICT]
    return form


def _render(number, failed=None):
    """The list page; `failed` is (public_id, form) of an entry whose save failed, shown as typed."""
    page = services.followup_page(current_person(), number, current_app.config["FOLLOWUP_PAGE_SIZE"])
    forms = {entry.connection.public_id: _entry_form(entry) for entry in page.entries}
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
    number = services.page_number(request.args.get("page", default=1, type=int))
    form = EntryForm(prefix=public_id)
    if form.validate_on_submit():
        try:
            seen_note = form.private_note_seen.data if form.private_note_seen.raw_data else None
            result = drafts.save_entry(current_person(), public_id, status=form.status.data,
                                       private_note=form.private_note.data, private_note_seen=seen_note,
                                       talked_about=form.talked_about.data,
                                       talked_about_fingerprint=form.talked_about_fingerprint.data or None)
        except NotFound:
            raise  # not one of yours: the 404 page says so
        except DomainError as error:
            form.form_errors.append(coded(error.code, error.message))
        else:
            if result.conflict:
                flash("Your status and private note are saved. “Talked about” was changed by the other "
                      "person meanwhile: see below.", "error")
            else:
                flash("Saved.", "success")
            # Post/redirect/get: a reload shows the page again, never sends the form twice.
            return redirect(url_for(".index", page=number, _anchor=f"c-{public_id}"))
    return _render(number, (public_id, form))
