"""Reports: the attendee's form on a connection, and the organizer's list for a series."""
from flask import Blueprint, flash, redirect, render_template, url_for

from ..auth import current_organizer, current_person, organizer_required, person_required
from ..errors import DomainError
from ..formtools import coded
from . import services
from .forms import ReportForm

bp = Blueprint("reports", __name__)


@bp.route("/report/<public_id>", methods=["GET", "POST"])
@person_required
def new(public_id):
    person = current_person()
    about = services.target(person, public_id)  # not theirs: the 404 page says so
    form = ReportForm()
    if form.validate_on_submit():
        try:
            services.report(person, public_id, reason=form.reason.data, details=form.details.data)
        except DomainError as error:
            target = {"bad_reason": form.reason}.get(error.code, form.details)
            target.errors = [*target.errors, coded(error.code, error.message)]
        else:
            flash("Thank you. The series' organizers will read your report; the person is not told "
                  "who made it.", "success")
            return redirect(url_for("followup.index"))
    return render_template("reports/new.html", form=form, about=about)


@bp.get("/organizer/series/<series>/reports")
@organizer_required
def for_series(series):
    found, reports, removed = services.for_series(current_organizer(), series)
    return render_template("reports/series.html", series=found, reports=reports, removed=removed)


@bp.post("/organizer/reports/<report>/resolve")
@organizer_required
def resolve(report):
    found = services.resolve(current_organizer(), report)
    flash("Marked resolved.", "success")
    return redirect(url_for(".for_series", series=found.series.public_id, _anchor=f"r-{found.public_id}"))


@bp.post("/organizer/reports/<report>/remove-person")
@organizer_required
def remove_person(report):
    found, _ = services.remove_reported(current_organizer(), report)
    # No name: the flash may wait in the organizer's stored session after the person deletes
    # their account (docs/decisions.md); the report it leads to shows who.
    flash("Removed from the series: they can't join, check in or connect at its events.", "success")
    return redirect(url_for(".for_series", series=found.series.public_id, _anchor=f"r-{found.public_id}"))
