"""A realistic site for benchmarks/load.py: one organizer's weekly series of events, its
attendees, their check-ins and the connections they made, written into an empty database.

What the services can write quickly they write: the organizer, the events (opened and closed
through events.services.set_status), every attendee (people.services.join_event, so each
profile, contact, answer, identity and first check-in is the join form's), every later
check-in (events.services.check_in), tonight's connections (connections.services.connect),
sign-in links and API tokens. The connections of the past nights, tens of thousands, are
written with SQLAlchemy core inserts that mirror what connect() writes for a first meeting
and for meeting again (the connection, both sides, the night's encounter, the scan that made
it); `check` then compares those rows with the ones connect() wrote tonight, column by
column, and counts what every connection must have. Times are moved back afterwards (the
services stamp "now"): each night's check-ins, meetings and opening and closing times.

Only functions and tables that exist since commit cbae737 are used: the script also seeds
that commit's code (load.py --app-root).
"""
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import case, func, insert, select, update

from kithmeet.api import tokens as api_tokens
from kithmeet.connections import services as connections
from kithmeet.connections.models import Connection, ConnectionSide, Encounter, Scan
from kithmeet.database import transaction, utcnow
from kithmeet.events import services as events
from kithmeet.events.models import CheckIn, Event
from kithmeet.extensions import db
from kithmeet.organizer import services as organizers
from kithmeet.people import services as people
from kithmeet.emails import checked_email
from kithmeet.people.models import ContactField, Person, PromptAnswer
from kithmeet.people.profile import Profile
from kithmeet.tokens import new_code

