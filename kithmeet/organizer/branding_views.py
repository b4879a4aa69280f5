"""An event's branding page: its accent colour and logo (events/branding.py).

Registered on the organizer blueprint (imported at the bottom of views.py)."""
from flask import flash, redirect, render_template, url_for

from ..auth import current_organizer, organizer_required
from ..errors import DomainError
from ..events import branding
from ..events import services as events
from ..formtools import allow_upload, coded
from .branding_forms import BrandingForm
from .views import bp

# A logo may be 2 MB, past the app's MAX_CONTENT_LENGTH for forms; a little more lets the
# service refuse a slightly bigger file beside the field (logo_too_large) instead of with a 413.
UPLOAD_LIMIT = branding.MAX_LOGO_BYTES + 256 * 1024
COLOR_ERRORS = {"bad_color", "low_contrast"}


allow_upload(bp, "organizer.branding_page", UPLOAD_LIMIT)


@bp.route("/events/<public_id>/branding", methods=["GET", "POST"])
@organizer_required
def branding_page(public_id):
    organizer = current_organizer()
    event = events.event_for_organizer(organizer, public_id)
    form = BrandingForm(data={"accent_color": event.accent_color})
    if form.validate_on_submit():
        upload = form.logo.data
        # One byte past the limit is enough to know it is too large.
        data = upload.read(branding.MAX_LOGO_BYTES + 1) if upload and upload.filename else None
        try:
            branding.update_branding(organizer, public_id, accent_color=form.accent_color.data, logo=data,
                                     remove_logo=form.remove_logo.data)
        except DomainError as error:
            target = form.accent_color if error.code in COLOR_ERRORS else form.logo
            target.errors = [*target.errors, coded(error.code, error.message)]
        else:
            flash("The branding is saved.", "success")
            return redirect(url_for(".event", public_id=public_id))
    return render_template("organizer/branding.html", form=form, event=event)
