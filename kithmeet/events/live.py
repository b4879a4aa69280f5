"""The live dashboard of one event: aggregates only, never who met whom.

Checked in, connections made there (one per pair that met at the event: an encounter), new
versus returning attendees (returning: checked in at an earlier event of the series),
connections per 15 minutes, and the night's web: a dot per attendee and a line per pair
that met. The dots carry no name, id or order that maps to a person: each one's place comes
from an HMAC of the person under a key derived from the app's secret and the event, and the
dots are listed in the order of their places. Without the secret key nobody can tell which
dot is whom, and the same person sits elsewhere in every other event's web.

The web changes only in batches, while the numbers stay live. Were a dot to stay put as people
arrive, an organizer polling the dashboard beside the attendee list (names in check-in order)
would see whose dot appeared, and the lines would then name pairs. So the web draws the first
LIVE_WEB_BATCH × n check-ins and, of the pairs, the first LIVE_WEB_BATCH × m that met (both
rounded down to whole batches), and the HMAC key names that state: each new batch, and anything
that takes someone out of it, places every dot afresh. Below one batch of people there is no
web to draw, and the page says when it will appear.

Counts stay honest: someone hidden from the event (events/attendees.py) is off its lists, but
they did check in and the connections they made were made, so they are counted and drawn.

A handful of queries whatever the numbers (the event with the organizer's role, its series, the
check-ins, and the pairs that met, each with its quarter hour for the chart), for the refresh
endpoint polled by every open dashboard and projector.

This module reads the connections domain's tables, which sit above events: like
people/export.py it is imported only by views (organizer/live_views.py), never below.
"""
import collections
import functools
import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import timedelta, timezone

from flask import current_app
from sqlalchemy import BigInteger, bindparam, exists, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.functions import FunctionElement

from ..connections.models import Connection, Encounter
from ..database import utcnow
from ..extensions import db
from . import access, timezones
from .models import CheckIn, Event

BUCKET = timedelta(minutes=15)
# The chart shows at most this many quarter hours (8 hours), ending now or at the close.
MAX_BUCKETS = 32
# The web and the chart are drawn in these viewBox units (the SVG scales to its box).
WEB_SIZE = 1000
CHART_WIDTH, CHART_HEIGHT = 640, 240
# Bars are at least this narrow (three hours' worth): the first quarter hour is one bar, not a wall.
MIN_SLOTS = 12


@dataclass(frozen=True)
class Bar:
    label: str  # the quarter hour's start in the series' zone, "19:15"
    count: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Live:
    checked_in: int
    connections: int
    new: int
    returning: int
    bars: tuple
    dots: tuple  # (x, y), ordered by place: whole batches only (see the module's docstring)
    lines: tuple  # (i, j): indexes into dots
    batch: int = 10  # LIVE_WEB_BATCH: the web appears once this many are in

    def segments(self):
        """Each line's two ends, for the server-rendered SVG."""
        return [(*self.dots[i], *self.dots[j]) for i, j in self.lines]

    def as_json(self):
        return {"checked_in": self.checked_in, "connections": self.connections, "new": self.new,
                "returning": self.returning,
                "bars": [{"label": bar.label, "count": bar.count, "x": bar.x, "y": bar.y, "width": bar.width,
                          "height": bar.height} for bar in self.bars],
                # Tuples go out as JSON arrays as they are: no list per dot and per line.
                "dots": self.dots, "lines": self.lines,
                "batch": self.batch}


def for_organizer(organizer, public_id):
    """(event, Live) for one of the organizer's events. Raises NotFound unknown_event, or
    DomainError role_too_low (door volunteers run the door, not the night's numbers)."""
    event = access.event_for(organizer, public_id, "organizer")
    return event, live(event)


def live(event):
    # Core execution of statements built once: plain tuples, without the ORM's per-row work or
    # the cost of building the statements again (this is polled, and building them cost more
    # than running them).
    connection = db.session.connection()
    end = _quarter(event.closed_at if event.status == "closed" and event.closed_at else utcnow())
    window = end - BUCKET * (MAX_BUCKETS - 1)
    checkins, met = _statements()
    checkins = connection.execute(checkins, {"event_id": event.id, "series_id": event.series_id,
                                             "starts_at": event.starts_at}).all()
    met = connection.execute(met, {"event_id": event.id,
                                   "window": int(window.replace(tzinfo=timezone.utc).timestamp())}).all()
    returning = sum(1 for _, back in checkins if back)
    dots, lines = _web(event, [person_id for person_id, _ in checkins], [(a, b) for a, b, _ in met])
    return Live(checked_in=len(checkins), connections=len(met), new=len(checkins) - returning,
                returning=returning, bars=_bars(event, window, [since for _, _, since in met]), dots=dots,
                lines=lines, batch=current_app.config["LIVE_WEB_BATCH"])


