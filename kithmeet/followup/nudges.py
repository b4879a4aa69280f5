"""The weekly nudge (opt-in): "four people to reconnect with this week", from the same
rotation as reconnect today (`reconnect.picks`), with a link to each one's draft.

`queue_due(now)` runs from `flask --app app send-nudges` (cron) and from the mail worker's
loop at most once an hour. Who gets one: `nudge_mail` on, a confirmed e-mail identity, and
no nudge in the last seven days. Someone with no picks today gets nothing, and is looked
at again next time. Never a contact field or a private note: the picks' `mailto`/`sms`
drafts carry the other person's address, so the mail links to the draft page instead.

Cost: one query for who is due (per batch of BATCH people), then `reconnect.picks` for each
of them (its fixed handful of queries: the rotation, the people with details, the
encounters, the contact rule), then per batch one UPDATE that claims them, one for missing
unsubscribe keys and one batched INSERT of the mails: O(people due), never O(connections).
"""
import time
from datetime import timedelta

from sqlalchemy import or_, select, update

from .. import changelog
from ..database import transaction, utcnow
from ..extensions import db
from ..mail import services as mail
from ..people import mail_choices
from ..people.models import Person
from . import mail_render, reconnect

EVERY = timedelta(days=7)
BATCH = 200
WORKER_INTERVAL = 3600  # seconds between the mail worker's looks at who is due
NUMBERS = {1: "One person", 2: "Two people", 3: "Three people", 4: "Four people"}


def _due(cutoff):
    return (Person.nudge_mail.is_(True), Person.email.is_not(None), Person.email_confirmed_at.is_not(None),
            or_(Person.nudge_sent_at.is_(None), Person.nudge_sent_at < cutoff))


def queue_due(now=None):
    """Queue this week's nudges; returns how many were queued. Each batch is one transaction.
    Race-safe: a conditional UPDATE claims each person (nudge_sent_at still old), so a cron
    run and the worker's loop at once nudge a person once. Raises no DomainError."""
    now = now or utcnow()
    cutoff = now - EVERY
    queued, after = 0, 0
    while True:
        batch = db.session.scalars(select(Person).where(*_due(cutoff), Person.id > after)
                                   .order_by(Person.id).limit(BATCH)).all()
        if not batch:
            return queued
        after = batch[-1].id
        with transaction():
            queued += _queue_batch(batch, now, cutoff)


def _queue_batch(people, now, cutoff):
    chosen = {person.id: (person, found) for person in people if (found := reconnect.picks(person, now.date()))}
    if not chosen:
        return 0
    claimed = set(db.session.scalars(
        update(Person).where(Person.id.in_(chosen), *_due(cutoff)).values(nudge_sent_at=now)
        .returning(Person.id).execution_options(synchronize_session=False)))
    recipients = [chosen[person_id] for person_id in sorted(claimed)]
    if not recipients:
        return 0
    tokens = mail_choices.tokens_for([person for person, _ in recipients])
    reconnect_url = mail_render.link("followup.reconnect")
    messages = []
    for person, picks in recipients:
        unsubscribe = mail_render.unsubscribe_link(tokens[person.id], "nudge")
        items = [{"pick": pick, "draft_url": mail_render.link("followup.reconnect_draft", public_id=pick.public_id)}
                 for pick in picks]
        subject = f"{NUMBERS.get(len(picks), f'{len(picks)} people')} to reconnect with this week"
        text, html = mail_render.render("nudge", {"person": person, "items": items, "subject": subject,
                                                  "reconnect_url": reconnect_url, "unsubscribe_url": unsubscribe})
        messages.append((person.email, subject, text, html, mail_render.unsubscribe_headers(unsubscribe)))
    mail.queue_many(messages)
    changelog.record("nudge.queued", "system", people=sorted(claimed))
    return len(messages)


def hourly(clock=time.monotonic):
    """A callable for the mail worker's loop that runs `queue_due` at most once per
    WORKER_INTERVAL (the first time at once). A failed run also waits its hour: a broken
    rotation must not run every few seconds."""
    last = None

    def run():
        nonlocal last
        if last is None or clock() - last >= WORKER_INTERVAL:
            last = clock()
            queue_due()
    return run
