"""Download my data: everything kithmeet holds about a person as JSON, and the people they
met as vCards (all of them, or one) and as a CSV table.

Other people appear only as the person sees them on their follow-up list: a name, a
headline, and the contact fields connections/contacts.py lets them see; never their
private note. The person's own private notes are in: it is their own export. A fixed
number of queries, however many connections, encounters, check-ins, scans or reports.

This module and erasure.py sit above the connections and follow-up domains (they read or
remove rows about a person wherever they are); nothing below imports them.
"""
import csv
import io
import json
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import aliased, selectinload

from .. import database
from ..connections import contacts, notes
from ..connections import services as connections
from ..connections.models import FOLLOWUP_STATUSES, Connection, ConnectionSide, Scan
from ..errors import NotFound
from ..events.models import CheckIn, Event, Series, SeriesRemoval
from ..extensions import db
from ..followup import drafts
from ..reports.models import REASONS, Report
from . import vcard
from .models import CONTACT_KINDS, CONTACT_LABELS, EmailSignin, Person, RevokedBadge

FORMAT = "kithmeet-export"
VERSION = 1


# Not in a file name: path separators, quotes and what Windows refuses.
FILENAME_UNSAFE = frozenset('/\\:*?"<>|')


def attachment(filename):
    """The Content-Disposition value that downloads `filename`: a quoted ASCII name every browser
    reads and, for a name in any other script, its UTF-8 form as `filename*` (RFC 5987). Control
    and format characters (a right-to-left override can disguise an extension), line breaks
    and path characters are dropped first: a name can neither split the header nor lead out
    of the download folder."""
    stem, _, extension = filename.rpartition(".")
    kept = "".join(" " if ch in FILENAME_UNSAFE or unicodedata.category(ch)[0] == "C"
                   or unicodedata.category(ch) in ("Zl", "Zp") else ch for ch in stem)
    kept = " ".join(kept.split()).strip(". ")[:60].strip() or "contact"
    plain = unicodedata.normalize("NFKD", kept).encode("ascii", "ignore").decode()
    plain = " ".join("".join(ch for ch in plain if ch.isalnum() or ch in " ._-'()").split()).strip(". ") or "contact"
    value = f'attachment; filename="{plain}.{extension}"'
    if plain != kept:
        value += f"; filename*=UTF-8''{quote(f'{kept}.{extension}', safe='')}"
    return value


def _time(moment):
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


def _date(moment):
    return moment.date().isoformat() if moment else None


def _day(day):
    return day.isoformat() if day else None


class _Holdings:
    """The rows about one person's connections, loaded once for any of the downloads."""

    def __init__(self, person, only=None):
        """`only`: the id of one of the person's sides, for a one-person download."""
        self.person = person
        chosen = select(ConnectionSide, Connection).join(Connection, ConnectionSide.connection_id == Connection.id)
        if only is not None:
            chosen = chosen.where(ConnectionSide.id == only)
        self.sides = db.session.execute(
            chosen.where(ConnectionSide.person_id == person.id)
            .order_by(Connection.created_at, Connection.id)).all()
        connection_ids = [connection.id for _, connection in self.sides]
        other_ids = {connection.other_id(person.id) for _, connection in self.sides} - {None}
        self.others = {other.id: other for other in db.session.scalars(
            select(Person).where(Person.id.in_(other_ids)).options(selectinload(Person.contacts)))} \
            if other_ids else {}
        self.visible = contacts.visible_to(person, self.others.values())
        self.encounters = connections.encounters_by_connection(connection_ids)
        self.connection_ids = connection_ids

    def other(self, connection):
        return self.others.get(connection.other_id(self.person.id))

    def met(self):
        """The people on the person's list, oldest connection first: a connection they removed
        (or blocked) is not on it; one whose account was deleted is, as the list shows it."""
        met = []
        for side, connection in self.sides:
            if side.removed_at is None:
                other = self.other(connection)
                met.append(Met(side, connection, other, self.visible[other.id] if other is not None else [],
                               self.encounters.get(connection.id, [])))
        return met


