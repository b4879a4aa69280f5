from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, false as sa_false, true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import utcnow
from ..extensions import db
from ..tokens import new_code

CONTACT_KINDS = ("email", "phone", "linkedin", "website")
CONTACT_LABELS = {"email": "Email", "phone": "Phone", "linkedin": "LinkedIn", "website": "Website"}


class Person(db.Model):
    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    badge_token: Mapped[str] = mapped_column(String(16), unique=True, default=lambda: new_code())
    name: Mapped[str] = mapped_column(String(80))
    pronouns: Mapped[str] = mapped_column(String(40), default="")
    headline: Mapped[str] = mapped_column(String(120), default="")
    # sha256 of the current personal sign-in link's secret; issuing a new link replaces it.
    signin_secret_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Stored in each device's sign-in; bumping it signs every device out.
    session_generation: Mapped[int] = mapped_column(default=1, server_default="1")
    # The join form's one-time id: a double-submitted join makes one person, not two.
    join_nonce: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The e-mail identity (e-mail sign-in, account recovery, guest-list matching); not the
    # "email" contact field shown to connections. Always written through people.identity, which
    # stores the normalised form (trimmed, NFC, lower-cased): a plain unique index then compares
    # case-insensitively on SQLite and PostgreSQL alike, no citext or expression index, and
    # NULLs (no identity) never collide. A unique index rather than a UNIQUE constraint: adding
    # a constraint to SQLite's person table means batch-recreating it, and dropping the old
    # table with foreign_keys=ON cascade-deletes every contact, check-in and connection.
    email: Mapped[str | None] = mapped_column(String(254), unique=True, index=True)
    # True: connecting shows this person's shared contacts at once (the default); False: only
    # once they confirm that connection (connection_side.shares_contacts).
    share_on_connect: Mapped[bool] = mapped_column(default=True, server_default=sa_true())
    # When the e-mail identity was last proven (an e-mailed sign-in link to it was opened);
    # changing the address clears it. No digest or nudge goes to an unconfirmed address.
    email_confirmed_at: Mapped[datetime | None]
    # The key in unsubscribe links: works without signing in, does nothing but unsubscribe.
    mail_token: Mapped[str | None] = mapped_column(String(32), unique=True, index=True)
    # The digest after an event closes (on until unsubscribed) and the weekly nudge (opt-in).
    digest_mail: Mapped[bool] = mapped_column(default=True, server_default=sa_true())
    nudge_mail: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    nudge_sent_at: Mapped[datetime | None]
    # When the person took their profile in hand. An imported guest has a badge but no
    # claimed_at until they claim it (kiosk, e-mailed link, or scanning their printed badge).
    claimed_at: Mapped[datetime | None] = mapped_column(default=lambda: utcnow())
    # Made by `make demo`: removable with it, and never mixed into a real site unasked.
    is_demo: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    created_at: Mapped[datetime] = mapped_column(default=lambda: utcnow())
    updated_at: Mapped[datetime] = mapped_column(default=lambda: utcnow(), onupdate=lambda: utcnow())

    contacts: Mapped[list["ContactField"]] = relationship(
        order_by="ContactField.id", cascade="all, delete-orphan", back_populates="person")
    answers: Mapped[list["PromptAnswer"]] = relationship(
        order_by="(PromptAnswer.position, PromptAnswer.id)", cascade="all, delete-orphan")

    @property
    def first_answer(self):
        return next((a for a in self.answers if a.answer), None)


class ContactField(db.Model):
    __tablename__ = "contact_field"
    __table_args__ = (UniqueConstraint("person_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(300))
    shared: Mapped[bool] = mapped_column(default=True)

    person: Mapped[Person] = relationship(back_populates="contacts")

    @property
    def label(self):
        return CONTACT_LABELS.get(self.kind, self.kind)

    @property
    def href(self):
        if self.kind == "email":
            return "mailto:" + self.value
        if self.kind == "phone":
            return "tel:" + "".join(ch for ch in self.value if ch.isdigit() or ch == "+")
        return self.value  # validated to be an http(s) URL on the way in


class PromptAnswer(db.Model):
    __tablename__ = "prompt_answer"
    __table_args__ = (UniqueConstraint("person_id", "prompt"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    prompt: Mapped[str] = mapped_column(String(80))
    answer: Mapped[str] = mapped_column(String(200))


class RevokedBadge(db.Model):
    """A badge token its owner replaced (a lost badge): scanning it says so, clearly."""

    __tablename__ = "revoked_badge"

    token: Mapped[str] = mapped_column(String(16), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    revoked_at: Mapped[datetime] = mapped_column(default=lambda: utcnow())


class EmailSignin(db.Model):
    """A single-use sign-in link sent to a person's e-mail identity. Only its hash is kept here;
    the link itself is in its mail until the worker sends that (and empties the body)."""

    __tablename__ = "email_signin"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    # The address it went to: opening it confirms that address, if it is still the identity.
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=lambda: utcnow())
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class KioskHandoff(db.Model):
    """The QR a door kiosk shows after check-in: opened on the person's own phone it signs them
    in, once, within a few minutes. Only its hash is kept."""

    __tablename__ = "kiosk_handoff"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=lambda: utcnow())
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
