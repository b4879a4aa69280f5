from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, false as sa_false, true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import utcnow
from ..extensions import db
from ..tokens import new_code

# "snoozed" holds until connection_side.snoozed_until; from that day on it reads as "to_follow_up"
# (connections.notes.current_status): nothing has to run on the day.
FOLLOWUP_STATUSES = {"to_follow_up": "To follow up", "followed_up": "Followed up", "snoozed": "Snoozed",
                     "archived": "Archived"}


class Connection(db.Model):
    """The one mutual link of a pair; person_a_id < person_b_id makes the pair unique."""

    __tablename__ = "connection"
    __table_args__ = (
        UniqueConstraint("person_a_id", "person_b_id"),
        CheckConstraint("person_a_id < person_b_id", name="ordered_pair"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True, default=lambda: new_code())
    # NULL once that person deleted their account: the other side keeps its entry and notes.
    person_a_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    person_b_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"), index=True)
    first_event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=lambda: utcnow())
    last_met_at: Mapped[datetime] = mapped_column(default=lambda: utcnow(), index=True)

    def other_id(self, person_id):
        return self.person_b_id if person_id == self.person_a_id else self.person_a_id


class ConnectionSide(db.Model):
    """One person's own view of a connection: their status and their private note."""

    __tablename__ = "connection_side"
    __table_args__ = (
        UniqueConstraint("connection_id", "person_id"),
        # A person's sides still on their list, picked from this index alone without reading each
        # side's row: by the follow-up list (its rows, their total, the events met at) and by the
        # banner on every page counting the unseen ones (consent.pending_count). A third of the
        # SQLite time for 300 of them; the banner's count 167 us to about 30.
        Index("ix_connection_side_listed", "person_id", "removed_at", "status", "connection_id", "acknowledged_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connection.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="to_follow_up")
    private_note: Mapped[str] = mapped_column(Text, default="")
    # Whether this person's shared contacts show to the other: at once, or once they confirm.
    shares_contacts: Mapped[bool] = mapped_column(default=True, server_default=sa_true())
    # NULL until this person has seen that the connection was made (the scanned side is told).
    acknowledged_at: Mapped[datetime | None]
    # This person removed the connection: off their list, contacts hidden both ways.
    removed_at: Mapped[datetime | None]
    # This person blocked the other: removed, and refuses their scans from now on.
    blocked_at: Mapped[datetime | None]
    # status "snoozed" until this day; from that day on the entry is back to follow up.
    snoozed_until: Mapped[date | None]
    # The last time this person met, edited or reached out to the other: the reconnect
    # rotation starts from the longest untouched. NULL only on rows older than the column.
    touched_at: Mapped[datetime | None] = mapped_column(default=lambda: utcnow())
    # "Done" in reconnect today, and the day "not today" was chosen.
    reconnected_at: Mapped[datetime | None]
    skipped_on: Mapped[date | None]
    updated_at: Mapped[datetime] = mapped_column(default=lambda: utcnow(), onupdate=lambda: utcnow())

    connection: Mapped[Connection] = relationship()


class Encounter(db.Model):
    """A connected pair meeting at one event; its talked-about line is shared by both."""

    __tablename__ = "encounter"
    __table_args__ = (UniqueConstraint("connection_id", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connection.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    talked_about: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=lambda: utcnow())
    updated_at: Mapped[datetime] = mapped_column(default=lambda: utcnow(), onupdate=lambda: utcnow())

    event = relationship("Event")


class Scan(db.Model):
    """One scan as a device sent it; client_id makes a resent scan record once.

    An undone scan stays as a tombstone (undone_at set, connection_id NULL once the connection
    it made is gone), so the same scan replayed from an offline queue records nothing again.
    """

    __tablename__ = "scan"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    scanner_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    scanned_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    connection_id: Mapped[int | None] = mapped_column(ForeignKey("connection.id", ondelete="SET NULL"),
                                                      index=True)
    # When the server recorded it, and when the device says it was made (an offline scan syncs later;
    # the device's clock, never later than created_at).
    created_at: Mapped[datetime] = mapped_column(default=lambda: utcnow())
    scanned_at: Mapped[datetime | None]
    # What this scan made, so Undo takes back exactly that: the pair's connection, or tonight's encounter.
    made_connection: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    made_encounter: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    undone_at: Mapped[datetime | None]
