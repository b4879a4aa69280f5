"""An event's attendee list, hiding someone from the event or removing them from the series
(each after a confirmation page), and the check-in CSV. Registered on views.bp."""
from flask import current_app, flash, redirect, render_template, request, url_for

from ..auth import current_organizer, organizer_required
from ..events import attendees
from ..events import services as events
from ..people.export import attachment
from .attendee_forms import AttendeeActionForm
from .views import bp

# What each confirmation page does: its service, and the words around it.
ACTIONS = {
    "hide": (attendees.hide, "The person is hidden from this event: off its list, and their badge no longer "
                             "connects here."),
    "remove": (attendees.remove_from_series, "The person is removed from the series: they can't join or connect "
                                             "at any of its events."),
}


@bp.get("/events/<public_id>/attendees")
@organizer_required
def attendee_list(public_id):
    search = request.args.get("q", "")
    page = request.args.get("page", "1")
    page = int(page) if page.isascii() and page.isdecimal() and len(page) < 7 else 1
    event, found = attendees.listing(current_organizer(), public_id, search=search, page=page)
    return render_template("organizer/attendees.html", event=event, listing=found, search=search.strip())


@bp.get("/events/<public_id>/attendees.csv")
@organizer_required
def attendees_csv(public_id):
    event, body = attendees.checkins_csv(current_organizer(), public_id)
    return current_app.response_class(body, mimetype="text/csv", headers={
        "Content-Disposition": attachment(f"{event.name} check-ins.csv"), "Cache-Control": "no-store"})


def _confirm(public_id, action):
    organizer = current_organizer()
    form = AttendeeActionForm()
    key = form.attendee.data if request.method == "POST" else request.args.get("attendee", "")
    if not key:  # nobody picked: back to the list, once it is known to be theirs
        events.event_for_organizer(organizer, public_id)
        return redirect(url_for(".attendee_list", public_id=public_id))
    event, person = attendees.attendee(organizer, public_id, key)  # unknown_attendee: a 404
    if form.validate_on_submit():
        service, done = ACTIONS[action]
        service(organizer, public_id, form.attendee.data)
        flash(done, "success")
        return redirect(url_for(".attendee_list", public_id=public_id))
    form.attendee.data = person.key
    return render_template("organizer/attendees_confirm.html", event=event, person=person, form=form, action=action)


@bp.route("/events/<public_id>/attendees/hide", methods=["GET", "POST"])
@organizer_required
def hide_attendee(public_id):
    return _confirm(public_id, "hide")


@bp.route("/events/<public_id>/attendees/remove", methods=["GET", "POST"])
@organizer_required
def remove_attendee(public_id):
    return _confirm(public_id, "remove")
