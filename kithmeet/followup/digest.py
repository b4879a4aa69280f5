"""The digest: one e-mail per attendee when an event closes, saying whom they met there and
what they talked about, with links back to each connection and to "reconnect today".

It is queued by a receiver of `signals.event_closed`, in the transaction that closes the
event, so a close that rolls back mails no one. Who gets one: checked in at the event, an
e-mail identity that was confirmed (`people.mail_choices.has_confirmed_address`), the
digest not turned off, and at least one encounter at that event on a connection they have
not removed. What it holds: the other person's name and headline and the encounter's
shared line. Never a private note or a contact field: the query does not read them.

At most once per event, ever: the `event_digest` row is inserted first, with
`insert_if_absent`, and a close that finds it (a reopened event closed again, or two
closes racing) queues nothing.
"""
from dataclasses import dataclass, field

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import aliased

from .. import changelog, signals
from ..connections.models import Connection, ConnectionSide, Encounter
from ..database import insert_if_absent, utcnow
from ..events.models import CheckIn, Event
from ..extensions import db
from ..mail import services as mail
from ..people import mail_choices
from ..people.models import Person
from . import mail_render
from .models import EventDigest


@dataclass
class Met:
    name: str
    headline: str
    talked_about: str
    url: str


@dataclass
class Digest:
    person: Person
    met: list = field(default_factory=list)


def recipients(event_id):
    """[Digest] of everyone the event's digest goes to, in one query whatever their number."""
    me, other = aliased(Person), aliased(Person)
    rows = db.session.execute(
        select(me, other.name, other.headline, Encounter.talked_about, Connection.public_id)
        .select_from(CheckIn)
        .join(me, me.id == CheckIn.person_id)
        .join(ConnectionSide, and_(ConnectionSide.person_id == me.id, ConnectionSide.removed_at.is_(None)))
        .join(Connection, Connection.id == ConnectionSide.connection_id)
        .join(Encounter, and_(Encounter.connection_id == Connection.id, Encounter.event_id == event_id))
        # The other person; an inner join leaves out connections whose other account is gone.
        .join(other, or_(and_(Connection.person_a_id == me.id, other.id == Connection.person_b_id),
                         and_(Connection.person_b_id == me.id, other.id == Connection.person_a_id)))
        .where(CheckIn.event_id == event_id, me.email.is_not(None), me.email_confirmed_at.is_not(None),
               me.digest_mail.is_(True))
        .order_by(me.id, Encounter.created_at, Encounter.id)).all()
    digests = {}
    for person, name, headline, talked_about, public_id in rows:
        digest = digests.setdefault(person.id, Digest(person))
        digest.met.append(Met(name, headline, talked_about,
                              mail_render.link("followup.connection", public_id=public_id)))
    return list(digests.values())


def queue_for_event(event_id):
    """Queue the event's digests in the caller's transaction; returns how many (0 when they
    were queued before). A fixed number of statements whatever the number of attendees:
    the claim, the recipients, one UPDATE for missing unsubscribe keys, one batched
    INSERT of the mails, the count."""
    if not insert_if_absent(EventDigest, {"event_id": event_id, "queued_at": utcnow()}, ["event_id"]):
        return 0  # queued at an earlier close (or by a close racing this one)
    digests = recipients(event_id)
    if not digests:
        return 0
    event_name = db.session.scalar(select(Event.name).where(Event.id == event_id))
    tokens = mail_choices.tokens_for([digest.person for digest in digests])
    reconnect = mail_render.link("followup.reconnect")
    messages = []
    for digest in digests:
        unsubscribe = mail_render.unsubscribe_link(tokens[digest.person.id], "digest")
        context = {"person": digest.person, "event_name": event_name, "met": digest.met,
                   "reconnect_url": reconnect, "unsubscribe_url": unsubscribe}
        text, html = mail_render.render("digest", context)
        subject = f"Who you met at {event_name}"
        messages.append((digest.person.email, mail_render.one_line(subject), text, html,
                         mail_render.unsubscribe_headers(unsubscribe)))
    mail.queue_many(messages)
    db.session.execute(update(EventDigest).where(EventDigest.event_id == event_id).values(messages=len(messages)))
    changelog.record("digest.queued", "system", event=event_id, messages=len(messages))
    return len(messages)


def on_event_closed(sender, *, event_id, organizer_id):
    queue_for_event(event_id)


def init_app(app):
    # Module level, not a closure: blinker holds receivers weakly. `sender=app`: tests
    # build many apps, and each reacts only to its own closes.
    signals.event_closed.connect(on_event_closed, sender=app)

