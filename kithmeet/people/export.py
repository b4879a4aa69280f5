"""Download my data: everything kithmeet holds about a person, as JSON and as vCards.

Other people appear only as the person sees them on their follow-up list: a name, and the
contact fields connections/contacts.py lets them see. A fixed number of queries, however
many connections, check-ins, scans or reports there are.

This module and erasure.py sit above the connections and follow-up domains (they read or
remove rows about a person wherever they are); nothing below imports them.
"""
import json

from sqlalchemy import select
from sqlalchemy.orm import aliased, selectinload

from .. import database
from ..connections import contacts
from ..connections import services as connections
from ..connections.models import Connection, ConnectionSide, Scan
from ..events.models import CheckIn, Event, Series, SeriesRemoval
from ..extensions import db
from ..followup import drafts
from ..reports.models import REASONS, Report
from . import vcard
from .models import Person, RevokedBadge

FORMAT = "kithmeet-export"
VERSION = 1


def _time(moment):
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


def _date(moment):
    return moment.date().isoformat() if moment else None


class _Holdings:
    """The rows about one person, loaded once for the JSON file and the vCards."""

    def __init__(self, person):
        self.person = person
        self.contacts = list(person.contacts)
        self.answers = list(person.answers)
        self.sides = db.session.execute(
            select(ConnectionSide, Connection).join(Connection, ConnectionSide.connection_id == Connection.id)
            .where(ConnectionSide.person_id == person.id)
            .order_by(Connection.created_at, Connection.id)).all()
        connection_ids = [connection.id for _, connection in self.sides]
        other_ids = {connection.other_id(person.id) for _, connection in self.sides} - {None}
        self.others = {other.id: other for other in db.session.scalars(
            select(Person).where(Person.id.in_(other_ids)).options(selectinload(Person.contacts)))} \
            if other_ids else {}
        self.visible = contacts.visible_to(person, self.others.values())
        self.encounters = connections.encounters_by_connection(connection_ids)
        self.drafts = drafts.for_connections(person.id, connection_ids)

    def other(self, connection):
        return self.others.get(connection.other_id(self.person.id))


def _load_the_rest(person):
    """Check-ins, replaced badges, scans, reports and series removals: one query each."""
    check_ins = db.session.execute(
        select(CheckIn, Event.name, Event.starts_at, Series.name).join(Event, CheckIn.event_id == Event.id)
        .join(Series, Event.series_id == Series.id).where(CheckIn.person_id == person.id)
        .order_by(Event.starts_at, CheckIn.id)).all()
    revoked = db.session.scalars(select(RevokedBadge).where(RevokedBadge.person_id == person.id)
                                 .order_by(RevokedBadge.revoked_at)).all()
    scanned = aliased(Person)
    scans = db.session.execute(
        select(Scan, Event.name, Event.starts_at, scanned.name).join(Event, Scan.event_id == Event.id)
        .join(scanned, Scan.scanned_id == scanned.id).where(Scan.scanner_id == person.id)
        .order_by(Scan.created_at, Scan.id)).all()
    reported = aliased(Person)
    reports = db.session.execute(
        select(Report, Series.name, Event.name, reported.name).join(Series, Report.series_id == Series.id)
        .outerjoin(Event, Report.event_id == Event.id).join(reported, Report.reported_id == reported.id)
        .where(Report.reporter_id == person.id).order_by(Report.created_at, Report.id)).all()
    removals = db.session.execute(
        select(SeriesRemoval, Series.name).join(Series, SeriesRemoval.series_id == Series.id)
        .where(SeriesRemoval.person_id == person.id).order_by(SeriesRemoval.created_at)).all()
    return check_ins, revoked, scans, reports, removals


def data(person):
    """Everything kithmeet holds about `person`, as plain JSON-ready values."""
    held = _Holdings(person)
    check_ins, revoked, scans, reports, removals = _load_the_rest(person)
    entries = []
    for side, connection in held.sides:
        other = held.other(connection)
        draft = held.drafts.get(connection.id)
        entries.append({
            "with": {"name": other.name, "contact_fields": [{"kind": c.kind, "value": c.value}
                                                             for c in held.visible[other.id]]}
            if other is not None else {"name": None, "account_deleted": True, "contact_fields": []},
            "connected_at": _time(connection.created_at),
            "last_met_at": _time(connection.last_met_at),
            "status": side.status,
            "private_note": side.private_note,
            "shares_my_contacts": side.shares_contacts,
            "acknowledged_at": _time(side.acknowledged_at),
            "removed_at": _time(side.removed_at),
            "blocked_at": _time(side.blocked_at),
            "unsaved_talked_about": draft.typed if draft is not None else None,
            "encounters": [{"event": e.event.name, "date": _date(e.event.starts_at), "met_at": _time(e.created_at),
                            "talked_about": e.talked_about} for e in held.encounters.get(connection.id, [])],
        })
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": _time(database.utcnow()),
        "profile": {
            "name": person.name, "pronouns": person.pronouns, "headline": person.headline,
            "email": person.email, "badge_code": person.badge_token, "share_on_connect": person.share_on_connect,
            "joined_at": _time(person.created_at), "updated_at": _time(person.updated_at),
        },
        "contact_fields": [{"kind": c.kind, "value": c.value, "shared": c.shared} for c in held.contacts],
        "prompt_answers": [{"prompt": a.prompt, "answer": a.answer} for a in held.answers],
        "replaced_badge_codes": [{"code": r.token, "replaced_at": _time(r.revoked_at)} for r in revoked],
        "check_ins": [{"event": event, "series": series, "date": _date(starts_at), "checked_in_at": _time(c.created_at)}
                      for c, event, starts_at, series in check_ins],
        "connections": entries,
        "scans": [{"event": event, "date": _date(starts_at), "scanned_at": _time(s.created_at), "scanned": name}
                  for s, event, starts_at, name in scans],
        "reports_filed": [{"series": series, "event": event, "about": name, "reason": REASONS.get(r.reason, r.reason),
                           "details": r.details, "filed_at": _time(r.created_at), "resolved": r.resolved_at is not None}
                          for r, series, event, name in reports],
        "removed_from_series": [{"series": series, "removed_at": _time(r.created_at)} for r, series in removals],
    }


def json_document(person):
    return json.dumps(data(person), ensure_ascii=False, indent=2) + "\n"


def _met_note(encounters):
    lines = []
    for encounter in encounters:
        line = f"Met at {encounter.event.name} on {_date(encounter.event.starts_at)}"
        lines.append(f"{line}: {encounter.talked_about}" if encounter.talked_about else line)
    return "\n".join(lines)


def people_vcards(person):
    """The people on the person's list, as the list shows them: name, the contact fields
    they may see, and where they met and what they talked about."""
    held = _Holdings(person)
    cards = []
    for side, connection in held.sides:
        other = held.other(connection)
        if other is None or side.removed_at is not None:
            continue  # an account deleted, or a connection the person removed: not on their list
        cards.append(vcard.Card(other.name, contacts=[(c.kind, c.value) for c in held.visible[other.id]],
                                note=_met_note(held.encounters.get(connection.id, []))))
    return vcard.document(cards)


def own_vcard(person):
    """The person's own card, with every contact field they gave (their own, shared or not)."""
    note = "\n".join(f"{a.prompt}: {a.answer}" for a in person.answers if a.answer)
    return vcard.document([vcard.Card(person.name, title=person.headline,
                                      contacts=[(c.kind, c.value) for c in person.contacts], note=note)])
