"""The words of a connection: the shared "talked about" line of each encounter, and each
side's private note and follow-up status. This module is the only writer of that text.

Two ways words arrive, one rule each:
- a scan adds its words as a new line (merge): a resent scan adds nothing twice;
- an edit on the follow-up list replaces the line, unless the other person changed it
  since the editor's page was drawn (a fingerprint of the line travels with the form).
  Then the rest of the edit is saved and the conflict is reported, never silently lost.
"""
import hashlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from .. import changelog
from ..database import transaction, utcnow
from ..errors import DomainError, NotFound
from ..extensions import db
from ..formtools import hidden_characters
from .models import FOLLOWUP_STATUSES, Connection, ConnectionSide, Encounter

MAX_TEXT = 1000
MAX_SNOOZE = timedelta(days=2 * 366)  # further off, a snooze is an archive that hides itself
MERGE_ATTEMPTS = 5  # compare-and-set retries when scans from both phones land at once


def clean(text):
    """Trim, and store line breaks as \\n whatever the device sent."""
    return (text or "").replace("\r\n", "\n").strip()


def check_words(*texts):
    """Refuse words longer than the forms can edit, or carrying hidden characters."""
    if any(len(text or "") > MAX_TEXT for text in texts):
        raise DomainError(f"Keep notes under {MAX_TEXT} characters.", "too_long")
    if any(hidden_characters(text, multiline=True) for text in texts):
        raise DomainError("Remove the invisible or direction-changing characters.", "control_characters")


def fingerprint(text):
    """A short fingerprint of shared text, sent with the edit form to detect a concurrent edit."""
    return hashlib.sha256((text or "").encode()).hexdigest()[:16]


def merge_line(existing, addition):
    """`existing` with `addition` as a new line, unless that line is already there.

    Raises too_long rather than store more than the follow-up form can edit.
    """
    existing = existing or ""
    # Already there as whole lines (a resend, or a retry after our own write): add nothing.
    if not addition or f"\n{addition}\n" in f"\n{existing}\n":
        return existing
    merged = f"{existing}\n{addition}" if existing else addition
    if len(merged) > MAX_TEXT:
        raise DomainError(f"Your notes for this connection would pass {MAX_TEXT} characters. "
                          "Shorten them on your follow-up list, then add this.", "too_long")
    return merged


def new_encounter_line(talked_about):
    """The shared line of an encounter a scan makes: its (cleaned) words, written with the row."""
    return merge_line("", talked_about)


def _scan_merges(connection_id, event_id, scanner_id, talked_about, private_note, *, lock):
    """(encounter, its merged line, scanner's side or None, their merged note); raises too_long."""
    encounter = db.session.scalar(_fresh(
        select(Encounter).where(Encounter.connection_id == connection_id, Encounter.event_id == event_id), lock))
    side = None
    if private_note:
        side = db.session.scalar(_fresh(select(ConnectionSide).where(
            ConnectionSide.connection_id == connection_id, ConnectionSide.person_id == scanner_id), lock))
    shared = merge_line(encounter.talked_about if encounter else "", talked_about)
    own = merge_line(side.private_note, private_note) if side is not None else None
    return encounter, shared, side, own


def _fresh(statement, lock):
    """Read the row as the database has it now, not as this session last saw it."""
    statement = statement.execution_options(populate_existing=True)
    return statement.with_for_update() if lock else statement