@functools.cache
def _statements():
    """(the check-ins, each with whether that person came to an earlier event of the series;
    the pairs that met, in the order they met, each with the seconds from the chart's window's
    start to their meeting). Parameters: event_id, series_id, starts_at, window (epoch seconds)."""
    earlier, earlier_event = aliased(CheckIn), aliased(Event)
    came_back = exists().where(
        earlier.person_id == CheckIn.person_id, earlier.event_id == earlier_event.id,
        earlier_event.series_id == bindparam("series_id"), earlier_event.starts_at < bindparam("starts_at"),
        earlier_event.id != bindparam("event_id"))
    checkins = select(CheckIn.person_id, came_back).where(CheckIn.event_id == bindparam("event_id")).order_by(CheckIn.id)
    met = (select(Connection.person_a_id, Connection.person_b_id, _epoch(Encounter.created_at) - bindparam("window"))
           .select_from(Encounter).join(Connection, Connection.id == Encounter.connection_id)
           .where(Encounter.event_id == bindparam("event_id")).order_by(Encounter.id))
    return checkins, met


def _web(event, person_ids, pairs):
    """(dots, lines) of the drawn state: whole batches of check-ins and pairs, in the order they came."""
    batch = current_app.config["LIVE_WEB_BATCH"]
    drawn = person_ids[:len(person_ids) // batch * batch]
    if not drawn:
        return (), ()
    pairs = pairs[:len(pairs) // batch * batch]
    # Who is drawn (not just how many: a person deleted from the batch changes it) and how many pairs.
    state = hashlib.sha256(f"{sorted(drawn)}:{len(pairs)}".encode()).hexdigest()
    key = hmac.new(current_app.config["SECRET_KEY"].encode(), f"live-web:{event.id}:{state}".encode(),
                   hashlib.sha256).digest()
    places = {person_id: _place(key, person_id) for person_id in drawn}
    ranked = sorted(places, key=places.__getitem__)
    index = {person_id: i for i, person_id in enumerate(ranked)}
    lines = set()
    for a, b in pairs:
        if a in index and b in index:
            i, j = index[a], index[b]
            lines.add((i, j) if i < j else (j, i))
    return tuple(places[person_id][:2] for person_id in ranked), tuple(sorted(lines))


@functools.lru_cache(maxsize=50_000)
def _place(key, person_id):
    """(x, y, tie-break): a point spread evenly over a disc, from the person's keyed hash: no
    order, no id. Two people may share a point; the tie-break (more of the hash) orders them.
    Kept per process: a place never changes under one key, and the refresh asks for hundreds
    every few seconds."""
    digest = hashlib.blake2b(str(person_id).encode(), key=key, digest_size=24).digest()
    u, v = int.from_bytes(digest[:8], "big") / 2 ** 64, int.from_bytes(digest[8:16], "big") / 2 ** 64
    radius, angle = math.sqrt(u) * (WEB_SIZE / 2 - 20), v * math.tau
    return (round(WEB_SIZE / 2 + radius * math.cos(angle)), round(WEB_SIZE / 2 + radius * math.sin(angle)),
            digest[16:])


class _epoch(FunctionElement):
    """Whole seconds since 1970 of a naive UTC timestamp column, in SQL."""
    type = BigInteger()
    inherit_cache = True


@compiles(_epoch, "sqlite")
def _epoch_sqlite(element, compiler, **kw):
    return f"CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(_epoch, "postgresql")
def _epoch_postgresql(element, compiler, **kw):
    return f"CAST(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) AS BIGINT)"


def _bars(event, window, since):
    """Connections per quarter hour, the last MAX_BUCKETS of them up to the close (or now), from
    the event's opening or its first connection if earlier, laid out in the chart's viewBox.
    `since`: each connection's seconds after the window's start (the pairs' statement reads
    them, so the chart costs no statement of its own)."""
    seconds = int(BUCKET.total_seconds())
    counted = collections.Counter(moment // seconds for moment in since if moment >= 0)
    starts = [int((_quarter(event.opened_at) - window) / BUCKET)] if event.opened_at else []
    starts += [index for index in counted if index < MAX_BUCKETS]
    if not starts:
        return ()
    first = max(0, min(starts))
    counts = [counted.get(index, 0) for index in range(first, MAX_BUCKETS)]
    top = max(counts) or 1
    width = CHART_WIDTH / max(len(counts), MIN_SLOTS)
    zone = event.series.time_zone
    return tuple(Bar(label=timezones.to_local(window + BUCKET * (first + i), zone).strftime("%H:%M"), count=n,
                     x=round(i * width + width * 0.1, 1), y=round(CHART_HEIGHT - CHART_HEIGHT * n / top, 1),
                     width=round(width * 0.8, 1), height=round(CHART_HEIGHT * n / top, 1))
                 for i, n in enumerate(counts))


def _quarter(moment):
    return moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)
