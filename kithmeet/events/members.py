"""Who runs a series with its owner: members, single-use invite links, roles, leaving.

An owner invites by a link (`/organizer/invite/<token>`): only the token's SHA-256 is kept
(`SeriesInvite.token_hash`), it works for INVITE_VALID_FOR, and using it is a conditional
UPDATE (still unused, unrevoked, in time), so of two tabs sending it at once one wins. The
link is shown once to the owner to copy, and mailed when an address is given.

A series always keeps an owner: every change that could take the last one away locks the
series row first (PostgreSQL; SQLite serializes writers anyway) and counts the owners left
after writing, so two owners demoting each other at once cannot both succeed.
"""
import hashlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select, update

from ..audit import services as audit
from ..database import transaction, utcnow
from ..emails import checked_email
from ..errors import DomainError, NotFound
from ..extensions import db
from ..mail import services as mail
from ..tokens import new_secret
from ..urls import external_url, local_base
from . import access
from .models import ROLE_LABELS, ROLES, Series, SeriesInvite, SeriesMember

INVITE_VALID_FOR = timedelta(days=7)
# An owner hands out the roles below theirs; making another owner is a role change, on purpose.
INVITABLE = ("organizer", "door")
MAX_TOKEN = 100


def _hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Member:
    id: int  # the series_member row
    organizer_id: int
    email: str
    role: str

    @property
    def role_label(self):
        return ROLE_LABELS[self.role]


def members_of(organizer, series_public_id):
    """(series, [Member], open invites) for the members page: owners only; three queries.
    Raises NotFound unknown_series, DomainError role_too_low."""
    from ..organizer.models import Organizer  # below events, loaded by name like auth.py does

    series = access.series_for(organizer, series_public_id, "owner")
    rows = db.session.execute(
        select(SeriesMember.id, SeriesMember.organizer_id, Organizer.email, SeriesMember.role)
        .join(Organizer, Organizer.id == SeriesMember.organizer_id)
        .where(SeriesMember.series_id == series.id)
        .order_by(SeriesMember.created_at, SeriesMember.id)).all()
    members = sorted((Member(*row) for row in rows), key=lambda m: -access.RANK[m.role])
    invites = db.session.scalars(
        select(SeriesInvite).where(SeriesInvite.series_id == series.id, SeriesInvite.used_at.is_(None),
                                   SeriesInvite.revoked_at.is_(None), SeriesInvite.expires_at > utcnow())
        .order_by(SeriesInvite.created_at.desc(), SeriesInvite.id.desc())).all()
    return series, members, invites


def invite_link(token):
    """The link to copy or mail: on PUBLIC_URL, else the request's host, else what `make run` serves."""
    return external_url("organizer.accept_invite", local_base(), token=token)


def invite(organizer, series_public_id, *, role, email=""):
    """A single-use link making its opener a `role` (INVITABLE) of an owner's series, valid for
    INVITE_VALID_FOR. With an address, the link is mailed there too. Returns (invite, token): the
    token exists only in the link, shown once. Raises NotFound unknown_series; DomainError
    role_too_low, bad_role, bad_email."""
    series = access.series_for(organizer, series_public_id, "owner")
    if role not in INVITABLE:
        raise DomainError("Choose organizer or door volunteer.", "bad_role")
    address = checked_email(email) or ""
    token, now = new_secret(), utcnow()
    with transaction():
        created = SeriesInvite(token_hash=_hash(token), series_id=series.id, role=role, email=address,
                               invited_by=organizer.id, created_at=now, expires_at=now + INVITE_VALID_FOR)
        db.session.add(created)
        db.session.flush()
        if address:
            link = invite_link(token)
            mail.queue(address, "You're invited to help run a meetup on kithmeet",
                       f"{organizer.email} invites you to help run {series.name} on kithmeet as "
                       f"{ROLE_LABELS[role].lower()}.\n\nAccept here (the link works once, for "
                       f"{INVITE_VALID_FOR.days} days):\n{link}\n\nIf you weren't expecting this, ignore it.\n")
        audit.record(organizer.id, "series.member_invited", series_id=series.id)
    return created, token


def revoke_invite(organizer, series_public_id, invite_public_id):
    """Switch off an unused invite of an owner's series. Raises NotFound unknown_series,
    unknown_invite; DomainError role_too_low, invite_used, invite_revoked."""
    series = access.series_for(organizer, series_public_id, "owner")
    found = db.session.scalar(select(SeriesInvite).where(
        SeriesInvite.series_id == series.id, SeriesInvite.public_id == (invite_public_id or "")))
    if found is None:
        raise NotFound("There is no such invite for this series.", "unknown_invite")
    _refuse_spent(found, expired_too=False)
    with transaction():
        revoked = db.session.execute(
            update(SeriesInvite).where(SeriesInvite.id == found.id, SeriesInvite.used_at.is_(None),
                                       SeriesInvite.revoked_at.is_(None))
            .values(revoked_at=utcnow()).execution_options(synchronize_session=False))
        if revoked.rowcount != 1:
            raise _used()  # it was accepted meanwhile
        audit.record(organizer.id, "series.invite_revoked", series_id=series.id)
    db.session.expire(found)


def _used():
    return DomainError("This invite was already used. Ask the series' owner for a new one.", "invite_used",
                       status=409)


