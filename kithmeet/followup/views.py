"""The follow-up list, and the page of one connection where its edits are made."""
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from markupsafe import Markup
from wtforms import SelectChoice

from ..auth import current_person, person_required
from ..connections.consent import ACCOUNT_DELETED, NO_LONGER_CONNECTED
from ..connections.models import FOLLOWUP_STATUSES
from ..errors import DomainError, NotFound
from ..formtools import coded, hidden_characters, strip
from . import drafts, services
from .forms import EntryForm, FilterForm

bp = Blueprint("followup", __name__)
CONFLICT = coded("edit_conflict", "They changed this line while you were editing. Your words are still "
                                  "in the box and theirs are above it: combine them, then save.")
# The outcome of the last save, shown once beside the form it came from (not among the flashes at
# the top of the page, which a phone scrolled down to the form never shows).
SAVED_KEY = "followup_saved"
# The same for the e-mail switches (mail_views.nudge_setting): the words, shown inside the E-mails box.
MAIL_SAVED_KEY = "followup_mail_saved"
# A connection's page remembers the list it was opened from (`?back=`, the list's query string)
# so "People I met" goes back to the same search, filters and page. Only these parameters are
# kept, each checked, and the link is rebuilt with url_for: `back` can never lead off the list.
LIST_PARAMS = ("q", "event", "status", "sort", "page")
MAX_BACK = 2000  # a query of services.MAX_QUERY characters, percent-encoded, fits


def _list_params(raw):
    """The list's own parameters from a `back` query string, checked; {} for anything else."""
    params = {}
    for key, value in parse_qsl((raw or "")[:MAX_BACK]):
        if key not in LIST_PARAMS or key in params:
            continue
        value = value.strip()
        if key == "q":
            ok = len(value) <= services.MAX_QUERY and not hidden_characters(value)
        elif key == "event":
            ok = len(value) <= 16 and value.isascii() and value.isalnum()
        elif key == "status":
            ok = value in FOLLOWUP_STATUSES
        elif key == "sort":
            ok = value in services.SORTS and value != "recent"
        else:
            ok = value.isascii() and value.isdigit() and 1 < int(value) <= 100_000
        if ok and value:
            params[key] = value
    return params


def _entry_form(entry):
    data = {"talked_about": entry.shared_text, "talked_about_fingerprint": entry.shared_text_fingerprint,
            "private_note": entry.side.private_note, "private_note_seen": entry.side.private_note,
            "status": entry.status, "snoozed_until": entry.side.snoozed_until if entry.status == "snoozed" else None}
    if entry.conflicted:
        # Their current words are shown beside the field (and fingerprinted by it): the next
        # save is made knowing them, and conflicts again only if they change once more.
        data["talked_about"] = entry.draft.typed
    form = EntryForm(formdata=None, prefix=entry.connection.public_id, data=data)
    if entry.conflicted:
        form.talked_about.errors = [CONFLICT]
    return form


def _row_link(back):
    """A function of a connection's public id giving its row's link, with url_for called once
    per page: per row it was a tenth of the page's time. Public ids are letters and digits
    (tokens.new_code), which a URL path takes as they are."""
    path, mark, query = url_for(".connection", public_id="_", back=back or None).partition("?")
    start = path[:-1]  # the path ends with the "_" stand-in
    return lambda public_id: f"{start}{public_id}{mark}{query}"


def _rows(page, link):
    """The list's rows as HTML, each made in Python with every word escaped: drawn by the
    template, the rows' 25 pieces each were a fifth of the page's time. The markup is the one
    the page always had (ids, data-state and data-status for scripts and tests, `dir="auto"` on
    people's own words, `<bdi>` around an event name that may be right-to-left)."""
    return Markup("").join(_row(page, link, entry) for entry in page.entries)


def _text(value):
    """`value` (a str) escaped for HTML as markupsafe's escape writes it, as a plain str: the
    list escapes ten words a row, and markupsafe's Markup around each cost twice the escaping."""
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;")
            .replace('"', "&#34;"))


def _row(page, link, entry):
    status, latest, other = entry.status, entry.latest, entry.other
    public_id = _text(entry.connection.public_id)
    status_text = FOLLOWUP_STATUSES[status]
    if status == "snoozed":
        until = entry.side.snoozed_until
        status_text += " until " + until.strftime("%d %b" if until.year == page.today.year else "%d %b %Y")
    if entry.state == ACCOUNT_DELETED:
        name = '<span class="row-name">Someone you met (account deleted)</span>'
    else:
        name = f'<span class="row-name" dir="auto">{_text(other.name if other else "")}</span>'
    headline = (other.headline or "") if other else ""
    meta = '<span class="row-fixed">No longer connected · </span>' if entry.state == NO_LONGER_CONNECTED else ""
    met = latest.local_time if latest else None
    if met:
        meta += (f'<bdi class="row-event">{_text(latest.event_name)}</bdi><span class="row-fixed"> · '
                 f'<time datetime="{met.date().isoformat()}">{met.strftime("%d %b %Y")}</time> · </span>')
    times = len(entry.encounters)
    shared = latest.talked_about if latest else ""
    # The line breaks stand where the template had them: between the parts a screen reader
    # reads as separate words.
    return Markup(
        f'<li class="followup-entry" id="c-{public_id}" data-state="{_text(entry.state)}" data-status="{_text(status)}">\n'
        f'<a class="followup-row" href="{_text(link(entry.connection.public_id))}">\n<span class="row-top">\n{name}\n'
        f'<span class="status status-{_text(status)}">{_text(status_text)}</span>\n</span>\n'
        + (f'<span class="row-line row-headline" dir="auto">{_text(headline)}</span>\n' if headline else "")
        + f'<span class="row-line row-meta meta">{meta}<span class="row-fixed">met '
        f'{"once" if times == 1 else f"{times} times"}</span></span>\n'
        + (f'<span class="row-line row-shared" dir="auto">{_text(shared)}</span>\n' if shared else "")
        + "</a>\n</li>\n")


