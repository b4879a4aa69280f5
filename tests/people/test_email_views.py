"""Getting back in by e-mail, through the pages: "I've been here before", the mail through a
real SMTP server, the link's Continue page, freeing an address someone else typed, the same
answer for every address, the limits, and joining with an address that already has a profile."""
import re
import time

import pytest
from sqlalchemy import func, select

from kithmeet.connections import services as connections
from kithmeet.events.models import Event
from kithmeet.extensions import db
from kithmeet.mail import worker
from kithmeet.mail.models import OutgoingMail
from kithmeet.people.models import EmailSignin, Person
from kithmeet.security import mask_secrets

from ..mail.conftest import SMTPServer, free_port
from ..pages import error_codes, field_error, join

PATH_IN_MAIL = re.compile(r"http://localhost(/signin/email/[A-Za-z0-9_-]+)")
CSRF_VALUE = re.compile(r'value="[A-Za-z0-9._-]{40,}"')


@pytest.fixture
def app_config():
    return {"EMAIL_SIGNIN_MIN_SECONDS": 0}


@pytest.fixture
def ada(make_event, make_person):
    """Ada, who joined with her address, and met Bo."""
    event = make_event()
    ada = make_person("Ada Okafor", event=event, contacts={"email": "ada@example.org"})
    bo = make_person("Bo Lindqvist", event=event)
    connections.connect(ada, bo.badge_token, talked_about="Repair cafés")
    return ada


def ask(client, address):
    return client.submit("/signin/email", data={"email": address})


def link_path(mail):
    return PATH_IN_MAIL.search(mail.text_body).group(1)


def queued():
    return db.session.scalars(select(OutgoingMail).order_by(OutgoingMail.id)).all()


def sent_page(client, response):
    """The page the request's redirect shows, without the session's own CSRF token."""
    assert response.status_code == 302
    return CSRF_VALUE.sub("", client.get(response.location).get_data(as_text=True))


class TestThroughARealMailServer:
    @pytest.fixture
    def smtp(self):
        server = SMTPServer()
        server.port = free_port()
        server.start()
        yield server
        server.stop()

    @pytest.fixture
    def app_config(self, smtp):
        return {"EMAIL_SIGNIN_MIN_SECONDS": 0, "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port,
                "MAIL_SENDER": "kithmeet <mail@meet.example.org>"}

    def test_the_mail_arrives_and_its_link_signs_in_once(self, app, client, ada, smtp):
        assert ask(client, "Ada@Example.org").status_code == 302
        assert worker.send_due().sent == 1
        [(recipients, message)] = smtp.messages
        assert recipients == ["ada@example.org"] and message["Subject"] == "Your kithmeet sign-in link"
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        path = PATH_IN_MAIL.search(text).group(1)
        assert f'href="http://localhost{path}"' in html and "30 minutes" in text and "didn't ask" in text

        phone = client  # the same browser: it never signed in
        assert 'data-state="switching"' not in phone.get(path).get_data(as_text=True)
        assert phone.get(path).status_code == 200  # opening it (a mail scanner) uses nothing up
        response = phone.submit(path)
        assert response.status_code == 302 and response.location == "/followup"
        assert "Bo Lindqvist" in phone.get("/followup").get_data(as_text=True)
        db.session.expire_all()
        assert db.session.get(Person, ada.id).email_confirmed_at is not None

        again = phone.submit(path, page="/signin/email")
        assert again.status_code == 404 and error_codes(again.get_data(as_text=True)) == ["bad_email_link"]
        assert phone.get(path).status_code == 404


def test_known_and_unknown_addresses_get_the_same_page(app, make_client, ada):
    known, unknown = make_client(), make_client()
    known_answer, unknown_answer = ask(known, "ada@example.org"), ask(unknown, "nobody@example.org")
    assert known_answer.location == unknown_answer.location
    assert known_answer.get_data() == unknown_answer.get_data()
    page = sent_page(known, known_answer)
    assert page == sent_page(unknown, unknown_answer)
    assert 'data-state="sent"' in page and "ada@example.org" not in page
    assert len(queued()) == 1 and queued()[0].to_address == "ada@example.org"


@pytest.mark.parametrize("address, code", [("", "required"), ("not an address", "bad_email"),
                                           ("ada\u202e@example.org", "control_characters")])
def test_a_malformed_address_is_shown_beside_the_field(app, client, ada, address, code):
    response = ask(client, address)
    assert response.status_code == 200
    assert field_error(response.get_data(as_text=True), "email") == code
    assert queued() == []