ORGANIZER_EMAIL, ORGANIZER_PASSWORD = "organizer@example.org", "benchmark password 42"
SERIES = "Thursday Gathering"
PROMPTS = ("Ask me about", "I can help with", "I'm looking for")
FIRST = ("Ada", "Bo", "Chen", "Dara", "Eli", "Farah", "Gus", "Hana", "Ivo", "Jun", "Kemi", "Lars", "Mira",
         "Nico", "Oona", "Pablo", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Vera", "Wen", "Ximena", "Yusuf", "Zoë")
LAST = ("Okafor", "Lindqvist", "García", "Nakamura", "Kowalski", "Haddad", "Müller", "Silva", "Novak", "Rossi",
        "Petrov", "Mensah", "O'Brien", "Fischer", "Costa", "Dubois", "Jansen", "Kaur", "Larsen", "Moreau")
TOPICS = ("Rust", "urban gardening", "climbing", "Postgres", "board games", "accessibility", "grant writing",
          "3D printing", "jazz", "the job market", "typography", "bikes", "home labs", "fermentation")
# Follow-up status of a side, as weights: most people still have to follow up.
STATUSES = (("to_follow_up", 60), ("followed_up", 25), ("snoozed", 5), ("archived", 10))


@dataclass
class Size:
    attendees: int
    connections: int
    nights: int
    hub: int  # the one person who met this many people
    scanners: int  # attendees of tonight signed in over HTTP to scan (and given API tokens)
    tonight_share: float = 0.25  # tonight is under way: this share of a full night's connections so far


FULL = Size(attendees=5000, connections=50000, nights=20, hub=300, scanners=150)
QUICK = Size(attendees=40, connections=120, nights=2, hub=12, scanners=4)


@dataclass
class Site:
    organizer_email: str
    organizer_password: str
    tonight: str  # the open event's public id
    hub: int  # the person with `size.hub` connections
    tonight_ids: list
    scanners: list  # person ids of tonight's attendees who get signed in
    secrets: dict = field(default_factory=dict)  # person id -> a personal sign-in link's secret
    api_secrets: dict = field(default_factory=dict)  # person id -> an API token's secret
    badges: dict = field(default_factory=dict)  # person id -> badge token, everyone
    seconds: dict = field(default_factory=dict)  # what each step took


def profile(rng, i):
    name = f"{FIRST[i % len(FIRST)]} {LAST[(i // len(FIRST)) % len(LAST)]}"
    contacts, shared = {"email": f"person{i}@example.org"}, {"email": rng.random() < 0.8}
    if rng.random() < 0.3:
        contacts["phone"], shared["phone"] = f"+44 20 7946 {i % 10000:04d}", rng.random() < 0.5
    if rng.random() < 0.2:
        contacts["website"], shared["website"] = f"https://example.org/~p{i}", True
    answers = tuple((prompt, rng.choice(TOPICS) if rng.random() < 0.8 else "") for prompt in PROMPTS)
    return Profile(name=name, headline=rng.choice(("", "Developer", "Designer at a small studio", "Student",
                                                   "Community organiser", "Data person")),
                   contacts=contacts, shared=shared, answers=answers, share_on_connect=rng.random() > 0.1)


def _split(total, weights):
    """`total` split in proportion to `weights`, summing exactly to it."""
    parts = [int(total * w / sum(weights)) for w in weights]
    parts[max(range(len(parts)), key=lambda k: weights[k])] += total - sum(parts)
    return parts


def seed(app, size, rng=None):
    """Fill the app's (migrated, empty) database; returns a Site."""
    rng = rng or random.Random(10)
    clock = _Clock()
    with app.app_context():
        organizer = organizers.create_organizer(ORGANIZER_EMAIL, ORGANIZER_PASSWORD)
        now = utcnow().replace(second=0, microsecond=0)
        tonight_start = now - timedelta(hours=1)
        starts = [tonight_start - timedelta(days=7 * (size.nights - 1 - k)) for k in range(size.nights)]
        nights = [events.create_event(organizer, name=f"{SERIES} #{k + 1}", starts_at=start, venue="The Hall",
                                      prompts=PROMPTS, series_name=SERIES) for k, start in enumerate(starts)]
        clock.lap("events")

        # Who comes when: newcomers spread unevenly over the nights, regulars coming back. The
        # past nights' people are written as join_event writes them; tonight's join through it.
        newcomers = _split(size.attendees - 1, [rng.uniform(0.5, 1.5) for _ in range(size.nights)])
        regular = {}  # person id -> how likely they come back (long-tailed)
        attendance = []
        hub = None
        index = 0
        last = size.nights - 1
        for k, event in enumerate(nights):
            events.set_status(organizer, event.public_id, "open")
            if hub is None:
                hub = people.join_event(event, profile(rng, index)).id
                index += 1
            elif k == last:
                _check_in(hub, event)
            pool = [pid for pid in regular if pid != hub]
            back = _weighted_sample(rng, pool, [regular[p] for p in pool],
                                    min(len(pool), int(newcomers[k] * rng.uniform(0.2, 0.6))))
            if k == last:
                for pid in back:
                    _check_in(pid, event)
                new = joined = [people.join_event(event, profile(rng, index + n)).id for n in range(newcomers[k])]
            else:
                new = _join_in_bulk(rng, event, range(index, index + newcomers[k]))
                _insert(CheckIn, [{"event_id": event.id, "person_id": pid, "via": "join", "created_at": utcnow()}
                                  for pid in ([hub] if k else []) + back])
                db.session.commit()
            index += newcomers[k]
            for pid in new:
                regular[pid] = min(rng.paretovariate(1.2), 20)
            attendance.append([hub, *back, *new])
            if k < last:
                events.set_status(organizer, event.public_id, "closed")
        clock.lap("attendees (join_event and check_in tonight, core inserts before)")
        _move_times_back(nights, starts, now, rng)
        clock.lap("times")

        # Who met whom: per night in proportion to its size, tonight only partly so far.
        weights = [len(p) * (size.tonight_share if k == size.nights - 1 else 1) for k, p in enumerate(attendance)]
        per_night = _split(size.connections, weights)
        hub_per_night = _split(size.hub, weights)
        sociable = {pid: min(rng.paretovariate(1.5), 30) for pid in regular}
        met = {}  # (a, b) -> [night indexes]
        for k, present in enumerate(attendance):
            _pairs_of_night(rng, k, present, hub, per_night[k], hub_per_night[k], sociable, met)
        clock.lap("pairs chosen")
        past = {pair: ks for pair, ks in met.items() if ks[0] < size.nights - 1}
        _write_past(rng, nights, past, now)
        clock.lap("past connections (core inserts)")
        tonight = nights[-1]
        for (a, b), ks in met.items():
            if ks[-1] == size.nights - 1:
                scanner, target = (a, b) if rng.random() < 0.5 else (b, a)
                connections.connect(db.session.get(Person, scanner), _badge(target),
                                    talked_about=rng.choice(TOPICS) if rng.random() < 0.3 else "",
                                    private_note="Follow up about the meetup" if rng.random() < 0.1 else "")
        clock.lap("tonight's connections (connect)")

        tonight_ids = list(attendance[-1])
        scanners = [pid for pid in tonight_ids if pid != hub][:size.scanners]
        site = Site(ORGANIZER_EMAIL, ORGANIZER_PASSWORD, tonight.public_id, hub, tonight_ids, scanners)
        for pid in [hub, *scanners]:
            person = db.session.get(Person, pid)
            site.secrets[pid] = people.issue_signin_secret(person)
            if pid != hub:
                site.api_secrets[pid] = api_tokens.create(person, "Benchmark")[1]
        site.badges = dict(db.session.execute(select(Person.id, Person.badge_token)).all())
        clock.lap("sign-in links and API tokens")
        check(size, hub, tonight.id, joined)
        clock.lap("check")
        site.seconds = clock.laps
        db.session.remove()
    return site


class _Clock:
    def __init__(self):
        self.started = time.perf_counter()
        self.laps = {}

    def lap(self, name):
        now = time.perf_counter()
        self.laps[name] = now - self.started
        self.started = now
        print(f"  {name}: {self.laps[name]:.0f} s", flush=True)


def _join_in_bulk(rng, event, indexes):
    """New people checked in at `event`, written as people.services.join_event writes them (a
    profile, its contacts and answers, the e-mail identity, the check-in); their ids."""
    now = utcnow()
    profiles = {new_code(): profile(rng, i).cleaned() for i in indexes}
    _insert(Person, [{"badge_token": token, "name": p.name, "pronouns": p.pronouns, "headline": p.headline,
                      "share_on_connect": p.share_on_connect, "email": checked_email(p.contacts.get("email")),
                      "claimed_at": now, "created_at": now, "updated_at": now}
                     for token, p in profiles.items()])
    ids = dict(db.session.execute(select(Person.badge_token, Person.id)
                                  .where(Person.badge_token.in_(list(profiles)))).all())
    _insert(ContactField, [{"person_id": ids[token], "kind": kind, "value": value, "shared": p.shared.get(kind, False)}
                           for token, p in profiles.items() for kind, value in p.contacts.items() if value])
    _insert(PromptAnswer, [{"person_id": ids[token], "position": position, "prompt": prompt, "answer": text}
                           for token, p in profiles.items() for position, (prompt, text) in enumerate(p.answers)
                           if text])
    _insert(CheckIn, [{"event_id": event.id, "person_id": ids[token], "via": "join", "created_at": now}
                      for token in profiles])
    return [ids[token] for token in profiles]


def _check_in(person_id, event):
    with transaction():
        events.check_in(person_id, event)


def _badge(person_id):
    return db.session.scalar(select(Person.badge_token).where(Person.id == person_id))


def _weighted_sample(rng, items, weights, k):
    """k distinct items, the heavier more likely."""
    chosen = set()
    while items and len(chosen) < k:
        chosen.update(rng.choices(items, weights, k=k - len(chosen)))
    return sorted(chosen)


def _move_times_back(nights, starts, now, rng):
    """Each night opened half an hour before it started and closed three and a half hours after
    (tonight is still open); each check-in some time in its first two hours (tonight's by now);
    a person joined at their first check-in."""
    for k, (event, start) in enumerate(zip(nights, starts)):
        opened = start - timedelta(minutes=30)
        last = k == len(nights) - 1
        closed = None if last else start + timedelta(hours=3, minutes=30)
        db.session.execute(update(Event).where(Event.id == event.id).values(opened_at=opened, closed_at=closed))
        span = int(((now - timedelta(minutes=5)) - opened).total_seconds()) if last else 7200
        ids = db.session.scalars(select(CheckIn.id).where(CheckIn.event_id == event.id)).all()
        db.session.execute(update(CheckIn), [{"id": cid, "created_at": opened + timedelta(seconds=rng.randrange(span))}
                                             for cid in ids])
    first = (select(func.min(CheckIn.created_at)).where(CheckIn.person_id == Person.id).scalar_subquery())
    db.session.execute(update(Person).values(created_at=first, updated_at=first)
                       .execution_options(synchronize_session=False))
    db.session.commit()


def _pairs_of_night(rng, k, present, hub, wanted, hub_wanted, sociable, met):
    """Add night k's meetings to `met`: the hub's new people, then pairs drawn by how sociable
    each is (degrees long-tailed), a few of them pairs meeting again."""
    others = [pid for pid in present if pid != hub]
    fresh = [pid for pid in others if (min(pid, hub), max(pid, hub)) not in met]
    for pid in rng.sample(fresh, min(hub_wanted, len(fresh))):
        met[(min(pid, hub), max(pid, hub))] = [k]
    made = min(hub_wanted, len(fresh))
    weights = [sociable.get(pid, 1) for pid in others]
    seen_tonight = set()
    tries = 0
    again = int(wanted * 0.05)  # encounters of pairs who met before; not counted as connections
    while made < wanted and tries < wanted * 50:
        tries += 1
        a, b = rng.choices(others, weights, k=2)
        pair = (min(a, b), max(a, b))
        if a == b or pair in seen_tonight:
            continue
        if pair in met:
            if again > 0 and met[pair][-1] < k:
                met[pair].append(k)
                seen_tonight.add(pair)
                again -= 1
            continue
        met[pair] = [k]
        seen_tonight.add(pair)
        made += 1


def _write_past(rng, nights, past, now):
    """The past nights' connections as connect() would have written them, night by night."""
    opened = {e.id: e.opened_at for e in nights}
    db.session.expire_all()
    checked = {(e, p): at for e, p, at in db.session.execute(select(CheckIn.event_id, CheckIn.person_id,
                                                                       CheckIn.created_at))}
    shares = dict(db.session.execute(select(Person.id, Person.share_on_connect)).all())
    meetings = {}  # pair -> [(event id, met at)], excluding tonight (connect() writes those)
    last_night = len(nights) - 1
    for pair, ks in past.items():
        for k in ks:
            if k == last_night:
                continue
            event = nights[k]
            earliest = max(checked[(event.id, pair[0])], checked[(event.id, pair[1])], opened[event.id])
            meetings.setdefault(pair, []).append((event.id, earliest + timedelta(seconds=rng.randrange(90 * 60))))
    rows = [{"public_id": new_code(), "person_a_id": a, "person_b_id": b, "first_event_id": ms[0][0],
             "created_at": ms[0][1], "last_met_at": ms[-1][1]} for (a, b), ms in meetings.items()]
    _insert(Connection, rows)
    ids = {(a, b): cid for cid, a, b in db.session.execute(
        select(Connection.id, Connection.person_a_id, Connection.person_b_id))}
    sides, encounters, scans = [], [], []
    today = now.date()
    for pair, ms in meetings.items():
        cid = ids[pair]
        first_met, last_met = ms[0][1], ms[-1][1]
        scanner = rng.choice(pair)
        for pid in pair:
            status = rng.choices([s for s, _ in STATUSES], [w for _, w in STATUSES])[0]
            edited = last_met + timedelta(days=rng.randrange(1, 4)) if status != "to_follow_up" else last_met
            edited = min(edited, now)
            sides.append({"connection_id": cid, "person_id": pid, "status": status,
                          "private_note": f"Ask about {rng.choice(TOPICS)}" if rng.random() < 0.2 else "",
                          "shares_contacts": shares[pid],
                          "acknowledged_at": first_met if pid == scanner else first_met + timedelta(minutes=20),
                          "snoozed_until": today + timedelta(days=rng.randrange(1, 30)) if status == "snoozed"
                          else None,
                          "touched_at": edited, "updated_at": edited,
                          "removed_at": None, "blocked_at": None, "reconnected_at": None, "skipped_on": None})
        for n, (event_id, at) in enumerate(ms):
            encounters.append({"connection_id": cid, "event_id": event_id,
                               "talked_about": rng.choice(TOPICS) if rng.random() < 0.3 else "",
                               "created_at": at, "updated_at": at})
            who = scanner if n == 0 else rng.choice(pair)
            scans.append({"client_id": uuid.uuid4().hex, "scanner_id": who,
                          "scanned_id": pair[1] if who == pair[0] else pair[0], "event_id": event_id,
                          "connection_id": cid, "created_at": at, "scanned_at": at, "made_connection": n == 0,
                          "made_encounter": True, "undone_at": None})
    _insert(ConnectionSide, sides)
    _insert(Encounter, encounters)
    _insert(Scan, scans)
    db.session.commit()


def _insert(model, rows, chunk=5000):
    for start in range(0, len(rows), chunk):
        db.session.execute(insert(model), rows[start:start + chunk])


def check(size, hub, tonight_id, joined):
    """The seeded rows against what the services wrote and what must hold; raises on a mismatch.

    Tonight's newcomers joined through join_event and tonight's connections were made by
    connect(): a column they always fill must be filled in the core-inserted rows too. Every
    connection has two sides, at least one encounter and the scan that made it; the hub lists
    `size.hub` people."""
    tables = ((Person, Person.id.in_(joined)), (ContactField, ContactField.person_id.in_(joined)),
              (PromptAnswer, PromptAnswer.person_id.in_(joined)), (CheckIn, CheckIn.event_id == tonight_id),
              (Connection, Connection.first_event_id == tonight_id),
              (ConnectionSide, ConnectionSide.connection_id.in_(
                  select(Connection.id).where(Connection.first_event_id == tonight_id))),
              (Encounter, Encounter.event_id == tonight_id), (Scan, Scan.event_id == tonight_id))
    problems = []
    for model, by_service in tables:
        table = model.__table__
        for column in table.columns:
            nulls = func.sum(case((column.is_(None), 1), else_=0))
            service, service_nulls = db.session.execute(select(func.count(), nulls).where(by_service)).one()
            bulk_nulls = db.session.scalar(select(nulls).where(~by_service))
            if service and not service_nulls and bulk_nulls:
                problems.append(f"{table.name}.{column.name}: NULL in {bulk_nulls} seeded rows, never by the services")
    count = lambda q: db.session.scalar(q)  # noqa: E731
    connections_made = count(select(func.count(Connection.id)))
    if connections_made != size.connections:
        problems.append(f"{connections_made} connections, not {size.connections}")
    if count(select(func.count(ConnectionSide.id))) != 2 * connections_made:
        problems.append("a connection without its two sides")
    if count(select(func.count(Connection.id)).where(~Connection.id.in_(select(Encounter.connection_id)))):
        problems.append("a connection without an encounter")
    if count(select(func.count(Scan.id)).where(Scan.made_connection)) != connections_made:
        problems.append("a connection without the scan that made it")
    if count(select(func.count(Encounter.id))) != count(select(func.count(Scan.id)).where(Scan.made_encounter)):
        problems.append("an encounter without its scan")
    if count(select(func.count(ConnectionSide.id)).where(ConnectionSide.person_id == hub)) != size.hub:
        problems.append(f"the hub does not have {size.hub} connections")
    if problems:
        raise AssertionError("the seeded site differs from what the services write:\n  " + "\n  ".join(problems))


def met_pairs(person_ids):
    """The unordered pairs among `person_ids` that have a connection."""
    ids = set(person_ids)
    return {(a, b) for a, b in db.session.execute(select(Connection.person_a_id, Connection.person_b_id))
            if a in ids and b in ids}


def counts():
    """Rows that the connect and API runs add to, for before/after."""
    return {"connections": db.session.scalar(select(func.count(Connection.id))),
            "scans": db.session.scalar(select(func.count(Scan.id)))}
