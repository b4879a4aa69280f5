"""Reconnect today: a few people a day from the bottom of a person's list, each with a ready
message (what you talked about, where you met) as text and as one-tap `mailto:` and `sms:` drafts.

Who is picked, for `day`, from the person's list:
- on it (not removed), the other person still there (not account-deleted, not "no longer
  connected"), and their status to follow up or followed up, or snoozed until `day` or earlier;
  never archived, never snoozed past `day`;
- not "Done" (`reconnected_at`) nor followed up (`touched_at` of a followed-up side) in the
  RESTING_DAYS before `day`; not skipped ("not today") on `day`;
- longest untouched first (`touched_at`, NULL first), ties in an order that changes each day
  but not within one (docs/decisions.md). The same day and the same rows give the same picks;
  a "not today" lets the next candidate fill its slot.

The rows are the connections domain's; "Done" and "not today" are written by
connections/rotation.py, and contact fields come only through connections/contacts.py.
Everything here is a fixed number of queries, however long the list.
"""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import quote

from sqlalchemy import BigInteger, and_, cast, or_, select
from sqlalchemy.orm import aliased

from ..connections import contacts, notes
from ..connections import services as connections
from ..connections.models import Connection, ConnectionSide
from ..errors import DomainError, NotFound
from ..extensions import db
from ..people import services as people

DAILY = 4
RESTING_DAYS = 30  # after "Done" or following up, someone rests this long before coming back
# The day's order among equally untouched entries: id * multiplier(day) mod MODULUS, integer
# arithmetic both databases compute alike. MODULUS is prime and the multiplier between 1 and
# MODULUS - 1, so within a day distinct ids below MODULUS get distinct keys; the multiplier
# changes with the day, and so does the order.
MIX, MODULUS = 7919, 1_000_003


def day_multiplier(day):
    return day.toordinal() * MIX % (MODULUS - 1) + 1


@dataclass(frozen=True)
class Pick:
    """One person to reconnect with, and the drafts to do it. `email` and `phone` are only what
    the contact rule lets the picking person see (None otherwise), and so are the hrefs."""

    public_id: str  # the connection's
    name: str  # the other person's
    first_name: str  # the first word of `name`, as the message greets them
    event_name: str | None  # where you last met (None when that event is gone)
    met_on: date  # when you last met
    talked_about: str  # that meeting's shared line ("" when nothing was noted)
    message: str  # the ready text: "Hey Ana! Been a while since we talked about …"
    email: str | None
    phone: str | None
    mailto: str | None  # mailto: with subject and body, URL-encoded
    sms: str | None  # sms: with the body, URL-encoded

    def link_draft(self, link, line=""):
        """(text, mailto or None, sms or None) that send `link` with `line` or "This made me
        think of our talk about …:" ahead of it. The link must be checked by the caller."""
        text = link_message(self.first_name, self.talked_about, link, line)
        return text, mailto(self.email, subject(self.event_name), text), sms(self.phone, text)


def first_name(name):
    words = (name or "").split()
    return words[0] if words else ""


def _topic(talked_about):
    """The shared line as a phrase: its lines joined, no closing full stop."""
    lines = [line.strip() for line in (talked_about or "").splitlines() if line.strip()]
    return "; ".join(lines).rstrip(" .;:,")


def _hey(first):
    return f"Hey {first}!" if first else "Hey!"


def message(first, event_name, talked_about):
    topic = _topic(talked_about)
    if topic and event_name:
        middle = f"Been a while since we talked about {topic} at {event_name}."
    elif topic:
        middle = f"Been a while since we talked about {topic}."
    elif event_name:
        middle = f"It's been a while since we met at {event_name}."
    else:
        middle = "It's been a while since we met."
    return f"{_hey(first)} {middle} What's the latest with you?"


def link_message(first, talked_about, link, line=""):
    topic = _topic(talked_about)
    lead = (line or "").strip() or (f"This made me think of our talk about {topic}:" if topic
                                    else "This made me think of you:")
    return f"{_hey(first)} {lead} {link}"


