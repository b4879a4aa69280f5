"""A demo series with an open event and a handful of attendees, for trying kithmeet out."""
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select

from .connections import services as connections
from .events import services as events
from .events.models import DEFAULT_PROMPTS, Event, Series
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


def _organizer():
    """The first organizer, or a demo one: returns (organizer, password if just made)."""
    organizer = db.session.scalar(select(Organizer).order_by(Organizer.id).limit(1))
    if organizer is not None:
        return organizer, None
    password = secrets.token_urlsafe(12)
    return organizers.create_organizer("demo@example.org", password), password


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


def seed():
    """Seed (or reuse) the demo and return (event, organizer, password, [(person, sign-in secret)])."""
    organizer, password = _organizer()
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
    # A few connections already made, so the follow-up list has something to show.
    for a, b, topic in ((0, 2, "Testing Flask apps with a real browser"), (5, 0, "Venues for a Rust night")):
        connections.connect(attendees[a], attendees[b].badge_token, talked_about=topic,
                            client_id=f"demo-scan-{event.public_id}-{a}-{b}")
    return event, organizer, password, [(person, people.issue_signin_secret(person)) for person in attendees]
