"""A demo series with an open event and a handful of attendees, for trying kithmeet out.

Demo people are marked (`Person.is_demo`) and never added to a site that has a real organizer
(anyone but DEMO_EMAIL) unless asked (`--force`); `remove()` takes them out again, with the
demo series, its events and the demo organizer."""
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from .connections import services as connections
from .database import transaction
from .errors import DomainError
from .events import services as events
from .events.models import DEFAULT_PROMPTS, Event, Series, SeriesMember
from .extensions import db
from .organizer import services as organizers
from .organizer.models import Organizer
from .people import services as people
from .people.models import Person
from .people.profile import Profile

SERIES = "Thursday Gathering (demo)"
ATTENDEES = [
    ("Ada Okafor", "she/her", "Backend developer, Python and Postgres",
     ("Scaling Flask apps", "Code review, SQL tuning", "A Rust study buddy"), "ada@example.org"),
    ("Björn Løvås", "he/him", "Hardware tinkerer and maker-space regular",
     ("3D-printing disasters", "Soldering, Raspberry Pi", "People to run a repair café"), "bjorn@example.org"),
    ("Chen Wei", "", "Product designer moving into research",
     ("Usability testing on a budget", "Figma, portfolio reviews", "A UX research mentor"), "wei@example.org"),
    ("Dana Cohen", "they/them", "Bootcamp graduate, first dev job hunt",
     ("Switching careers at 35", "Teaching, public speaking", "Junior developer roles"), "dana@example.org"),
    ("أمينة الحسن", "", "مهندسة بيانات — data engineer",
     ("Arabic NLP", "Data pipelines", "Open-source projects to join"), "amina@example.org"),
    ("Eve Martins 🌱", "she/her", "Runs the local climate-tech meetup",
     ("Carbon accounting", "Finding venues and sponsors", "Speakers for next month"), "eve@example.org"),
]


DEMO_EMAIL = "demo@example.org"


def _real_organizer():
    """The first organizer `make demo` did not make, or None."""
    return db.session.scalar(select(Organizer).where(Organizer.email != DEMO_EMAIL).order_by(Organizer.id).limit(1))


def _organizer(force):
    """The demo organizer (made if missing), or with `force` the site's first real one: returns
    (organizer, password if just made). Raises DomainError real_organizer on a real site unasked."""
    real = _real_organizer()
    if real is not None:
        if not force:
            raise DomainError("This site has a real organizer: demo people would mix with real ones. "
                              "Run `flask --app app demo --force` (make demo DEMO_FORCE=1) if you mean it; "
                              "`flask --app app demo --remove` takes the demo out again.", "real_organizer")
        return real, None
    organizer = db.session.scalar(select(Organizer).where(Organizer.email == DEMO_EMAIL))
    if organizer is not None:
        return organizer, None
    password = secrets.token_urlsafe(12)
    return organizers.create_organizer(DEMO_EMAIL, password), password


def _open_event(organizer):
    event = db.session.scalar(
        select(Event).join(Series).where(Series.name == SERIES, Series.organizer_id == organizer.id,
                                         Event.status == "open").order_by(Event.id.desc()).limit(1))
    if event is None:
        event = events.create_event(
            organizer, name="Demo night",
            starts_at=datetime.now().replace(second=0, microsecond=0) + timedelta(hours=1),  # local, as typed
            venue="The Corner Café, upstairs", description="A demo event made by `flask --app app demo`.",
            prompts=DEFAULT_PROMPTS, series_name=SERIES)
        event = events.set_status(organizer, event.public_id, "open")
    return event


def seed(force=False):
    """Seed (or reuse) the demo and return (event, organizer, password, [(person, sign-in secret)]).
    Raises DomainError real_organizer when a real organizer exists and `force` is not given."""
    organizer, password = _organizer(force)
    event = _open_event(organizer)
    attendees = []
    for i, (name, pronouns, headline, answers, email) in enumerate(ATTENDEES):
        profile = Profile(name=name, pronouns=pronouns, headline=headline, contacts={"email": email},
                          shared={"email": True}, answers=tuple(zip(DEFAULT_PROMPTS, answers)))
        # The nonce marks the demo's people, so a second run finds them again (however much
        # later: a join form's nonce only works for minutes, so it is looked up here).
        nonce = f"demo-attendee-{i}"
        earlier = db.session.scalar(select(Person).where(Person.join_nonce == nonce))
        person = people.join_event(event, profile, person=earlier, nonce=nonce, issued_nonce=nonce)
        attendees.append(person)
    with transaction():  # marked, so `remove` finds them and nothing else
        db.session.execute(update(Person).where(Person.id.in_([person.id for person in attendees]))
                           .values(is_demo=True).execution_options(synchronize_session=False))
    # A few connections already made, so the follow-up list has something to show.
    for a, b, topic in ((0, 2, "Testing Flask apps with a real browser"), (5, 0, "Venues for a Rust night")):
        connections.connect(attendees[a], attendees[b].badge_token, talked_about=topic,
                            client_id=f"demo-scan-{event.public_id}-{a}-{b}")
    return event, organizer, password, [(person, people.issue_signin_secret(person)) for person in attendees]


def remove():
    """Delete the demo people (and all they made, as an account deletion does), the demo series
    with its events, and the demo organizer when the demo is all it runs. Anyone real who joined
    the demo event keeps their account; their check-ins and encounters there go with the event.
    Returns (people, series) counts."""
    from .people import erasure  # the end of an account's life sits at the top (docs/architecture.md)

    person_ids = db.session.scalars(select(Person.id).where(Person.is_demo.is_(True))).all()
    series_ids = db.session.scalars(select(Series.id).where(Series.name == SERIES)).all()
    demo_organizer = db.session.scalar(select(Organizer).where(Organizer.email == DEMO_EMAIL))
    with transaction():
        erasure.erase(person_ids, actor="cli")
        db.session.execute(delete(Series).where(Series.id.in_(series_ids)).execution_options(synchronize_session=False))
        if demo_organizer is not None and db.session.scalar(select(SeriesMember.id).where(
                SeriesMember.organizer_id == demo_organizer.id, SeriesMember.series_id.notin_(series_ids))) is None:
            db.session.execute(delete(Organizer).where(Organizer.id == demo_organizer.id)
                               .execution_options(synchronize_session=False))
    db.session.expire_all()
    return len(person_ids), len(series_ids)
