"""Telling a person within seconds that someone connected with them: what their open home and
badge pages ask every few seconds (news_views.py, static/js/news.js).

A check is one SQL statement: the person (to verify the sign-in the page's token was made
with), the number of connections they have not seen yet (consent.pending_count's rule) and
the newest one's other person and public id. It finds the person by primary key and their
sides by `ix_connection_side_person_id`, so it reads that person's rows (and one name) only.

The page carries a signed token instead of the session cookie (`token_for`), so a check needs
no session read: the person's id, sign-in generation and birth (as a signed-in session holds
them, auth.py), signed with the app's secret key and good for NEWS_TOKEN_HOURS. Signing out
everywhere voids it, as it voids a session.
"""
from dataclasses import dataclass
from functools import cache

from flask import current_app
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import and_, bindparam, case, func, select

from ..auth import _birth
from ..errors import DomainError
from ..extensions import db
from ..people.models import Person
from .models import Connection, ConnectionSide

SALT = "kithmeet.connections.news"  # a token signed for anything else with the same key is refused
MAX_TOKEN_LENGTH = 200


@dataclass(frozen=True)
class News:
    count: int  # connections the person has not seen yet
    connection: str | None  # the newest one's public id
    name: str | None  # its other person (None once they deleted their account)

    @property
    def etag(self):
        """Changes whenever the count or the newest unseen connection does: what the page compares."""
        return f"{self.count}-{self.connection or 'none'}"


def _signer():
    return URLSafeTimedSerializer(current_app.secret_key, salt=SALT)


def token_for(person):
    """The token a page of `person` sends with each check."""
    return _signer().dumps([person.id, person.session_generation, _birth(person)])


def _refused(message="Sign in to see that.", code="sign_in_required"):
    return DomainError(message, code, status=401)


def check(token):
    """What is new for the person whose page carries `token`: one statement. Raises DomainError
    (401) news_token_expired for a token older than NEWS_TOKEN_HOURS, and sign_in_required for
    one that is forged or malformed, whose person signed out everywhere since, or is gone."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        raise _refused()
    try:
        value = _signer().loads(token, max_age=current_app.config["NEWS_TOKEN_HOURS"] * 3600)
    except SignatureExpired:  # signed by us (the signature is checked first), just old
        raise _refused("This page has been open a long time: reload it to keep hearing of new "
                       "connections.", "news_token_expired") from None
    except BadData:
        raise _refused() from None
    if not (isinstance(value, list) and len(value) == 3 and all(type(v) is t for v, t in zip(value, (int, int, str)))):
        raise _refused()
    person_id, generation, birth = value
    row = _read(person_id)
    if row is None or row.session_generation != generation or row.created_at.isoformat() != birth:
        raise _refused()  # signed out everywhere since, or deleted (SQLite reuses the id)
    return News(row.count, row.public_id, row.name)


def news_of(person):
    """The same check for a person already known (a request signed in by its session)."""
    row = _read(person.id)
    return News(row.count, row.public_id, row.name)


def _read(person_id):
    """The person's generation and birth, their count of unseen connections and the newest one to
    reach them, in one row; None when there is no such person."""
    return db.session.execute(_statement(), {"person_id": person_id}).first()


@cache
def _statement():
    # Built once, in Core: building it per check (ORM aliases, the CASE) cost ten times running it.
    me, other = Person.__table__.alias("me"), Person.__table__.alias("other")
    side, connection = ConnectionSide.__table__, Connection.__table__
    unseen = and_(side.c.person_id == me.c.id, side.c.acknowledged_at.is_(None), side.c.removed_at.is_(None))
    other_id = case((connection.c.person_a_id == me.c.id, connection.c.person_b_id), else_=connection.c.person_a_id)
    # Outer joins keep the person's row when nothing is new; the window counts before the LIMIT.
    return (select(me.c.session_generation, me.c.created_at, func.count(side.c.id).over().label("count"),
                   connection.c.public_id, other.c.name)
            .select_from(me.outerjoin(side, unseen)
                         .outerjoin(connection, connection.c.id == side.c.connection_id)
                         .outerjoin(other, other.c.id == other_id))
            .where(me.c.id == bindparam("person_id"))
            # The newest to reach this person, by when its side was recorded: a scan synced late from
            # an offline phone carries an earlier meeting time, and must still be the one named.
            .order_by(side.c.id.desc().nulls_last())
            .limit(1))
