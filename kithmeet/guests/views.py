"""Guest-list pages: upload, the column mapping with a preview, the import's report; and
"Is this you?" on an unclaimed guest's badge."""
from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for

from .. import ratelimits
from ..auth import current_organizer, organizer_required
from ..errors import DomainError
from ..formtools import allow_upload, coded
from . import parsing, services
from .forms import MappingForm, UploadForm

bp = Blueprint("guests", __name__)
# A guest list may be 5 MB, well past the app's MAX_CONTENT_LENGTH for forms; a little more
# lets parsing.decode refuse a slightly bigger file beside the field instead of with a 413.
UPLOAD_LIMIT = parsing.MAX_BYTES + 512 * 1024


@bp.app_template_filter("masked_email")
def masked_email(address):
    return services.masked_email(address)


@bp.app_template_global("claimable")
def claimable(person):
    return services.claimable(person)


allow_upload(bp, "guests.upload", UPLOAD_LIMIT)


@bp.route("/organizer/series/<series>/guests/import", methods=["GET", "POST"])
@organizer_required
def upload(series):
    organizer = current_organizer()
    found, imports = services.recent_imports(organizer, series)
    form = UploadForm(data={"event": request.args.get("event", "")})
    if form.validate_on_submit():
        filename, data = form.data_bytes()
        try:
            pending = services.upload(organizer, series, filename, data, event_public_id=form.event.data or None)
        except DomainError as error:
            if error.status == 404:
                raise
            form.file.errors = [*form.file.errors, coded(error.code, error.message)]
        else:
            return redirect(url_for(".mapping", import_id=pending.public_id))
    return render_template("guests/upload.html", series=found, form=form, imports=imports)


@bp.route("/organizer/guest-imports/<import_id>", methods=["GET", "POST"])
@organizer_required
def mapping(import_id):
    organizer = current_organizer()
    try:
        pending, table, detected = services.mapping_view(organizer, import_id)
    except DomainError as error:
        if error.code != "import_finished":
            raise
        return redirect(url_for(".report", import_id=import_id))
    form = MappingForm()
    form.offer(table.header, detected)
    chosen = detected
    if form.validate_on_submit():
        chosen = form.mapping(len(table.header))
        # "Update the preview" posts the same form without "confirm": only the preview changes.
        if not form.errors and request.form.get("confirm"):
            try:
                done = services.run_import(organizer, import_id, chosen)
            except DomainError as error:
                if error.code == "import_finished":
                    return redirect(url_for(".report", import_id=import_id))
                target = {"no_name_column": form.name, "no_email_column": form.email}.get(error.code)
                if target is None:
                    form.form_errors.append(coded(error.code, error.message))
                else:
                    target.errors = [*target.errors, coded(error.code, error.message)]
            else:
                flash(f"Imported: {done.added} added, {done.existing} already there, {done.skipped} skipped.",
                      "success")
                return redirect(url_for(".report", import_id=import_id))
    settings = services.settings_of(pending)
    return render_template("guests/mapping.html", pending=pending, table=table, form=form, settings=settings,
                           preview=parsing.preview(table, chosen), series=services.series_of(pending))


@bp.get("/organizer/guest-imports/<import_id>/progress")
@organizer_required
def progress(import_id):
    done, total = services.progress(current_organizer(), import_id)
    return jsonify(done=done, total=total)


@bp.get("/organizer/guest-imports/<import_id>/report")
@organizer_required
def report(import_id):
    try:
        found, entries = services.report_of(current_organizer(), import_id)
    except DomainError as error:
        if error.code != "import_pending":
            raise
        return redirect(url_for(".mapping", import_id=import_id))  # not run yet: its columns first
    return render_template("guests/report.html", guest_import=found, entries=entries, series=services.series_of(found),
                           skip_reasons=services.SKIP_REASONS, existing_reasons=services.EXISTING_REASONS)


@bp.post("/B/<token>/claim")
def claim_link(token):
    services.request_claim_link(token, client=ratelimits.requester())
    flash("If this badge is yours, a sign-in link is on its way to your inbox. Open it to claim your badge.", "info")
    return redirect(url_for("connections.scan", token=token))
