"""A series' guest list: who is on it, importing it, and guests claiming their badges.

An import is two steps. `upload` reads the file (refusing a bad one whole) and keeps its bytes
in a pending GuestImport; the organizer checks the column mapping against a preview; then
`run_import` reads every row, decides each one (added, already there, or skipped and why) and
writes them all in one transaction: new people in bulk (people.identity.add_unclaimed), a
Guest row for each person on the list, the report, and the upload's bytes dropped. A row that
cannot be imported is reported and skipped; anything that fails the whole run leaves nothing.

Imported guests are people with a badge and no claimed_at. They claim it by opening an
e-mailed sign-in link (people.email_signin.redeem sets claimed_at), by asking for one from
their printed badge's scan page (`request_claim_link`), or at the door kiosk (`claim`).
"""
import json
import os
from datetime import timedelta

from sqlalchemy import and_, delete, exists, func, insert, or_, select, update
from sqlalchemy.orm import aliased

from ..audit import services as audit
from ..database import transaction, utcnow
from ..emails import checked_email, normalize_email
from ..errors import DomainError, NotFound
from ..events import access
from ..events.models import CheckIn, Event, Series, SeriesRemoval
from ..extensions import db
from ..formtools import hidden_characters
from ..people import email_signin, identity
from ..people import services as people
from ..people.models import Person
from ..people.profile import LIMITS
from . import parsing
from . import progress as import_progress
from .models import Guest, GuestImport

CHUNK = 500  # addresses per IN (...) lookup, well under SQLite's bound-parameter limit
MAX_FILENAME = 200
RECENT_IMPORTS = 10
# An upload whose columns were never confirmed is a copy of a guest list with every address in
# it: `flask purge` deletes it after this long.
PENDING_LIFETIME = timedelta(days=1)
SKIP_REASONS = {
    "no_email": "No e-mail address",
    "bad_email": "The e-mail address doesn't look right",
    "no_name": "No name",
    "name_too_long": f"Name longer than {LIMITS['name']} characters",
    "bad_name": "Invisible or direction-changing characters in the name",
    "duplicate_in_file": "The same e-mail address as an earlier row",
    "removed_from_series": "Removed from this series by an organizer",
    "broken_row": "More cells than the header has columns",
}
EXISTING_REASONS = {
    "on_list": "Already on the guest list",
    "has_profile": "Already came to this series: added to the guest list",
}



def is_guest(series_id, email):
    """Whether `email` (compared as people.identity compares it) is on the series' guest list."""
    address = normalize_email(email)
    if not address:
        return False
    return db.session.scalar(
        select(Guest.id).where(Guest.series_id == series_id, Guest.email == address).limit(1)) is not None


def brought_by(series_id):
    """The condition for a person this series' own import brought to kithmeet: their first
    guest-list row anywhere is this series', and they had checked in nowhere before it."""
    first = aliased(Guest)
    return exists().where(
        Guest.person_id == Person.id, Guest.series_id == series_id,
        ~exists().where(first.person_id == Guest.person_id, first.id < Guest.id),
        ~exists().where(CheckIn.person_id == Guest.person_id, CheckIn.created_at < Guest.created_at))


def came_to(series_id):
    """The condition for a person checked in at one of the series' events."""
    return exists().where(CheckIn.person_id == Person.id,
                          CheckIn.event_id.in_(select(Event.id).where(Event.series_id == series_id)))


def shown_guests(series_id):
    """The condition for a guest the series' pages may show by name and badge (the kiosk search,
    printed guest sheets): on its list, and brought by it or come to it. A list row naming an
    address that was already someone else's identity keeps its place for `is_guest` (they join
    a guest-list-only event with their own phone), but shows nothing of that person until they
    come: otherwise anyone who knows an address could list it to print its holder's badge, or
    check them in at their kiosk."""
    return and_(exists().where(Guest.person_id == Person.id, Guest.series_id == series_id),
                or_(brought_by(series_id), came_to(series_id)))


def _clean_filename(filename):
    name = os.path.basename((filename or "").replace("\\", "/")).strip()
    if hidden_characters(name):
        name = ""
    return name[:MAX_FILENAME] or "guest list"