def test_a_link_opened_while_signed_in_as_someone_else_says_who_is_who(app, make_client, signed_in, make_person,
                                                                       ada):
    ask(make_client(), "ada@example.org")
    path = link_path(queued()[-1])
    cy = signed_in(make_person("Cy Aalto"))
    page = cy.get(path).get_data(as_text=True)
    assert 'data-state="switching"' in page and "Cy Aalto" in page and "Ada Okafor" in page
    assert "ada@example.org" not in page  # the page names, never the address
    assert cy.submit(path).status_code == 302
    assert "Bo Lindqvist" in cy.get("/followup").get_data(as_text=True)  # Cy's device is Ada's now

    ask(make_client(), "ada@example.org")
    same = cy.get(link_path(queued()[-1])).get_data(as_text=True)
    assert 'data-state="same-person"' in same and 'data-state="switching"' not in same


def test_an_expired_link_is_bad_email_link(app, client, ada):
    ask(client, "ada@example.org")
    path = link_path(queued()[-1])
    db.session.execute(EmailSignin.__table__.update().values(
        expires_at=EmailSignin.created_at))  # half an hour passed
    db.session.commit()
    for response in (client.get(path), client.submit(path, page="/signin/email")):
        assert response.status_code == 404 and error_codes(response.get_data(as_text=True)) == ["bad_email_link"]


def test_the_link_is_masked_in_logs():
    line = mask_secrets("GET /signin/email/Zq3-secret_XYZ HTTP/1.1")
    assert "Zq3-secret_XYZ" not in line and "/signin/email/[hidden]" in line


def test_the_signed_out_home_and_every_join_page_offer_it(app, client, make_event):
    event = make_event()
    for path in ("/", f"/J/{event.join_code}"):
        assert 'href="/signin/email"' in client.get(path).get_data(as_text=True), path


# ---------------------------------------------------------------- the answer takes the same time

class TestResponseTime:
    @pytest.fixture
    def app_config(self):
        return {"EMAIL_SIGNIN_MIN_SECONDS": 0.3}

    def test_known_and_unknown_addresses_both_answer_after_the_floor(self, app, make_client, ada):
        for address in ("ada@example.org", "nobody@example.org"):
            client = make_client()
            token = client.csrf_token("/signin/email")
            started = time.monotonic()
            client.post("/signin/email", data={"csrf_token": token, "email": address})
            assert time.monotonic() - started >= 0.3, address


# ---------------------------------------------------------------- an address someone else typed

def signed_in_here(client):
    return client.get("/badge").status_code == 200


@pytest.fixture
def squatted(make_event, make_person, signed_in):
    """Sam joined first with Ada's address and is signed in on his phone; Ada has no profile."""
    sam = make_person("Sam Squat", event=make_event(), contacts={"email": "ada@example.org"})
    return sam, signed_in(sam)


def test_the_owner_frees_a_typed_address_and_no_one_is_signed_in(app, make_client, squatted):
    sam, sams_phone = squatted
    adas_phone = make_client()
    ask(adas_phone, "ada@example.org")
    path = link_path(queued()[-1])
    page = adas_phone.get(path).get_data(as_text=True)
    assert 'data-state="release-offer"' in page and 'data-state="signs-out-others"' in page
    assert 'name="action" value="release"' in page and "ada@example.org" not in page

    response = adas_phone.submit(path, data={"action": "release"})
    assert response.status_code == 302 and response.location == "/signin/email?released=1"
    answer = adas_phone.get(response.location).get_data(as_text=True)
    assert 'data-state="released"' in answer and 'href="/"' in answer
    db.session.expire_all()
    assert db.session.get(Person, sam.id).email is None
    assert not signed_in_here(adas_phone) and signed_in_here(sams_phone)  # nobody switched
    assert adas_phone.get(path).status_code == 404  # the link is used up


def test_continuing_confirms_and_signs_the_typist_out(app, make_client, squatted):
    sam, sams_phone = squatted
    adas_phone = make_client()
    ask(adas_phone, "ada@example.org")
    response = adas_phone.submit(link_path(queued()[-1]))
    assert response.status_code == 302 and response.location == "/followup"
    assert signed_in_here(adas_phone)  # signed in with the generation the confirmation moved to
    assert not signed_in_here(sams_phone)
    db.session.expire_all()
    assert db.session.get(Person, sam.id).email_confirmed_at is not None


def test_a_confirmed_address_is_not_offered_and_a_forged_release_is_refused(app, make_client, ada):
    ask(make_client(), "ada@example.org")
    make_client().submit(link_path(queued()[-1]))  # confirmed
    visitor = make_client()
    ask(visitor, "ada@example.org")
    path = link_path(queued()[-1])
    page = visitor.get(path).get_data(as_text=True)
    assert 'data-state="release-offer"' not in page and 'data-state="signs-out-others"' not in page
    refused = visitor.submit(path, data={"action": "release"})
    assert refused.status_code == 409 and error_codes(refused.get_data(as_text=True)) == ["email_confirmed"]
    db.session.expire_all()
    assert db.session.get(Person, ada.id).email == "ada@example.org"
    assert visitor.submit(path).status_code == 302  # the link still signs in