def _filters():
    """The list's filters from the query string, read as FilterForm would read them (the first
    value of each, the search stripped): the form itself is only built to render them."""
    args = request.args
    return services.Filters(event=args.get("event") or "", status=args.get("status") or "",
                            q=strip(args.get("q") or ""), sort=args.get("sort") or "recent")


def _filter_fields(template, events, q, event, status, sort):
    """The filter form's four fields as HTML, for one list of events and one set of filters:
    the same words every time (no CSRF token, no errors: nothing is validated), and rendering
    the WTForms widgets was a tenth of the page's time. `template` is the app's (the cache
    holds one per app); `events` are (public id, name) pairs, so a renamed event renders anew.
    Kept only without a search: what someone searched for (a name, a note's words) is not kept
    in the process's memory after the page."""
    if q:
        return _draw_filter_fields(template, events, q, event, status, sort)
    return _kept_filter_fields(template, events, event, status, sort)


@lru_cache(maxsize=256)
def _kept_filter_fields(template, events, event, status, sort):
    return _draw_filter_fields(template, events, "", event, status, sort)


def _draw_filter_fields(template, events, q, event, status, sort):
    form = FilterForm(formdata=None)
    form.event.choices = [SelectChoice("", "Any event")] + [SelectChoice(public_id, name) for public_id, name in events]
    # The form shows what the list applied: an unknown value reads as "no filter", as it acted.
    form.process(data={"q": q, "event": event, "status": status, "sort": sort})
    return Markup(template.render(filter_form=form))


@bp.get("/followup")
@person_required
def index():
    filters = _filters()
    page = services.followup_page(current_person(), request.args.get("page", default=1, type=int),
                                  current_app.config["FOLLOWUP_PAGE_SIZE"], filters)
    applied = page.filters
    fields = _filter_fields(current_app.jinja_env.get_template("followup/_filter_fields.html"),
                            tuple((event.public_id, event.name) for event in page.events),
                            applied.q, applied.event, applied.status, applied.sort)
    links = {key: value for key, value in vars(applied).items() if value and not (key == "sort" and value == "recent")}
    back = urlencode({**links, **({"page": page.number} if page.number > 1 else {})})
    mail_saved = session.pop(MAIL_SAVED_KEY, None) if MAIL_SAVED_KEY in session else None
    return render_template("followup/list.html", page=page, filter_fields=fields, links=links, back=back,
                           mail_saved=mail_saved, rows=_rows(page, _row_link(back)),
                           filtered=any(key != "sort" for key in links))


def _render_connection(public_id, form=None, status=200):
    entry = services.connection_page(current_person(), public_id)
    saved = session.pop(SAVED_KEY, None) if SAVED_KEY in session else None
    outcome = saved[1] if saved and saved[0] == public_id else None
    params = _list_params(request.args.get("back"))
    return render_template("followup/connection.html", entry=entry, form=form or _entry_form(entry),
                           outcome=outcome, back=urlencode(params) or None, refused=status == 400,
                           list_url=url_for(".index", **params)), status


@bp.get("/followup/<public_id>")
@person_required
def connection(public_id):
    return _render_connection(public_id)


@bp.post("/followup/<public_id>")
@person_required
def update(public_id):
    form = EntryForm(prefix=public_id)
    if form.validate_on_submit():
        try:
            seen_note = form.private_note_seen.data if form.private_note_seen.raw_data else None
            result = drafts.save_entry(current_person(), public_id, status=form.status.data,
                                       private_note=form.private_note.data, private_note_seen=seen_note,
                                       talked_about=form.talked_about.data,
                                       talked_about_fingerprint=form.talked_about_fingerprint.data or None,
                                       snoozed_until=form.snoozed_until.data)
        except NotFound:
            raise  # not one of yours: the 404 page says so
        except DomainError as error:
            message = coded(error.code, error.message)
            if error.code == "bad_snooze_date":
                form.snoozed_until.errors = [*form.snoozed_until.errors, message]
            else:
                form.form_errors.append(message)
        else:
            session[SAVED_KEY] = (public_id, "conflict" if result.conflict else "saved")
            # Post/redirect/get: a reload shows the page again, never sends the form twice.
            return redirect(url_for(".connection", public_id=public_id,
                                    back=urlencode(_list_params(request.args.get("back"))) or None,
                                    _anchor="edit"))
    return _render_connection(public_id, form, 400)
