from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text, UniqueConstraint, false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import utcnow
from ..extensions import db
from ..tokens import EVENT_CODE_LENGTH, new_code

DEFAULT_PROMPTS = ("Ask me about", "I can help with", "I'm looking for")
STATUS_LABELS = {"draft": "Draft", "open": "Open", "closed": "Closed"}
# Who may join an event: anyone with the link, whoever types the code the organizer announces,
# or only people on the series' imported guest list (matched by e-mail).
JOIN_POLICIES = {"open": "Anyone with the link", "code": "A code announced at the venue",
                 "guests": "The guest list only"}
# Roles per series, weakest first: door volunteers run the kiosk and check-in only.
ROLES = ("door", "organizer", "owner")
ROLE_LABELS = {"owner": "Owner", "organizer": "Organizer", "door": "Door volunteer"}


class Series(db.Model):
    __tablename__ = "series"
    __table_args__ = (UniqueConstraint("organizer_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True, default=lambda: new_code(EVENT_CODE_LENGTH))
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizer.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    # Shown on the join page when set: an http(s) link to the series' code of conduct.
    code_of_conduct_url: Mapped[str] = mapped_column(String(300), default="", server_default="")
    # Attendee data is kept this many months after a person's last event in the series.
    retention_months: Mapped[int] = mapped_column(default=12, server_default="12")
    # An IANA zone name: event times are stored in UTC and shown and typed in this zone.
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    # The kiosk offers "print my badge" (a 62x100 mm label) only where a label printer is set up.
    label_printer: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    created_at: Mapped[datetime] = mapped_column(default=lambda: utcnow())

    events: Mapped[list["Event"]] = relationship(back_populates="series")


class Event(db.Model):
    __tablename__ = "event"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True, default=lambda: new_code(EVENT_CODE_LENGTH))
    # The code in the join link and poster QR; separate from public_id so it can be rotated.
    join_code: Mapped[str] = mapped_column(String(16), unique=True, default=lambda: new_code(EVENT_CODE_LENGTH))
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    starts_at: Mapped[datetime]
    venue: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="draft")
    # Branding: "#rrggbb" ("" for the default), and a logo kept re-encoded in event_logo.
    accent_color: Mapped[str] = mapped_column(String(7), default="", server_default="")
    logo_id: Mapped[int | None] = mapped_column(ForeignKey("event_logo.id", ondelete="SET NULL"))
    # JOIN_POLICIES; entry_code is the code announced at the venue when join_policy is "code".
    join_policy: Mapped[str] = mapped_column(String(10), default="open", server_default="open")
    entry_code: Mapped[str] = mapped_column(String(20), default="", server_default="")
    # At most this many check-ins (None: no limit).
    capacity: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=lambda: utcnow())
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    series: Mapped[Series] = relationship(back_populates="events")
    logo: Mapped["EventLogo | None"] = relationship()
    prompts: Mapped[list["EventPrompt"]] = relationship(
        order_by="EventPrompt.position", cascade="all, delete-orphan")

    @property
    def status_label(self):
        return STATUS_LABELS[self.status]

    @property
    def prompt_labels(self):
        return [prompt.label for prompt in self.prompts]


class EventLogo(db.Model):
    """An uploaded logo, re-encoded (PNG) without metadata. Events share a row: the next event
    in a series copies the reference, not the bytes."""
    __tablename__ = "event_logo"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True, default=lambda: new_code(EVENT_CODE_LENGTH))
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), index=True)
    # Deferred: pages that show the logo link its route; only that route and printing read the bytes.
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    content_type: Mapped[str] = mapped_column(String(20), default="image/png")
    width: Mapped[int]
    height: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=lambda: utcnow())


class SeriesMember(db.Model):
    """An organizer's role in a series (ROLES). The series' creator is its first owner."""
    __tablename__ = "series_member"
    __table_args__ = (UniqueConstraint("series_id", "organizer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"))
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizer.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(default=lambda: utcnow())

    series: Mapped[Series] = relationship()


class SeriesInvite(db.Model):
    """A single-use link that makes its opener a member of a series in `role`; only its hash is kept."""
    __tablename__ = "series_invite"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True, default=lambda: new_code(EVENT_CODE_LENGTH))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(10))
    # Where it was e-mailed ("" for a link handed over by other means).
    email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    invited_by: Mapped[int | None] = mapped_column(ForeignKey("organizer.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=lambda: utcnow())
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by: Mapped[int | None] = mapped_column(ForeignKey("organizer.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None]


class EventRemoval(db.Model):
    """A person an organizer hid from one event: off its lists, and their badge stops connecting there."""
    __tablename__ = "event_removal"
    __table_args__ = (UniqueConstraint("event_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    organizer_id: Mapped[int | None] = mapped_column(ForeignKey("organizer.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=lambda: utcnow())


class EventPrompt(db.Model):
    __tablename__ = "event_prompt"
    __table_args__ = (UniqueConstraint("event_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    position: Mapped[int]
    label: Mapped[str] = mapped_column(String(80))


class CheckIn(db.Model):
    __tablename__ = "check_in"
    __table_args__ = (UniqueConstraint("event_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    # How they came in: "join" (their own phone), "kiosk" or "door" (checked in by a volunteer).
    via: Mapped[str] = mapped_column(String(10), default="join", server_default="join")
    created_at: Mapped[datetime] = mapped_column(default=lambda: utcnow())

    event: Mapped[Event] = relationship()


class SeriesRemoval(db.Model):
    """A person an organizer removed from a series: they cannot join its events again."""
    __tablename__ = "series_removal"
    __table_args__ = (UniqueConstraint("series_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    organizer_id: Mapped[int | None] = mapped_column(ForeignKey("organizer.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=lambda: utcnow())