def upload(organizer, series_public_id, filename, data, *, event_public_id=None):
    """Keep an uploaded guest list for the mapping step; the pending GuestImport.

    Raises NotFound unknown_series / unknown_event (not the organizer's, or the event not in
    the series), DomainError role_too_low, and the file's refusals from parsing.read:
    file_too_large, not_a_text_file, empty_file, broken_file.
    """
    series = access.series_for(organizer, series_public_id, need="organizer")
    event = None
    if event_public_id:
        event = access.event_for(organizer, event_public_id, need="organizer")
        if event.series_id != series.id:
            raise NotFound("There is no such event among yours.", "unknown_event")
    table = parsing.read(data or b"")
    settings = {"encoding": table.encoding, "delimiter": table.delimiter_name,
                "platform": parsing.platform(table.header), "mapping": parsing.detect_mapping(table.header)}
    with transaction():
        pending = GuestImport(series_id=series.id, event_id=event.id if event else None, organizer_id=organizer.id,
                              filename=_clean_filename(filename), data=data, settings=json.dumps(settings),
                              total_rows=len(table.rows))
        db.session.add(pending)
        db.session.flush()
        audit.record(organizer.id, "guests.uploaded", series_id=series.id, event_id=pending.event_id)
    return pending


def import_for(organizer, public_id):
    """The import, if the organizer runs events in its series. Raises NotFound unknown_import,
    DomainError role_too_low."""
    found = db.session.scalar(select(GuestImport).where(GuestImport.public_id == public_id)) if public_id else None
    if found is None:
        raise NotFound("There is no such guest list among yours.", "unknown_import")
    try:
        access.series_by_id_for(organizer, found.series_id, need="organizer")
    except NotFound:
        raise NotFound("There is no such guest list among yours.", "unknown_import") from None
    return found


def series_of(guest_import):
    return db.session.get(Series, guest_import.series_id)


def settings_of(guest_import):
    return json.loads(guest_import.settings or "{}")


def mapping_view(organizer, public_id):
    """(import, table, detected mapping) for the mapping page of a pending import. Raises what
    import_for raises, and DomainError import_finished once it has run."""
    pending = import_for(organizer, public_id)
    if pending.status != "pending":
        raise DomainError("That guest list has been imported already.", "import_finished")
    mapping = {field: settings_of(pending)["mapping"].get(field) for field in parsing.FIELDS}
    return pending, parsing.read(pending.data), mapping


def recent_imports(organizer, series_public_id):
    """The series' latest imports, newest first (the upload page lists them)."""
    series = access.series_for(organizer, series_public_id, need="organizer")
    return series, db.session.scalars(select(GuestImport).where(GuestImport.series_id == series.id)
                                      .order_by(GuestImport.id.desc()).limit(RECENT_IMPORTS)).all()


def progress(organizer, public_id):
    """(rows decided, rows in all) of a running import: (0, total) before it starts, (total,
    total) once done."""
    found = import_for(organizer, public_id)
    if found.status == "done":
        return found.total_rows, found.total_rows
    return min(import_progress.read(found.public_id), found.total_rows), found.total_rows


