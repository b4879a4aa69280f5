from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..database import utcnow
from ..extensions import db
from ..tokens import new_code


class ApiToken(db.Model):
    """A personal API token for an integration. Only the SHA-256 of the secret is kept (it is
    shown once); `generation` is the person's session generation when it was made, so signing
    out everywhere (or an address confirmed from another device) ends tokens too."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True, default=lambda: new_code())
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The secret's first characters, shown in the list so a person can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(12))
    generation: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=lambda: utcnow())
    last_used_at: Mapped[datetime | None]
