"""The live dashboard of an event, its projector view, and the JSON both poll
(static/js/live.js) to refresh without a reload. Registered on views.bp."""
from flask import jsonify, render_template

from ..auth import current_organizer, organizer_required
from ..events import live
from ..urls import external_url
from .views import bp

# How often the pages ask for new numbers (static/js/live.js reads it from the page).
REFRESH_SECONDS = 5


def _page(template, public_id):
    event, numbers = live.for_organizer(current_organizer(), public_id)
    return render_template(template, event=event, live=numbers, refresh_seconds=REFRESH_SECONDS,
                           join_link=external_url("people.join", code=event.join_code),
                           web_size=live.WEB_SIZE, chart_size=(live.CHART_WIDTH, live.CHART_HEIGHT))


@bp.get("/events/<public_id>/live")
@organizer_required
def live_dashboard(public_id):
    return _page("organizer/live.html", public_id)


@bp.get("/events/<public_id>/live/projector")
@organizer_required
def live_projector(public_id):
    return _page("organizer/live_projector.html", public_id)


@bp.get("/events/<public_id>/live.json")
@organizer_required
def live_numbers(public_id):
    _, numbers = live.for_organizer(current_organizer(), public_id)
    return jsonify(numbers.as_json())