def test_the_person_signed_in_here_is_not_offered_to_free_their_own_address(app, signed_in, ada):
    adas_phone = signed_in(ada)
    ask(adas_phone, "ada@example.org")  # "confirm it", from the e-mail switches
    page = adas_phone.get(link_path(queued()[-1])).get_data(as_text=True)
    assert 'data-state="same-person"' in page
    assert 'data-state="release-offer"' not in page and 'data-state="signs-out-others"' not in page
    assert adas_phone.submit(link_path(queued()[-1])).status_code == 302
    assert signed_in_here(adas_phone)


def test_a_link_to_an_address_no_longer_the_identity_is_bad_email_link(app, client, ada):
    from kithmeet.people import identity

    ask(client, "ada@example.org")
    path = link_path(queued()[-1])
    identity.set_email(ada, "ada@home.example.org")
    for response in (client.get(path), client.submit(path, page="/signin/email"),
                     client.submit(path, data={"action": "release"}, page="/signin/email")):
        assert response.status_code == 404 and error_codes(response.get_data(as_text=True)) == ["bad_email_link"]


# ---------------------------------------------------------------- the limits

class TestLimits:
    @pytest.fixture
    def app_config(self):
        return {"EMAIL_SIGNIN_MIN_SECONDS": 0, "RATELIMIT_ENABLED": True, "RATELIMIT_EMAIL_SIGNIN": "4 per hour",
                "RATELIMIT_EMAIL_SIGNIN_ADDRESS": "2 per hour", "RATELIMIT_EMAIL_SIGNIN_ADDRESS_TOTAL": "3 per hour"}

    def test_one_address_past_its_limit_looks_exactly_like_success(self, app, make_client, ada):
        answers = [ask(make_client(), "ada@example.org") for _ in range(3)]
        pages = [sent_page(make_client(), answer) for answer in answers]
        assert len(queued()) == 2  # the third request sent nothing...
        assert [answer.status_code for answer in answers] == [302] * 3  # ...and said so to no one
        assert answers[2].get_data() == answers[0].get_data() and pages[2] == pages[0]

    def test_the_per_address_limit_counts_each_requester_apart(self, app, make_client, ada):
        for _ in range(4):
            ask(make_client(), "ada@example.org")  # someone flooding Ada's inbox from one place
        at_home = make_client()
        at_home.environ_base["REMOTE_ADDR"] = "198.51.100.7"
        assert ask(at_home, "ada@example.org").status_code == 302
        assert len(queued()) == 3 and queued()[-1].to_address == "ada@example.org"  # Ada still gets hers

    def test_one_client_past_its_limit_is_told_to_wait(self, app, client, ada):
        codes = [ask(client, f"person{i}@example.org").status_code for i in range(5)]
        assert codes == [302] * 4 + [429]
        assert error_codes(client.post("/signin/email", data={}).get_data(as_text=True)) == ["429"]


def test_the_default_limits_leave_room_for_a_venue_and_for_the_owner(app):
    # A venue's attendees share one address; one requester cannot use up an address's mails.
    assert app.config["RATELIMIT_EMAIL_SIGNIN"] == "60 per hour"
    assert app.config["RATELIMIT_EMAIL_SIGNIN_ADDRESS"] == "3 per hour"
    assert app.config["RATELIMIT_EMAIL_SIGNIN_ADDRESS_TOTAL"] == "20 per hour"


# ---------------------------------------------------------------- joining with a known address

def test_joining_with_a_known_address_makes_no_second_person_and_offers_the_link(app, make_client, ada):
    visitor = make_client()
    event = db.session.scalar(select(Event))  # the one Ada joined
    response = join(visitor, event, name="Ada on a new phone", email="ADA@example.org", share_email="y")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and field_error(html, "email") == "email_known"
    assert db.session.scalar(select(func.count(Person.id))) == 2  # Ada and Bo
    offer = re.search(r'<form id="email-known-offer" method="post" action="/signin/email">(.*?)</form>', html,
                      re.DOTALL)
    assert offer and 'form="email-known-offer"' in html
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', offer.group(1)))
    assert fields["email"] == "ADA@example.org"
    answer = visitor.post("/signin/email", data=fields)  # the offer's button, as the browser sends it
    assert answer.status_code == 302 and 'data-state="sent"' in visitor.get(answer.location).get_data(as_text=True)
    [mail] = queued()
    assert mail.to_address == "ada@example.org"