def _decide(table, mapping, public_id):
    """Each row's fate before the database is asked: (candidates, report). A candidate is
    (row, address, name, headline); the report has one entry per skipped row so far."""
    candidates, report, seen = [], [], set()
    columns, total = len(table.header), len(table.rows)
    for done, (row, cells) in enumerate(table.rows, start=1):
        if done % CHUNK == 0:
            import_progress.tell(public_id, done // 2)  # deciding is the first half of the work
        if len(cells) > columns and any(extra.strip() for extra in cells[columns:]):
            report.append({"row": row, "outcome": "skipped", "reason": "broken_row"})
            continue
        values = parsing.row_values(cells, mapping)
        reason = None
        try:
            address = checked_email(values["email"])
        except DomainError:
            address, reason = None, "bad_email"
        name, headline = values["name"], values["headline"]
        if reason is None and address is None:
            reason = "no_email"
        elif reason is None and not name:
            reason = "no_name"
        elif reason is None and len(name) > LIMITS["name"]:
            reason = "name_too_long"
        elif reason is None and hidden_characters(name):
            reason = "bad_name"
        elif reason is None and address in seen:
            reason = "duplicate_in_file"
        if reason:
            report.append({"row": row, "outcome": "skipped", "reason": reason})
            continue
        seen.add(address)
        # A headline is a courtesy: one that can't be kept as it is is shortened or left out,
        # never a reason to leave the guest off the list.
        if hidden_characters(headline):
            headline = ""
        elif len(headline) > LIMITS["headline"]:
            headline = headline[:LIMITS["headline"] - 1].rstrip() + "\u2026"
        candidates.append((row, address, name, headline))
    return candidates, report


def _chunks(items):
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


def _known(series_id, addresses):
    """({address on the series' list}, {address: person id of its holder}, {holders on the list
    under another address}, {holders removed from the series}, {holders who came to it})."""
    listed, holders = set(), {}
    for chunk in _chunks(addresses):
        listed.update(db.session.scalars(select(Guest.email).where(Guest.series_id == series_id,
                                                                   Guest.email.in_(chunk))))
        holders.update(db.session.execute(select(Person.email, Person.id).where(Person.email.in_(chunk))).all())
    on_list, removed, came = set(), set(), set()
    of_series = select(Event.id).where(Event.series_id == series_id)
    for chunk in _chunks(list(holders.values())):
        on_list.update(db.session.scalars(select(Guest.person_id).where(
            Guest.series_id == series_id, Guest.person_id.in_(chunk))))
        removed.update(db.session.scalars(select(SeriesRemoval.person_id).where(
            SeriesRemoval.series_id == series_id, SeriesRemoval.person_id.in_(chunk))))
        came.update(db.session.scalars(select(CheckIn.person_id).where(
            CheckIn.event_id.in_(of_series), CheckIn.person_id.in_(chunk))))
    return listed, holders, on_list, removed, came


def run_import(organizer, public_id, mapping):
    """Import a pending guest list with the confirmed column mapping ({field: column index or
    None}); the finished GuestImport, its counts and per-row report set.

    Each row is added (a new person with a badge, unclaimed, and a Guest row), already there
    ("on_list", or "has_profile": the address is the identity of someone who came to this
    series, who is linked to the list, never duplicated; the identity of anyone else is linked
    the same way but reported as added, and shown_guests leaves them out), or skipped with a reason (SKIP_REASONS). All in one transaction.

    Raises what import_for raises; DomainError import_finished (run already, or running in
    another request), bad_mapping, no_email_column, no_name_column; import_conflict when a
    new guest's address was taken while the import ran (nothing is written: run it again).
    """
    pending = import_for(organizer, public_id)
    if pending.status != "pending" or pending.data is None:
        raise DomainError("That guest list has been imported already.", "import_finished")
    table = parsing.read(pending.data)
    mapping = parsing.check_mapping(mapping, len(table.header))
    total = len(table.rows)
    import_progress.tell(pending.public_id, 0)
    try:
        return _import(organizer, pending, table, mapping, total)
    finally:
        import_progress.forget(pending.public_id)


def _import(organizer, pending, table, mapping, total):
    candidates, report = _decide(table, mapping, pending.public_id)
    now = utcnow()
    conflict = DomainError("Someone joined with one of these addresses while the list was importing. "
                           "Nothing was imported: run the import again.", "import_conflict")
    with transaction(conflict=conflict):
        # Claim the upload first: of two confirms sent at once, the second finds it taken and
        # writes nothing (on PostgreSQL it waits for the first's row lock, then sees "done").
        claimed = db.session.execute(
            update(GuestImport).where(GuestImport.id == pending.id, GuestImport.status == "pending")
            .values(status="done").returning(GuestImport.id)).first()
        if claimed is None:
            raise DomainError("That guest list has been imported already.", "import_finished")
        listed, holders, on_list, removed, came = _known(pending.series_id, [address for _, address, _, _ in candidates])
        new_people, guests = [], []
        for row, address, name, headline in candidates:
            holder = holders.get(address)
            if address in listed or holder in on_list:
                report.append({"row": row, "outcome": "existing", "reason": "on_list"})
            elif holder in removed:
                report.append({"row": row, "outcome": "skipped", "reason": "removed_from_series"})
            elif holder is not None:
                # Told as "added" unless they came to this series: the report must not say
                # whether an address has a kithmeet profile (shown_guests keeps them unseen).
                report.append({"row": row, "outcome": "existing", "reason": "has_profile"} if holder in came
                              else {"row": row, "outcome": "added", "reason": ""})
                guests.append((address, holder))
            else:
                report.append({"row": row, "outcome": "added", "reason": ""})
                new_people.append({"name": name, "headline": headline, "email": address})
        import_progress.tell(pending.public_id, total // 2)
        made = {}
        for number, chunk in enumerate(_chunks(new_people), start=1):
            made.update(identity.add_unclaimed(chunk))
            import_progress.tell(pending.public_id, min(total, total // 2 + number * CHUNK // 2))
        guests.extend((person["email"], made[person["email"]]) for person in new_people)
        if guests:
            db.session.execute(insert(Guest), [
                {"series_id": pending.series_id, "person_id": person_id, "email": address, "import_id": pending.id,
                 "created_at": now} for address, person_id in guests])
        report.sort(key=lambda entry: entry["row"])
        counts = {outcome: sum(1 for entry in report if entry["outcome"] == outcome)
                  for outcome in ("added", "existing", "skipped")}
        settings = {**settings_of(pending), "mapping": mapping}
        db.session.execute(update(GuestImport).where(GuestImport.id == pending.id).values(
            data=None, settings=json.dumps(settings), total_rows=total, report=json.dumps(report),
            finished_at=now, **counts).execution_options(synchronize_session="fetch"))
        audit.record(organizer.id, "guests.imported", series_id=pending.series_id, event_id=pending.event_id)
    db.session.refresh(pending)
    return pending


def report_of(organizer, public_id):
    """(import, its report rows that were not simply added) of a finished import. Raises what
    import_for raises, and NotFound import_pending before it has run."""
    found = import_for(organizer, public_id)
    if found.status != "done":
        raise NotFound("That guest list hasn't been imported yet.", "import_pending")
    entries = [entry for entry in json.loads(found.report or "[]") if entry["outcome"] != "added"]
    return found, entries


def claim(person_id, *, now=None):
    """An imported guest takes their badge in hand (the door kiosk, once it has checked them
    in): claimed_at is set. Whether this call claimed it (False: claimed already). Raises
    NotFound unknown_person."""
    now = now or utcnow()
    with transaction():
        if db.session.get(Person, person_id) is None:
            raise NotFound("We couldn't find that person.", "unknown_person")
        claimed = identity.claim_badge(person_id, now)
    return claimed


def masked_email(address):
    """"a•••@example.org": enough for its owner to recognise, not to read it off a badge."""
    local, at, domain = (address or "").partition("@")
    if not at:
        return ""
    return f"{local[:1]}\u2022\u2022\u2022@{domain}"


def claimable(person):
    """Whether the badge's scan page offers "Is this you?": an unclaimed guest with an address."""
    return person is not None and person.claimed_at is None and bool(person.email)


def request_claim_link(badge_token, *, client=None):
    """"Is this you?" on an unclaimed badge's scan page: e-mail the badge's owner a sign-in link
    (opening it claims the badge). None whatever happens, as email_signin.request_link: counted
    against the same per-address and per-client limits (`client`: ratelimits.requester()), so a
    badge cannot be used to flood its owner's inbox; a claimed badge, or one without an
    address, sends nothing. Raises the NotFound of people.services.badge_owner for an
    unknown badge."""
    person = people.badge_owner(badge_token)
    if not claimable(person):
        return None
    return email_signin.request_link(person.email, client=client)


def purge_unconfirmed(now=None, *, dry_run=False):
    """Delete uploads still waiting for their mapping after PENDING_LIFETIME (`flask purge`);
    how many (would be) deleted."""
    now = now or utcnow()
    stale = (GuestImport.status == "pending", GuestImport.created_at < now - PENDING_LIFETIME)
    if dry_run:
        return db.session.scalar(select(func.count()).select_from(GuestImport).where(*stale))
    with transaction():
        deleted = db.session.execute(delete(GuestImport).where(*stale).returning(GuestImport.id)).all()
    return len(deleted)
