from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..database import utcnow
from ..extensions import db
from ..tokens import new_code

STATUSES = ("queued", "sent", "failed")


class OutgoingMail(db.Model):
    """One message to one address. `queued` until the worker sends it (`sent`) or gives up
    after `worker.MAX_ATTEMPTS` (`failed`). `claimed_until` is a worker's lease on it while
    it sends; `last_error` is a short code, never the server's reply (it names addresses).

    Only a queued message holds its body, headers and full address. The worker's UPDATE that
    marks it sent, or failed for good, empties `text_body` and `headers`, sets `html_body` to
    NULL and masks `to_address` ("a…@example.org"); `flask purge` deletes such rows after
    MAIL_KEEP_DAYS, and deleting an account deletes the messages still queued to it."""

    __tablename__ = "outgoing_mail"
    __table_args__ = (Index("ix_outgoing_mail_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True, default=lambda: new_code())
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    headers: Mapped[str] = mapped_column(Text, default="{}")  # JSON object: extra header -> value
    status: Mapped[str] = mapped_column(String(10), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=lambda: utcnow())
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=lambda: utcnow())
    sent_at: Mapped[datetime | None]
