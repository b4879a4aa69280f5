"""Pages behind the follow-up mails: the one-click unsubscribe and the weekly nudge's switch.
Registered on views.bp (see register_blueprints)."""
from flask import redirect, render_template, request, session, url_for

from ..auth import current_person, person_required
from ..errors import DomainError
from ..extensions import csrf
from ..formtools import coded
from ..people import mail_choices
from .mail_forms import MailChoiceForm
from .views import MAIL_SAVED_KEY, bp

LIST_NAMES = {"digest": "the e-mail after each event", "nudge": "the weekly reconnect e-mail"}
# The link is a key: never cached on the way, never sent on as a referrer (security.py).
NO_STORE = {"Cache-Control": "no-store"}
SAVED = {("nudge", True): "Once a week you'll get up to four people to reconnect with.",
         ("nudge", False): "No more weekly reconnect e-mails.",
         ("digest", True): "You'll get an e-mail after each event you go to.",
         ("digest", False): "No more e-mails after events."}
# Where a switch comes back to: the page its button was on, the confirmation inside its box.
BACK_TO = {"list": ".index", "emails": ".nudge_setting"}


def _list_name():
    name = request.args.get("list", "")
    return name if name in LIST_NAMES else ""


# RFC 8058: a mail client POSTs "List-Unsubscribe=One-Click" to the link with no cookies,
# so no session and no CSRF token can exist. The token in the URL is the authority, and all
# a post can do is stop mail to its holder: forging one costs a victim a newsletter, and
# needs their key. This one endpoint is exempt (SECURITY.md, tests/test_csrf.py).
@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe(token):
    done = request.method == "POST"  # mail scanners and link previews open links: a GET only asks
    if done:
        mail_choices.unsubscribe(token, _list_name())
    # The same page whether the key exists or not: it tells no one which keys are real.
    return render_template("followup/unsubscribe.html", token=token, list_name=_list_name(),
                           lists=LIST_NAMES, done=done), 200, NO_STORE


@bp.route("/followup/emails", methods=["GET", "POST"])
@person_required
def nudge_setting():
    person = current_person()
    form = MailChoiceForm()
    if request.method == "GET":  # the switches on a page of their own (linked from the account page)
        saved = session.pop(MAIL_SAVED_KEY, None) if MAIL_SAVED_KEY in session else None
        return render_template("followup/mail_choices.html", mail_form=form, mail_saved=saved)
    if form.validate_on_submit():
        on = form.choice.data == "on"
        try:
            if form.mail.data == "nudge":
                mail_choices.set_nudge(person, on)
            else:
                mail_choices.set_digest(person, on)
        except DomainError as error:
            form.choice.errors = [coded(error.code, error.message)]
        else:
            # Not a flash: those are drawn at the top of the page, out of view of the box.
            session[MAIL_SAVED_KEY] = SAVED[form.mail.data, on]
            return redirect(url_for(BACK_TO.get(form.back.data, ".index"), _anchor="mail-choices"))
    # Refused (only a stale or forged form gets here: the page offers no button it would
    # refuse): the switches again, with the reason beside them.
    return render_template("followup/mail_choices.html", mail_form=form), 400
