"""A series' own page (its events, with links to everything run per series) and "next event in
this series". Registered on views.bp."""
from flask import flash, redirect, render_template, url_for

from ..auth import current_organizer, organizer_required
from ..errors import DomainError
from ..events import access, repeat, timezones
from ..events import series as series_service
from ..events import services as events
from ..formtools import coded
from .forms import RepeatEventForm
from .views import bp


@bp.get("/series/<series>")
@organizer_required
def series(series):
    found = series_service.series_for_organizer(current_organizer(), series)
    return render_template("organizer/series.html", series=found, events=series_service.events_of(found),
                           role=access.role_in(current_organizer(), found.id))  # owners also see members


@bp.route("/events/<public_id>/next", methods=["GET", "POST"])
@organizer_required
def next_event(public_id):
    """GET shows what the copy holds with its date prefilled (a week later); POST makes the draft."""
    organizer = current_organizer()
    source = events.event_for_organizer(organizer, public_id)
    local_start = timezones.to_local(repeat.default_start(source), source.series.time_zone).replace(tzinfo=None)
    form = RepeatEventForm(data={"starts_at": local_start})
    if form.validate_on_submit():
        try:
            event = repeat.next_event(organizer, public_id, starts_at=form.starts_at.data)
        except DomainError as error:
            form.starts_at.errors = [*form.starts_at.errors, coded(error.code, error.message)]
        else:
            flash("The next event is saved as a draft, copied from the last one. Change whatever differs.",
                  "success")
            return redirect(url_for(".edit_event", public_id=event.public_id))
    return render_template("organizer/series_next_event.html", source=source, form=form)
