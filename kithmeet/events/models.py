from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import utcnow
from ..extensions import db
from ..tokens import EVENT_CODE_LENGTH, new_code

DEFAULT_PROMPTS = ("Ask me about", "I can help with", "I'm looking for")
STATUS_LABELS = {"draft": "Draft", "open": "Open", "closed": "Closed"}


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
    created_at: Mapped[datetime] = mapped_column(default=lambda: utcnow())
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    series: Mapped[Series] = relationship(back_populates="events")
    prompts: Mapped[list["EventPrompt"]] = relationship(
        order_by="EventPrompt.position", cascade="all, delete-orphan")

    @property
    def status_label(self):
        return STATUS_LABELS[self.status]

    @property
    def prompt_labels(self):
        return [prompt.label for prompt in self.prompts]


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