def _refuse_spent(found, expired_too=True):
    if found.used_at is not None:
        raise _used()
    if found.revoked_at is not None:
        raise DomainError("This invite was withdrawn by the series' owner.", "invite_revoked", status=409)
    if expired_too and found.expires_at <= utcnow():
        raise DomainError("This invite has expired. Ask the series' owner for a new one.", "invite_expired",
                          status=409)


def open_invite(token):
    """The invite a link names, and its series, for the page that asks. Reading never uses it up.
    Raises NotFound unknown_invite; DomainError invite_used, invite_revoked, invite_expired."""
    found = None
    if token and len(token) <= MAX_TOKEN:
        found = db.session.scalar(select(SeriesInvite).where(SeriesInvite.token_hash == _hash(token)))
    if found is None:
        raise NotFound("This invite link isn't valid. Check it with whoever sent it.", "unknown_invite")
    _refuse_spent(found)
    return found, db.session.get(Series, found.series_id)


def accept(organizer, token):
    """Make a signed-in organizer a member through an invite link, once. Raises NotFound
    unknown_invite; DomainError invite_used, invite_revoked, invite_expired, already_member."""
    found, series = open_invite(token)
    if access.role_in(organizer, series.id) is not None:
        raise DomainError(f"You already help run {series.name}.", "already_member", status=409)
    with transaction(conflict=DomainError(f"You already help run {series.name}.", "already_member", status=409)):
        _use(found, organizer)
    return series


def accept_with_new_account(token, email, password):
    """Create an organizer account through an invite link and make it a member, in one
    transaction: a used-up link makes no account. Returns (organizer, series). Raises NotFound
    unknown_invite; DomainError invite_used, invite_revoked, invite_expired, bad_email,
    weak_password, organizer_exists."""
    from ..organizer import services as organizers  # organizer sits below events (its table) and above

    found, series = open_invite(token)
    with transaction():
        organizer = organizers.create_organizer(email, password)  # joins this transaction
        _use(found, organizer)
    return organizer, series


def _use(found, organizer):
    """In the caller's transaction: claim the invite by a conditional UPDATE, then add the member."""
    claimed = db.session.execute(
        update(SeriesInvite).where(SeriesInvite.id == found.id, SeriesInvite.used_at.is_(None),
                                   SeriesInvite.revoked_at.is_(None), SeriesInvite.expires_at > utcnow())
        .values(used_at=utcnow(), used_by=organizer.id).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        db.session.expire(found)
        _refuse_spent(db.session.get(SeriesInvite, found.id))  # names what happened meanwhile
        raise _used()
    db.session.add(SeriesMember(series_id=found.series_id, organizer_id=organizer.id, role=found.role))
    db.session.flush()
    audit.record(organizer.id, "series.member_joined", series_id=found.series_id)


def _member(series, member_id):
    found = db.session.scalar(select(SeriesMember).where(
        SeriesMember.series_id == series.id, SeriesMember.id == member_id)) if isinstance(member_id, int) and 0 < member_id < 2**31 else None
    if found is None:
        raise NotFound("There is no such member of this series.", "unknown_member")
    return found


def _lock(series):
    """Serialize membership changes of one series (a no-op on SQLite, whose writers queue)."""
    db.session.execute(select(Series.id).where(Series.id == series.id).with_for_update())


def _keep_an_owner(series):
    """After the write, in its transaction: refuse (last_owner) a series left without an owner."""
    owners = db.session.scalar(select(func.count(SeriesMember.id)).where(
        SeriesMember.series_id == series.id, SeriesMember.role == "owner"))
    if owners == 0:
        raise DomainError("A series needs an owner: make someone else owner first.", "last_owner", status=409)


def change_role(organizer, series_public_id, member_id, role):
    """Give a member of an owner's series another role (ROLES). Raises NotFound unknown_series,
    unknown_member; DomainError role_too_low, bad_role, last_owner."""
    series = access.series_for(organizer, series_public_id, "owner")
    if role not in ROLES:
        raise DomainError("Choose owner, organizer or door volunteer.", "bad_role")
    member = _member(series, member_id)
    if member.role == role:
        return member
    with transaction():
        _lock(series)
        db.session.execute(update(SeriesMember).where(SeriesMember.id == member.id).values(role=role)
                           .execution_options(synchronize_session=False))
        _keep_an_owner(series)
        audit.record(organizer.id, "series.role_changed", series_id=series.id)
    db.session.expire(member)
    return member


def remove_member(organizer, series_public_id, member_id):
    """Take a member off an owner's series (their open invites stay the owner's to revoke).
    Raises NotFound unknown_series, unknown_member; DomainError role_too_low, last_owner."""
    series = access.series_for(organizer, series_public_id, "owner")
    member = _member(series, member_id)
    with transaction():
        _lock(series)
        db.session.execute(delete(SeriesMember).where(SeriesMember.id == member.id)
                           .execution_options(synchronize_session=False))
        _keep_an_owner(series)
        audit.record(organizer.id, "series.member_removed", series_id=series.id)


def leave(organizer, series_public_id):
    """Stop helping run a series, whatever the role. Raises NotFound unknown_series;
    DomainError last_owner."""
    series = access.series_for(organizer, series_public_id, "door")
    with transaction():
        _lock(series)
        db.session.execute(delete(SeriesMember).where(SeriesMember.series_id == series.id,
                                                      SeriesMember.organizer_id == organizer.id)
                           .execution_options(synchronize_session=False))
        _keep_an_owner(series)
        audit.record(organizer.id, "series.left", series_id=series.id)
    return series
