""""Is this you?" sends no more mail than "I've been here before" would: the same limits."""
import pytest
from sqlalchemy import func, select

from kithmeet.extensions import db
from kithmeet.guests import services as guests
from kithmeet.mail.models import OutgoingMail
from kithmeet.people.models import Person


@pytest.fixture
def app_config():
    return {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://",
            "RATELIMIT_EMAIL_SIGNIN_ADDRESS": "2 per hour", "RATELIMIT_EMAIL_SIGNIN": "5 per hour"}


def test_claim_links_are_limited_per_address_and_per_client(app, make_organizer, make_event, client):
    organizer = make_organizer()
    event = make_event(organizer)
    pending = guests.upload(organizer, event.series.public_id, "l.csv", b"Name,Email\nAda,ada@example.org\n")
    guests.run_import(organizer, pending.public_id, {"name": 0, "email": 1})
    token = db.session.scalar(select(Person.badge_token).where(Person.email == "ada@example.org"))
    answers = [client.submit(f"/B/{token}/claim", page=f"/B/{token}").status_code for _ in range(7)]
    # Two mails for the address; then silence (the same answer); past the client's budget, 429.
    assert db.session.scalar(select(func.count()).select_from(OutgoingMail)) == 2
    assert answers[:5] == [302] * 5 and answers[5:] == [429, 429]
