"""The weekly nudge: opt-in on the follow-up page (a confirmed address only), queued at most
once a week with today's reconnect picks, never with a contact or a private note."""
import json
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from kithmeet.connections import services as connections
from kithmeet.database import utcnow
from kithmeet.extensions import db
from kithmeet.followup import nudges
from kithmeet.mail import worker
from kithmeet.mail.models import OutgoingMail
from kithmeet.people.models import Person

from .smtp import app_config, smtp, smtp_port  # noqa: F401 - fixtures: a real SMTP server on loopback
from ..pages import error_codes

NOW = datetime(2026, 12, 3, 9, 0)


@pytest.fixture
def ada(make_event, make_person):
    """Ada, opted in with a confirmed address, who met Bo (sharing his e-mail) and Cy."""
    event = make_event()
    ada = make_person("Ada", event=event)
    bo = make_person("Bo", event=event, contacts={"email": "bo-contact@example.org"})
    cy = make_person("Cy", event=event, contacts={"phone": "+44 20 7946 0958"}, shared={"phone": False})
    connections.connect(ada, bo.badge_token, talked_about="Fixing spokes", private_note="PRIVATE-NOTE")
    connections.connect(ada, cy.badge_token, talked_about="Sourdough")
    ada.email, ada.email_confirmed_at, ada.nudge_mail = "ada@example.org", utcnow(), True
    db.session.commit()
    return ada


def mails():
    db.session.expire_all()
    return db.session.scalars(select(OutgoingMail).order_by(OutgoingMail.id)).all()


def test_an_opted_in_person_gets_their_picks_with_draft_links_and_unsubscribe(ada, smtp):
    assert nudges.queue_due(NOW) == 1
    assert worker.send_due().sent == 1
    [(rcpt, message)] = smtp.messages
    assert rcpt == ["ada@example.org"]
    assert message["Subject"] == "Two people to reconnect with this week"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for name, line in (("Bo", "Fixing spokes"), ("Cy", "Sourdough")):
        assert name in text and line in text and name in html
    assert len(re.findall(r"http://127\.0\.0\.1:5000/followup/reconnect/[A-Z0-9]+/draft", text)) == 2
    assert "http://127.0.0.1:5000/followup/reconnect\r\n" in text
    db.session.expire_all()
    token = db.session.get(Person, ada.id).mail_token
    assert message["List-Unsubscribe"] == f"<http://127.0.0.1:5000/unsubscribe/{token}?list=nudge>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    for secret in ("PRIVATE-NOTE", "bo-contact", "mailto:", "sms:", "7946"):
        assert secret not in message.as_string()
    assert db.session.get(Person, ada.id).nudge_sent_at == NOW


def test_at_most_once_a_week(ada):
    assert nudges.queue_due(NOW) == 1
    assert nudges.queue_due(NOW + timedelta(days=6, hours=23)) == 0
    assert nudges.queue_due(NOW + timedelta(days=7, seconds=1)) == 1
    assert len(mails()) == 2


def test_nobody_without_opt_in_a_confirmed_address_or_picks(ada, make_person):
    loner = make_person("Loner")
    loner.email, loner.email_confirmed_at, loner.nudge_mail = "loner@example.org", utcnow(), True
    db.session.commit()
    ada.email_confirmed_at = None
    db.session.commit()
    assert nudges.queue_due(NOW) == 0  # Ada unconfirmed; the loner has no picks
    ada.email_confirmed_at, ada.nudge_mail = utcnow(), False
    db.session.commit()
    assert nudges.queue_due(NOW) == 0
    assert mails() == []
    assert db.session.get(Person, loner.id).nudge_sent_at is None  # looked at again next time


def test_cli_queues_the_nudges(ada, runner):
    result = runner.invoke(args=["send-nudges"])
    assert result.exit_code == 0 and "Queued 1 " in result.output
    assert json.loads(mails()[0].headers)["List-Unsubscribe"].endswith("?list=nudge>")


def test_the_worker_loop_looks_at_most_once_an_hour(monkeypatch):
    calls, clock = [], [0.0]
    monkeypatch.setattr(nudges, "queue_due", lambda: calls.append(clock[0]))
    run = nudges.hourly(clock=lambda: clock[0])
    for clock[0] in (0, 5, 3599, 3600, 3700, 7200):
        run()
    assert calls == [0, 3600, 7200]


def test_opting_in_from_the_follow_up_page(ada, signed_in):
    client = signed_in(ada)
    page = client.get("/followup").get_data(as_text=True)
    assert 'id="mail-choices"' in page and 'value="nudge"' in page
    ada.nudge_mail = False
    db.session.commit()
    response = client.submit("/followup/emails", data={"mail": "nudge", "choice": "on"}, page="/followup")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Person, ada.id).nudge_mail is True
    assert client.submit("/followup/emails", data={"mail": "digest", "choice": "off"},
                         page="/followup").status_code == 302
    db.session.expire_all()
    assert db.session.get(Person, ada.id).digest_mail is False


def test_an_unconfirmed_address_cannot_opt_in_and_is_told_how_to_confirm(ada, signed_in):
    ada.email_confirmed_at, ada.nudge_mail = None, False
    db.session.commit()
    client = signed_in(ada)
    page = client.get("/followup").get_data(as_text=True)
    assert 'data-state="unconfirmed"' in page
    response = client.submit("/followup/emails", data={"mail": "nudge", "choice": "on"}, page="/followup")
    assert response.status_code == 400
    assert "unconfirmed_email" in error_codes(response.get_data(as_text=True))
    db.session.expire_all()
    assert db.session.get(Person, ada.id).nudge_mail is False


def test_a_bad_choice_is_refused_beside_the_switches(ada, signed_in):
    client = signed_in(ada)
    response = client.submit("/followup/emails", data={"mail": "nudge", "choice": "maybe"}, page="/followup")
    assert response.status_code == 400 and "bad_choice" in error_codes(response.get_data(as_text=True))


@pytest.mark.parametrize("back,path", [("list", "/followup"), ("emails", "/followup/emails"),
                                       ("https://evil.example/", "/followup"), (None, "/followup")])
def test_a_switch_comes_back_to_its_page_with_the_confirmation_in_the_box(ada, signed_in, back, path):
    client = signed_in(ada)
    data = {"mail": "nudge", "choice": "off", **({"back": back} if back else {})}
    response = client.submit("/followup/emails", data=data, page=path)
    assert response.status_code == 302 and response.location == path + "#mail-choices"
    html = client.get(path).get_data(as_text=True)
    box = re.search(r'<section class="card mail-choices".*?</section>', html, re.DOTALL).group(0)
    assert 'role="status" data-state="mail-saved"' in box
    assert 'data-state="mail-saved"' not in client.get(path).get_data(as_text=True)  # shown once
    # Each page's buttons name that page.
    assert f'name="back" value="{"emails" if path.endswith("emails") else "list"}"' in html
