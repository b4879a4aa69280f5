"""Printed badges: the organizer's print page and sheet PDFs, the door's one-badge reprint, and
an attendee's own printable badge. Every one only reads, so these are GET forms without CSRF.
They sit on the badges blueprint (under /organizer/ for the organizer's): a domain never
imports another's views."""
from flask import Response, redirect, render_template, request, url_for
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import Optional

from ..auth import current_organizer, current_person, organizer_required, person_required
from ..errors import DomainError, NotFound
from ..events import access
from ..formtools import Form, at_most, coded, no_controls, strip
from . import sheets
from .stock import DEFAULT, STOCKS
from .views import bp

STOCK_CHOICES = [SelectChoice(key, stock.label) for key, stock in STOCKS.items()]
# At home people print on plain paper: A4 or US Letter, the badge cut out along its corner.
HOME_STOCKS = ("avery-l4785", "avery-5392")


class SheetForm(Form):
    class Meta:
        csrf = False

    stock = SelectField("Badge stock", choices=STOCK_CHOICES, default=DEFAULT,
                        description="Print at 100 % (“actual size”), not “fit to page”.")
    who = SelectField("Whose badges", choices=[SelectChoice(key, label) for key, label in sheets.WHO.items()],
                      default="checked_in")


class ReprintForm(Form):
    class Meta:
        csrf = False

    code = StringField("Badge code", filters=[strip], validators=[Optional(), at_most(40), no_controls()],
                       description="The letters under their QR, on their phone's badge page.")
    reprint_stock = SelectField("Stock for this badge", choices=STOCK_CHOICES, default="label-62x100")


def _pdf(data, filename):
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _page(event, sheet_form=None, reprint_form=None, status=200):
    role = access.role_in(current_organizer(), event.series_id)
    return render_template("badges/sheets.html", event=event, may_print_all=access.allows(role, "organizer"),
                           sheet_form=sheet_form or SheetForm(formdata=None),
                           reprint_form=reprint_form or ReprintForm(formdata=None)), status


@bp.get("/organizer/events/<public_id>/badges")
@organizer_required
def badge_sheets(public_id):
    return _page(access.event_for(current_organizer(), public_id, need="door"))


@bp.get("/organizer/events/<public_id>/badges.pdf")
@organizer_required
def badge_sheets_pdf(public_id):
    organizer = current_organizer()
    event = access.event_for(organizer, public_id, need="organizer")
    form = SheetForm(formdata=request.args)
    if form.validate():
        try:
            data = sheets.event_sheets(organizer, public_id, form.stock.data, form.who.data)
        except DomainError as error:
            if isinstance(error, NotFound):
                raise
            target = form.stock if error.code == "unknown_stock" else form.who
            target.errors = [*target.errors, coded(error.code, error.message)]
        else:
            return _pdf(data, f"badges-{event.public_id}-{form.stock.data}.pdf")
    return _page(event, sheet_form=form, status=400)


@bp.get("/organizer/events/<public_id>/badges/reprint.pdf")
@organizer_required
def reprint_badge(public_id):
    organizer = current_organizer()
    event = access.event_for(organizer, public_id, need="door")
    if "code" not in request.args:  # not from the form: the form
        return redirect(url_for(".badge_sheets", public_id=public_id))
    form = ReprintForm(formdata=request.args)
    if form.validate():
        try:
            if not form.code.data:
                raise DomainError("Type the code under their QR.", "code_required")
            data = sheets.reprint(organizer, public_id, form.code.data, form.reprint_stock.data)
        except DomainError as error:
            target = form.reprint_stock if error.code == "unknown_stock" else form.code
            target.errors = [*target.errors, coded(error.code, error.message)]
            return _page(event, reprint_form=form, status=error.status)
        return _pdf(data, f"badge-{form.reprint_stock.data}.pdf")
    return _page(event, reprint_form=form, status=400)


@bp.get("/badge/print.pdf")
@person_required
def own_badge_pdf():
    stock = request.args.get("stock", HOME_STOCKS[0])
    if stock not in HOME_STOCKS:
        stock = HOME_STOCKS[0]
    return _pdf(sheets.own_badge(current_person(), stock), "kithmeet-badge.pdf")