@dataclass
class Met:
    side: ConnectionSide
    connection: Connection
    other: object  # None once they deleted their account
    contacts: list = field(default_factory=list)  # what contacts.visible_to lets the person see
    encounters: list = field(default_factory=list)  # newest first

    @property
    def name(self):
        if self.other is not None:
            return self.other.name
        # As the follow-up list shows them: where they were met is all that is left.
        first = self.encounters[-1] if self.encounters else None
        return f"Someone you met at {first.event.name} (account deleted)" if first else \
            "Someone you met (account deleted)"

    @property
    def headline(self):
        return self.other.headline if self.other is not None else ""

    def contact(self, kind):
        return next((c.value for c in self.contacts if c.kind == kind), "")


def _load_the_rest(person):
    """Check-ins, replaced badges, scans, reports, series removals and e-mailed sign-in links:
    one query each."""
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
    signins = db.session.scalars(select(EmailSignin).where(EmailSignin.person_id == person.id)
                                 .order_by(EmailSignin.created_at, EmailSignin.id)).all()
    return check_ins, revoked, scans, reports, removals, signins


def data(person):
    """Everything kithmeet holds about `person`, as plain JSON-ready values."""
    held = _Holdings(person)
    check_ins, revoked, scans, reports, removals, signins = _load_the_rest(person)
    waiting = drafts.for_connections(person.id, held.connection_ids)
    entries = []
    for side, connection in held.sides:
        other = held.other(connection)
        draft = waiting.get(connection.id)
        entries.append({
            "with": {"name": other.name, "headline": other.headline,
                     "contact_fields": [{"kind": c.kind, "value": c.value} for c in held.visible[other.id]]}
            if other is not None else {"name": None, "account_deleted": True, "contact_fields": []},
            "connected_at": _time(connection.created_at),
            "last_met_at": _time(connection.last_met_at),
            "status": side.status,
            "private_note": side.private_note,
            "shares_my_contacts": side.shares_contacts,
            "acknowledged_at": _time(side.acknowledged_at),
            "removed_at": _time(side.removed_at),
            "blocked_at": _time(side.blocked_at),
            "snoozed_until": _day(side.snoozed_until),
            "touched_at": _time(side.touched_at),
            "reconnected_at": _time(side.reconnected_at),
            "skipped_on": _day(side.skipped_on),
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
            "email_confirmed_at": _time(person.email_confirmed_at),
            "digest_mail": person.digest_mail, "nudge_mail": person.nudge_mail,
            "nudge_sent_at": _time(person.nudge_sent_at),
            "joined_at": _time(person.created_at), "updated_at": _time(person.updated_at),
        },
        "contact_fields": [{"kind": c.kind, "value": c.value, "shared": c.shared} for c in person.contacts],
        "prompt_answers": [{"prompt": a.prompt, "answer": a.answer} for a in person.answers],
        # When and where sign-in links were e-mailed; the link itself is a secret, and only its hash is kept.
        "email_sign_in_links": [{"email": e.email, "requested_at": _time(e.created_at),
                                 "expires_at": _time(e.expires_at), "used_at": _time(e.used_at)} for e in signins],
        "replaced_badge_codes": [{"code": r.token, "replaced_at": _time(r.revoked_at)} for r in revoked],
        "check_ins": [{"event": event, "series": series, "date": _date(starts_at), "checked_in_at": _time(c.created_at)}
                      for c, event, starts_at, series in check_ins],
        "connections": entries,
        # An undone scan stays as a tombstone (connections/scans.py): it is held, so it is listed.
        "scans": [{"event": event, "date": _date(starts_at), "scanned_at": _time(s.scanned_at or s.created_at),
                   "recorded_at": _time(s.created_at), "undone_at": _time(s.undone_at), "scanned": name}
                  for s, event, starts_at, name in scans],
        "reports_filed": [{"series": series, "event": event, "about": name, "reason": REASONS.get(r.reason, r.reason),
                           "details": r.details, "filed_at": _time(r.created_at), "resolved": r.resolved_at is not None}
                          for r, series, event, name in reports],
        "removed_from_series": [{"series": series, "removed_at": _time(r.created_at)} for r, series in removals],
    }


