"""Who may do what in a series: every organizer-facing service asks here first.

Roles are per series (models.ROLES, weakest first): a door volunteer runs the kiosk and
check-in; an organizer runs events; an owner also manages who else may. Someone with no role
in a series is told it does not exist (NotFound), so ids cannot be probed; a member whose role
is too weak is told so (role_too_low, 403), since they already know the series.
"""
from sqlalchemy import select

from ..errors import DomainError, NotFound
from ..extensions import db
from .models import ROLES, Event, Series, SeriesMember

RANK = {role: rank for rank, role in enumerate(ROLES)}


def allows(role, need):
    """Whether `role` (or None) includes everything `need` may do."""
    return role is not None and RANK[role] >= RANK[need]


def _refuse_weak(role, need):
    if not allows(role, need):
        raise DomainError("Your role in this series doesn't allow that. Ask its owner.", "role_too_low", status=403)


def role_in(organizer, series_id):
    """The organizer's role in the series, or None."""
    return db.session.scalar(select(SeriesMember.role).where(
        SeriesMember.series_id == series_id, SeriesMember.organizer_id == organizer.id))


def _member_series(organizer, condition, need):
    found = db.session.execute(
        select(Series, SeriesMember.role).join(SeriesMember, SeriesMember.series_id == Series.id)
        .where(condition, SeriesMember.organizer_id == organizer.id)).first()
    if found is None:
        raise NotFound("There is no such series among yours.", "unknown_series")
    _refuse_weak(found.role, need)
    return found.Series


def series_for(organizer, public_id, need="organizer"):
    """The series, if the organizer holds at least `need` there. Raises NotFound unknown_series,
    or DomainError role_too_low."""
    return _member_series(organizer, Series.public_id == public_id, need)


def series_by_id_for(organizer, series_id, need="organizer"):
    """As series_for, by row id (for services handed a series id by another domain)."""
    return _member_series(organizer, Series.id == series_id, need)


def event_for(organizer, public_id, need="organizer"):
    """The event, if the organizer holds at least `need` in its series. Raises NotFound
    unknown_event, or DomainError role_too_low."""
    found = db.session.execute(
        select(Event, SeriesMember.role).join(SeriesMember, SeriesMember.series_id == Event.series_id)
        .where(Event.public_id == public_id, SeriesMember.organizer_id == organizer.id)).first()
    if found is None:
        raise NotFound("There is no such event among yours.", "unknown_event")
    _refuse_weak(found.role, need)
    return found.Event


def roles(organizer):
    """{series_id: role} for every series the organizer belongs to: one query."""
    return dict(db.session.execute(select(SeriesMember.series_id, SeriesMember.role)
                                   .where(SeriesMember.organizer_id == organizer.id)).all())


def member_series_ids(organizer, need="door"):
    """A select of the ids of the series where the organizer holds at least `need`."""
    return select(SeriesMember.series_id).where(
        SeriesMember.organizer_id == organizer.id, SeriesMember.role.in_(ROLES[RANK[need]:]))