def _swap(row, column, new):
    """Write `new` only if the column still holds what `row` was read with: compare-and-set.

    SELECT ... FOR UPDATE locks the row on PostgreSQL, but on SQLite a read takes no lock,
    so another writer can commit between our read and our write. The WHERE clause makes
    the write itself check; False means someone else's words got there first.
    """
    model = type(row)
    seen = getattr(row, column)
    if new == seen:
        return True
    result = db.session.execute(
        update(model).where(model.id == row.id, getattr(model, column) == seen)
        .values({column: new, "updated_at": utcnow()}).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        return False
    set_committed_value(row, column, new)
    return True


def check_scan_fits(connection_id, event_id, scanner_id, talked_about, private_note):
    """Refuse (too_long) a scan whose words would not fit, before anything is written.

    add_from_scan checks again as it writes: a concurrent scan may add words in between.
    """
    _scan_merges(connection_id, event_id, scanner_id, talked_about, private_note, lock=False)


def add_from_scan(connection_id, event_id, scanner_id, talked_about, private_note):
    """Merge a scan's (cleaned) words into the encounter's shared line and the scanner's note.

    Both merges are worked out before either is written, and each write is a
    compare-and-set: when the other phone's scan changed a line in between, the merge is
    worked out again on the new text, so neither scan's words are lost. Runs in the
    caller's transaction. Returns False, writing nothing, when the encounter is gone (an Undo
    took it back since the caller read the scan).
    """
    for _attempt in range(MERGE_ATTEMPTS):
        encounter, shared, side, own = _scan_merges(connection_id, event_id, scanner_id, talked_about,
                                                    private_note, lock=True)
        if encounter is None:
            return False
        if _swap(encounter, "talked_about", shared) and (side is None or _swap(side, "private_note", own)):
            return True
    raise DomainError("Many people are writing here at once. Try again in a moment.", "conflict")


@dataclass
class EditResult:
    side: ConnectionSide
    conflict: bool = False
    their_text: str = ""  # the shared line as the other person left it, when they conflict


def own_side(person, connection_public_id):
    """The person's side of a connection; to anyone but its two people it does not exist."""
    side = db.session.scalar(
        select(ConnectionSide).join(Connection, ConnectionSide.connection_id == Connection.id)
        .where(Connection.public_id == connection_public_id, ConnectionSide.person_id == person.id))
    if side is None:
        raise NotFound("That connection isn't in your list.", "unknown_connection")
    return side


def merge_own_note(current, seen, typed):
    """One's own note as edited on a page drawn with `seen`, while `current` may already
    hold lines a scan from another device added since: both edits are kept."""
    if current == seen:
        return typed
    if typed == seen:
        return current
    kept = typed.split("\n") if typed else []
    earlier = set(seen.split("\n"))
    added = [line for line in current.split("\n") if line and line not in earlier and line not in kept]
    merged = "\n".join(kept + added)
    check_words(merged)
    return merged


def edit(person, connection_public_id, *, status=None, private_note=None, private_note_seen=None,
         talked_about=None, talked_about_fingerprint=None, snoozed_until=None):
    """Change one's own status and private note, and the latest shared talked-about line.

    The shared line is written only when this person changed it, and never over words the
    other person saved after this person's page was drawn (`talked_about_fingerprint`):
    then the status and note are still saved and the result says `conflict`, with the
    other person's current words. The note, the person's own, is merged by lines with
    whatever a scan added since the page showed `private_note_seen`. Status "snoozed" needs
    `snoozed_until`, a day after today; any other status clears it. Every edit marks the side
    touched (`touched_at`). Raises NotFound unknown_connection, DomainError bad_status,
    bad_snooze_date or too_long, before anything is written.
    """
    side = own_side(person, connection_public_id)
    if status is not None and status not in FOLLOWUP_STATUSES:
        raise DomainError("Choose a follow-up status from the list.", "bad_status")
    now = utcnow()
    if status == "snoozed" and (snoozed_until is None or not now.date() < snoozed_until <= now.date() + MAX_SNOOZE):
        raise DomainError("Choose a day after today, within two years, to snooze until.", "bad_snooze_date")
    private_note = clean(private_note) if private_note is not None else None
    private_note_seen = clean(private_note_seen) if private_note_seen is not None else None
    talked_about = clean(talked_about) if talked_about is not None else None
    check_words(private_note, talked_about)

    result = EditResult(side)
    with transaction():
        encounter = None
        if talked_about is not None:
            # Rows are locked encounter first, then side, in the order a scan locks them.
            encounter = db.session.scalar(_fresh(
                select(Encounter).where(Encounter.connection_id == side.connection_id)
                .order_by(Encounter.created_at.desc(), Encounter.id.desc()).limit(1), lock=True))
        db.session.scalar(_fresh(select(ConnectionSide).where(ConnectionSide.id == side.id), lock=True))
        if status is not None:
            side.status = status
            side.snoozed_until = snoozed_until if status == "snoozed" else None
        side.touched_at = now
        if private_note is not None:
            for _attempt in range(MERGE_ATTEMPTS):
                seen = side.private_note if private_note_seen is None else private_note_seen
                if _swap(side, "private_note", merge_own_note(side.private_note, seen, private_note)):
                    break
                db.session.refresh(side, ["private_note"])
            else:
                raise DomainError("Your note is being changed elsewhere. Try again in a moment.", "conflict")
        # Unchanged from what this person's page showed: leave the line (the other side may have added to it).
        given = talked_about_fingerprint
        untouched = given is not None and fingerprint(talked_about) == given
        if encounter is not None and not untouched and talked_about != encounter.talked_about:
            # Replace only the words this person saw: without a fingerprint, only an empty line.
            seen = given == fingerprint(encounter.talked_about) if given is not None else not encounter.talked_about
            if not (seen and _swap(encounter, "talked_about", talked_about)):
                db.session.refresh(encounter, ["talked_about"])
                result.conflict, result.their_text = True, encounter.talked_about
        changelog.record("connection.edited", changelog.person(person), connection=side.connection_id,
                         conflict=result.conflict)
    return result


def mark_followed_up(side):
    """The person reached out ("Done" in reconnect today): followed up, any snooze over. In the
    caller's transaction."""
    side.status, side.snoozed_until = "followed_up", None


def current_status(side, today):
    """The side's status as it reads on `today`: a snooze ends on its date, back to follow up."""
    if side.status == "snoozed" and (side.snoozed_until is None or side.snoozed_until <= today):
        return "to_follow_up"
    return side.status


def status_is(status, today):
    """The SQL condition on ConnectionSide for entries that read as `status` on `today` (the rule
    of current_status, so a filter and a label never disagree); None or "" is every status but
    archived, the list's default."""
    snoozing = and_(ConnectionSide.status == "snoozed", ConnectionSide.snoozed_until > today)
    if not status:
        return ConnectionSide.status != "archived"
    if status == "snoozed":
        return snoozing
    if status == "to_follow_up":
        return or_(ConnectionSide.status == "to_follow_up",
                   and_(ConnectionSide.status == "snoozed", or_(ConnectionSide.snoozed_until.is_(None),
                                                                ConnectionSide.snoozed_until <= today)))
    return ConnectionSide.status == status


def erase_shared_lines(person_ids):
    """Empty the talked-about line of every encounter these people were part of, in the
    caller's transaction (account deletion). A line is co-written with no record of who
    wrote which words, so the whole line goes, the other side's words with it
    (docs/decisions.md). One statement, however many people and encounters."""
    theirs = select(Connection.id).where(or_(Connection.person_a_id.in_(person_ids),
                                             Connection.person_b_id.in_(person_ids)))
    db.session.execute(update(Encounter).where(Encounter.connection_id.in_(theirs), Encounter.talked_about != "")
                       .values(talked_about="", updated_at=utcnow()).execution_options(synchronize_session=False))