def subject(event_name):
    return f"Catching up since {event_name}" if event_name else "Catching up"


def mailto(address, subject_text, body):
    if not address:
        return None
    # RFC 6068: percent-encoding throughout (a "+" would read as a plus, not a space).
    return f"mailto:{quote(address, safe='@')}?subject={quote(subject_text, safe='')}&body={quote(body, safe='')}"


def sms(number, body):
    digits = "".join(ch for ch in number or "" if ch.isdigit() or ch == "+")
    if not any(ch.isdigit() for ch in digits):
        return None
    # "?&body=": Android reads the query, iOS the "&body="; both open the draft (docs/decisions.md).
    return f"sms:{digits}?&body={quote(body, safe='')}"


def _eligible(person_id, day):
    """The person's entries that may be picked on `day`, in the day's order (one statement)."""
    other = aliased(ConnectionSide)
    since = datetime.combine(day - timedelta(days=RESTING_DAYS), time())
    side = ConnectionSide
    daily_order = cast(Connection.id, BigInteger) * day_multiplier(day) % MODULUS
    return (
        select(side, Connection)
        .join(Connection, side.connection_id == Connection.id)
        # Inner join: the other side is gone once its person deleted their account.
        .join(other, and_(other.connection_id == Connection.id, other.person_id != person_id))
        .where(side.person_id == person_id, side.removed_at.is_(None),
               Connection.person_a_id.is_not(None), Connection.person_b_id.is_not(None),
               # "No longer connected" (consent.state): they removed it since you last met.
               or_(other.removed_at.is_(None), other.removed_at < Connection.last_met_at),
               # A snooze that has ended reads as to follow up (notes.status_is, the list's rule).
               or_(notes.status_is("to_follow_up", day), notes.status_is("followed_up", day)),
               or_(side.reconnected_at.is_(None), side.reconnected_at < since),
               or_(side.status != "followed_up", side.touched_at.is_(None), side.touched_at < since),
               or_(side.skipped_on.is_(None), side.skipped_on != day))
        .order_by(side.touched_at.asc().nulls_first(), daily_order, Connection.id))


def picks(person, day, count=DAILY):
    """Up to `count` people for `person` to reconnect with on `day` (a date: the view passes
    today's UTC date), in a fixed number of queries; see the module's docstring for who."""
    rows = db.session.execute(_eligible(person.id, day).limit(count)).all()
    return _build(person, [connection for _, connection in rows])


def pick(person, connection_public_id):
    """The Pick of one entry on the person's list, picked today or not (the drafts of a nudge
    link here). Raises NotFound unknown_connection, DomainError account_deleted."""
    side = notes.own_side(person, connection_public_id)
    if side.removed_at is not None:
        raise NotFound("That connection isn't in your list.", "unknown_connection")
    if None in (side.connection.person_a_id, side.connection.person_b_id):
        raise DomainError("That person deleted their account; there is no one to reconnect with.",
                          "account_deleted")
    return _build(person, [side.connection])[0]


def _build(person, chosen):
    if not chosen:
        return []
    others = people.persons_with_details([connection.other_id(person.id) for connection in chosen])
    encounters = connections.encounters_by_connection([connection.id for connection in chosen])
    visible = contacts.visible_to(person, others.values())
    result = []
    for connection in chosen:
        other = others[connection.other_id(person.id)]
        latest = next(iter(encounters.get(connection.id, [])), None)
        event_name = latest.event.name if latest is not None else None
        talked_about = latest.talked_about if latest is not None else ""
        shown = {field.kind: field.value for field in visible[other.id]}
        first = first_name(other.name)
        text = message(first, event_name, talked_about)
        result.append(Pick(
            public_id=connection.public_id, name=other.name, first_name=first, event_name=event_name,
            met_on=(latest.created_at if latest is not None else connection.last_met_at).date(),
            talked_about=talked_about, message=text, email=shown.get("email"), phone=shown.get("phone"),
            mailto=mailto(shown.get("email"), subject(event_name), text), sms=sms(shown.get("phone"), text)))
    return result