def json_document(person):
    return json.dumps(data(person), ensure_ascii=False, indent=2) + "\n"


def _met_lines(encounters):
    """Where and when they met, newest first as on the list, each with what they talked about."""
    lines = []
    for encounter in encounters:
        line = f"Met at {encounter.event.name} on {_date(encounter.event.starts_at)}"
        lines.append(f"{line}: {encounter.talked_about}" if encounter.talked_about else line)
    return lines


def _card(met):
    note = "\n".join(_met_lines(met.encounters))
    if met.side.private_note:
        # The person's own note, in the person's own download; never the other side's note.
        note = f"{note}\n\nMy private note: {met.side.private_note}" if note else \
            f"My private note: {met.side.private_note}"
    return vcard.Card(met.name, title=met.headline, contacts=[(c.kind, c.value) for c in met.contacts], note=note)


def people_vcards(person):
    """The people on the person's list, as the list shows them: name, headline, the contact
    fields they may see, where and when they met and what they talked about, and the
    person's own private note."""
    return vcard.document([_card(met) for met in _Holdings(person).met()])


def connection_vcard(person, connection_public_id):
    """(the card of the other person of one connection on the person's list, their name).
    Raises NotFound unknown_connection to anyone but the pair's two people, and for a
    connection the person removed (it is not on their list)."""
    side = notes.own_side(person, connection_public_id)
    met = _Holdings(person, only=side.id).met()
    if not met:
        raise NotFound("That connection isn't in your list.", "unknown_connection")
    return vcard.document([_card(met[0])]), met[0].name


def own_vcard(person):
    """The person's own card, with every contact field they gave (their own, shared or not)."""
    note = "\n".join(f"{a.prompt}: {a.answer}" for a in person.answers if a.answer)
    return vcard.document([vcard.Card(person.name, title=person.headline,
                                      contacts=[(c.kind, c.value) for c in person.contacts], note=note)])


# A spreadsheet runs a cell that starts like a formula (=, +, -, @; a leading tab or carriage
# return hides one): such a cell gets a leading apostrophe, which spreadsheets show as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_HEADER = ["Name", "Headline", *(CONTACT_LABELS[kind] for kind in CONTACT_KINDS),
              "First met at", "First met on", "Last met at", "Last met on", "Times met",
              "Talked about", "Status", "My private note"]


def _cell(value):
    value = "" if value is None else str(value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _status(side, today):
    """The status as the list says it on `today` (a snooze ends on its day)."""
    status = notes.current_status(side, today)
    label = FOLLOWUP_STATUSES.get(status, status)
    return f"{label} until {side.snoozed_until.isoformat()}" if status == "snoozed" else label


def contacts_csv(person):
    """The people on the person's list as a table, one row each, in the columns of CSV_HEADER.
    UTF-8 with a byte order mark (spreadsheet apps read it as UTF-8 only then), CRLF rows."""
    today = database.utcnow().date()
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for met in _Holdings(person).met():
        first = met.encounters[-1] if met.encounters else None
        last = met.encounters[0] if met.encounters else None
        talked = "\n".join(f"{e.event.name} ({_date(e.event.starts_at)}): {e.talked_about}"
                           for e in met.encounters if e.talked_about)
        writer.writerow([_cell(value) for value in (
            met.name, met.headline, *(met.contact(kind) for kind in CONTACT_KINDS),
            first.event.name if first else "", _date(first.event.starts_at) if first else "",
            last.event.name if last else "", _date(last.event.starts_at) if last else "",
            len(met.encounters), talked, _status(met.side, today), met.side.private_note)])
    return out.getvalue()
