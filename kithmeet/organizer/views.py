"""Organizer pages: first-run setup, sign-in, events, and the join poster."""
from flask import Blueprint, flash, redirect, render_template, request, session, url_for

from ..auth import current_organizer, organizer_required, sign_in_organizer, sign_out_organizer
from ..connections import services as connections
from ..errors import DomainError
from ..audit import services as audit
from ..events import access
from ..events import services as events
from ..events import series as series_service
from ..events.models import JOIN_POLICIES
from ..formtools import coded
from ..people import retention
from ..redirects import safe_next
from ..urls import external_url
from . import services, twofactor
from .forms import DeleteEventForm, EditEventForm, EventForm, LoginForm, SeriesSettingsForm, SetupForm, StatusForm

bp = Blueprint("organizer", __name__, url_prefix="/organizer")
# A sign-in waiting for its two-factor code (twofactor.pending_sign_in).
PENDING_SIGN_IN = "organizer_pending"


@bp.route("/setup", methods=["GET", "POST"])
def setup():
    if services.organizer_exists():
        flash("kithmeet is set up. Organizers sign in here.", "info")
        return redirect(url_for(".login"))
    form = SetupForm()
    if form.validate_on_submit():
        try:
            organizer = services.complete_setup(form.code.data, form.email.data, form.password.data)
        except DomainError as error:
            target = {"bad_setup_code": form.code, "weak_password": form.password}.get(error.code, form.email)
            target.errors = [*target.errors, coded(error.code, error.message)]
        else:
            sign_in_organizer(organizer)
            flash("Welcome! Create your first event.", "success")
            return redirect(url_for(".new_event"))
    return render_template("organizer/setup.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            checked = services.authenticate(form.email.data, form.password.data)
        except DomainError as error:
            form.form_errors.append(coded(error.code, error.message))
        else:
            if checked.needs_code:  # the password was right; a code finishes it (account_views.login_code)
                session[PENDING_SIGN_IN] = twofactor.pending_sign_in(checked.organizer, checked.password_right)
                return redirect(url_for(".login_code", next=request.args.get("next")))
            sign_in_organizer(checked.organizer)
            target = safe_next(request.args.get("next"), within="/organizer", default=url_for(".dashboard"))
            return redirect(target)
    return render_template("organizer/login.html", form=form)


@bp.post("/logout")
def logout():
    sign_out_organizer()
    flash("Signed out.", "info")
    return redirect(url_for("home.index"))


@bp.get("/")
@organizer_required
def dashboard():
    organizer = current_organizer()
    return render_template("organizer/dashboard.html", overview=events.events_overview(organizer),
                           roles=access.roles(organizer))


@bp.route("/events/new", methods=["GET", "POST"])
@organizer_required
def new_event():
    organizer = current_organizer()
    zones = events.series_zones(organizer)
    form = EventForm(data={"time_zone": next(iter(zones.values()), "UTC")})
    if form.validate_on_submit():
        try:
            event = events.create_event(
                organizer, name=form.name.data, starts_at=form.starts_at.data, venue=form.venue.data,
                description=form.description.data, prompts=form.prompts(), series_name=form.series.data,
                time_zone=form.time_zone.data, join_policy=form.join_policy.data, entry_code=form.entry_code.data,
                capacity=form.capacity_value())
        except DomainError as error:
            _event_form_error(form, error)
        else:
            flash("The event is saved as a draft. Open it when you're ready for people to join.", "success")
            return redirect(url_for(".event", public_id=event.public_id))
    return render_template("organizer/event_form.html", form=form, series_zones=zones)


def _event_form_error(form, error):
    """A service's refusal beside the field it is about (the date, the zone), else above the form."""
    target = {"nonexistent_time": form.starts_at, "bad_date": form.starts_at, "starts_at_required": form.starts_at,
              "bad_time_zone": form.time_zone, "bad_join_policy": form.join_policy,
              "bad_entry_code_format": form.entry_code, "bad_capacity": form.capacity}.get(error.code)
    if target is None:
        form.form_errors.append(coded(error.code, error.message))
    else:
        target.errors = [*target.errors, coded(error.code, error.message)]


def _event_page(event, delete_form=None):
    # A door volunteer sees the event's door tools only; the template asks the role.
    role = access.role_in(current_organizer(), event.series_id)
    return render_template(
        "organizer/event.html", event=event, role=role, join_link=external_url("people.join", code=event.join_code),
        checkins=events.checkin_count(event), connections=connections.count_for_event(event),
        status_form=StatusForm(), delete_form=delete_form or DeleteEventForm(),
        history=audit.for_event(event.id), join_policies=JOIN_POLICIES)


@bp.get("/events/<public_id>")
@organizer_required
def event(public_id):
    return _event_page(events.event_for_organizer(current_organizer(), public_id, need="door"))


@bp.route("/events/<public_id>/edit", methods=["GET", "POST"])
@organizer_required
def edit_event(public_id):
    organizer = current_organizer()
    event = events.event_for_organizer(organizer, public_id)
    form = EditEventForm.for_event(event)
    if form.validate_on_submit():
        try:
            events.update_event(organizer, public_id, name=form.name.data, starts_at=form.starts_at.data,
                                venue=form.venue.data, description=form.description.data, prompts=form.prompts(),
                                join_policy=form.join_policy.data, entry_code=form.entry_code.data,
                                capacity=form.capacity_value())
        except DomainError as error:
            _event_form_error(form, error)
        else:
            flash("The event is saved.", "success")
            return redirect(url_for(".event", public_id=public_id))
    return render_template("organizer/event_form.html", form=form, event=event)


@bp.post("/events/<public_id>/delete")
@organizer_required
def delete_event(public_id):
    organizer = current_organizer()
    event = events.event_for_organizer(organizer, public_id)
    form = DeleteEventForm()
    if not form.validate_on_submit():
        return _event_page(event, delete_form=form)
    events.delete_event(organizer, public_id)  # not_a_draft: the error page, as for any stale button
    flash("The draft is deleted.", "success")
    return redirect(url_for(".dashboard"))


@bp.get("/events/<public_id>/close")
@organizer_required
def confirm_close(public_id):
    """Closing ends the night for everyone, so the event page's button leads here first."""
    event = events.event_for_organizer(current_organizer(), public_id)
    if event.status != "open":
        return redirect(url_for(".event", public_id=public_id))
    return render_template("organizer/close_event.html", event=event, status_form=StatusForm(),
                           checkins=events.checkin_count(event))


@bp.post("/events/<public_id>/join-code")
@organizer_required
def rotate_join_code(public_id):
    events.rotate_join_code(current_organizer(), public_id)
    flash("The join code is replaced: the old link and printed posters no longer work. "
          "Print the poster again.", "success")
    return redirect(url_for(".event", public_id=public_id))


@bp.post("/events/<public_id>/status")
@organizer_required
def set_status(public_id):
    form = StatusForm()
    if not form.validate_on_submit():
        raise DomainError("Choose open or closed.", "bad_status")
    event = events.set_status(current_organizer(), public_id, form.status.data)
    flash(f"The event is {'open: people can join and connect' if event.status == 'open' else 'closed'}.",
          "success")
    return redirect(url_for(".event", public_id=public_id))


@bp.get("/events/<public_id>/poster")
@organizer_required
def poster(public_id):
    event = events.event_for_organizer(current_organizer(), public_id)
    return render_template("organizer/poster.html", event=event,
                           join_link=external_url("people.join", code=event.join_code))


from . import account_views  # noqa: E402,F401 - the account pages register on bp
from . import member_views  # noqa: E402,F401 - members, invites and leaving a series register on bp
from . import series_views  # noqa: E402,F401 - the series page and "next event" register on bp
from . import live_views  # noqa: E402,F401 - the live dashboard, projector and their refresh register on bp
from . import attendee_views  # noqa: E402,F401 - the attendee list, hide/remove and check-in CSV register on bp
from . import branding_views  # noqa: E402,F401 - an event's accent colour and logo register on bp


@bp.route("/series/<series>/settings", methods=["GET", "POST"])
@organizer_required
def series_settings(series):
    organizer = current_organizer()
    found = series_service.series_for_organizer(organizer, series)
    form = SeriesSettingsForm(data={"retention_months": str(found.retention_months),
                                    "code_of_conduct_url": found.code_of_conduct_url,
                                    "time_zone": found.time_zone, "label_printer": found.label_printer})
    if form.validate_on_submit():
        try:
            series_service.update_settings(organizer, series, retention_months=form.months(),
                                           code_of_conduct_url=form.code_of_conduct_url.data,
                                           time_zone=form.time_zone.data, label_printer=form.label_printer.data)
        except DomainError as error:
            target = {"bad_retention": form.retention_months,
                      "bad_time_zone": form.time_zone}.get(error.code, form.code_of_conduct_url)
            target.errors = [*target.errors, coded(error.code, error.message)]
        else:
            flash("The settings are saved.", "success")
            return redirect(url_for(".series_settings", series=series))
    return render_template("organizer/series_settings.html", series=found, form=form,
                           next_purge=retention.preview(found))
