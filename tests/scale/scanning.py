"""Attendees scanning each other against served apps, for the load and fault tests: people made
through the services before the server starts, each signed in over HTTP with a personal sign-in
link, scanning through POST /api/v1/scans as the in-page scanner's queue does; and the rules
the rows must keep, whatever happened to the requests, checked in SQL."""
import http.client
import json
import time
import urllib.error
import urllib.request
from datetime import datetime

from sqlalchemy import text

from kithmeet.events import services as events
from kithmeet.events.models import DEFAULT_PROMPTS
from kithmeet.organizer import services as organizers
from kithmeet.people import services as people
from kithmeet.people.profile import Profile

from .browsing import Browser

# Raised far above what the tests send, but on: the limiter's own writes are part of the load.
GENEROUS_LIMITS = {key: "100000 per minute" for key in (
    "RATELIMIT_SCAN", "RATELIMIT_LOOKUP", "RATELIMIT_JOIN", "RATELIMIT_SIGNIN")}


def seed(count, organizer_email="organizer@example.org"):
    """An open event and `count` people checked in there, each with a personal sign-in link:
    [(person id, badge token, sign-in secret)], made in the current app context."""
    organizer = organizers.create_organizer(organizer_email, "a long enough password")
    event = events.create_event(organizer, name="Thursday Gathering", starts_at=datetime(2026, 11, 26, 19, 0),
                                venue="The Corner Café", prompts=DEFAULT_PROMPTS, series_name="Thursday Gathering")
    event = events.set_status(organizer, event.public_id, "open")
    seeded = []
    for n in range(count):
        person = people.join_event(event, Profile(name=f"Person {n}", headline="", contacts={}, shared={},
                                                  answers=((event.prompt_labels[0], "Flask"),)))
        seeded.append((person.id, person.badge_token, people.issue_signin_secret(person)))
    return seeded


TIMEOUT = 60  # seconds a scan may take: a busy shared machine is slow, a hang is not


class Attendee:
    """One phone: its own cookies, signed in through its sign-in link, then scanning."""

    def __init__(self, base, person_id, badge, secret):
        self.base, self.id, self.badge, self.secret = base, person_id, badge, secret
        self.browser = Browser()
        self.api_token = None

    def sign_in(self):
        answer = self.browser.submit(f"{self.base}/signin/{self.secret}")
        assert answer.status == 302, (answer.status, answer.text[:300])
        session = self.browser.get(f"{self.base}/api/v1/session")
        assert session.status == 200, session.status
        self.api_token = json.loads(session.text)["csrf_token"]
        return self

    def scan(self, badge, client_id):
        """(status, error code or None, seconds taken). A connection that breaks or times out
        (a killed worker, a database that stopped answering) raises OSError, as does an answer
        cut off part way (a worker killed while writing it: http.client's own errors)."""
        request = urllib.request.Request(
            f"{self.base}/api/v1/scans", json.dumps({"client_id": client_id, "badge": badge}).encode(),
            headers={"Content-Type": "application/json", "X-CSRFToken": self.api_token}, method="POST")
        started = time.monotonic()
        try:
            try:
                with self.browser.opener.open(request, timeout=TIMEOUT) as response:
                    status, body = response.status, response.read()
            except urllib.error.HTTPError as error:
                status, body = error.code, error.read()
        except http.client.HTTPException as error:  # IncompleteRead, BadStatusLine: no whole answer
            raise ConnectionError(f"answer cut off: {error!r}") from error
        code = None
        if status >= 300:
            try:
                code = json.loads(body)["error"]["code"]
            except (ValueError, KeyError, TypeError):
                code = f"not json: {body[:80]!r}"
        return status, code, time.monotonic() - started


# Each a query for rows that break a rule; every one must come back empty.
BROKEN = {
    "connection without exactly its two people's sides": """
        SELECT c.id FROM connection c
        WHERE (SELECT count(*) FROM connection_side s WHERE s.connection_id = c.id) != 2
           OR NOT EXISTS (SELECT 1 FROM connection_side s WHERE s.connection_id = c.id AND s.person_id = c.person_a_id)
           OR NOT EXISTS (SELECT 1 FROM connection_side s WHERE s.connection_id = c.id AND s.person_id = c.person_b_id)
           OR c.person_a_id >= c.person_b_id""",
    "scan without its pair's connection": """
        SELECT s.id FROM scan s LEFT JOIN connection c ON c.id = s.connection_id
        WHERE s.undone_at IS NULL AND (c.id IS NULL
           OR NOT ((c.person_a_id = s.scanner_id AND c.person_b_id = s.scanned_id)
                OR (c.person_b_id = s.scanner_id AND c.person_a_id = s.scanned_id)))""",
    "scan without its encounter": """
        SELECT s.id FROM scan s WHERE s.undone_at IS NULL AND NOT EXISTS (
            SELECT 1 FROM encounter e WHERE e.connection_id = s.connection_id AND e.event_id = s.event_id)""",
    "encounter no scan made": """
        SELECT e.id FROM encounter e WHERE (SELECT count(*) FROM scan s WHERE s.connection_id = e.connection_id
            AND s.event_id = e.event_id AND s.made_encounter) != 1""",
    "connection no scan made, or two": """
        SELECT c.id FROM connection c
        WHERE (SELECT count(*) FROM scan s WHERE s.connection_id = c.id AND s.made_connection) != 1""",
    "pair with two connections": """
        SELECT person_a_id, person_b_id FROM connection GROUP BY person_a_id, person_b_id HAVING count(*) > 1""",
    "two encounters of a pair at one event": """
        SELECT connection_id, event_id FROM encounter GROUP BY connection_id, event_id HAVING count(*) > 1""",
}


def broken_rows(connection):
    """{rule: offending rows} for every rule some row breaks; {} when the data is whole."""
    found = {rule: connection.execute(text(query)).all() for rule, query in BROKEN.items()}
    return {rule: rows for rule, rows in found.items() if rows}


def stored_scans(connection):
    """{client id: (scanner id, scanned id)} of every scan recorded."""
    return {row.client_id: (row.scanner_id, row.scanned_id)
            for row in connection.execute(text("SELECT client_id, scanner_id, scanned_id FROM scan"))}


def counts(connection):
    return {table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("connection", "connection_side", "encounter", "scan")}
