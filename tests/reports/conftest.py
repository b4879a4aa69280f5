"""A series with an open event where Ada and Bo met, and a way to sign its organizer in."""
import pytest

from kithmeet.connections import services as connections

PASSWORD = "a long enough password"


@pytest.fixture
def meetup(make_organizer, make_event, make_person):
    """(organizer, event, ada, bo, their connection): Ada scanned Bo at the organizer's open event."""
    organizer = make_organizer("org@example.org", PASSWORD)
    event = make_event(organizer)
    ada, bo = make_person("Ada", event=event), make_person("Bo", event=event)
    connection, _ = connections.connect(ada, bo.badge_token, talked_about="Rust")
    return organizer, event, ada, bo, connection


@pytest.fixture
def organizer_signed_in(app):
    def sign_in(organizer):
        client = app.test_client()
        response = client.submit("/organizer/login", data={"email": organizer.email, "password": PASSWORD})
        assert response.status_code == 302
        return client
    return sign_in
