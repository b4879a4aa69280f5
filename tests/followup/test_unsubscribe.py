"""One-click unsubscribe: a GET only asks, a POST without cookies or a CSRF token turns the
list off, again and again harmlessly, and an unknown key gets the same page."""
import re

import pytest

from kithmeet.database import utcnow
from kithmeet.extensions import db
from kithmeet.people import mail_choices
from kithmeet.people.models import Person

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@pytest.fixture
def ada(make_person):
    person = make_person("Ada")
    person.email, person.email_confirmed_at, person.nudge_mail = "ada@example.org", utcnow(), True
    db.session.commit()
    mail_choices.tokens_for([person])
    db.session.commit()
    return person


def choices(person_id):
    db.session.remove()
    person = db.session.get(Person, person_id)
    return person.digest_mail, person.nudge_mail


def state(html):
    return re.search(r'data-state="([a-z]+)"', html).group(1)


def test_get_only_asks_and_changes_nothing(ada, app):
    client = app.test_client()
    response = client.get(f"/unsubscribe/{ada.mail_token}?list=digest")
    assert response.status_code == 200 and state(response.get_data(as_text=True)) == "asking"
    assert 'method="post"' in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    assert choices(ada.id) == (True, True)


@pytest.mark.parametrize("list_name, expected", [("digest", (False, True)), ("nudge", (True, False)),
                                                 ("", (False, False))])
def test_one_click_post_without_cookies_or_token_turns_that_list_off(ada, app, list_name, expected):
    client = app.test_client(use_cookies=False)  # a mail client: no session, no CSRF token
    url = f"/unsubscribe/{ada.mail_token}" + (f"?list={list_name}" if list_name else "")
    response = client.post(url, data=ONE_CLICK)
    assert response.status_code == 200 and state(response.get_data(as_text=True)) == "unsubscribed"
    assert choices(ada.id) == expected
    assert client.post(url, data=ONE_CLICK).status_code == 200  # again: harmless
    assert choices(ada.id) == expected


def test_an_unknown_key_gets_the_same_page_and_changes_nothing(ada, app):
    client = app.test_client(use_cookies=False)
    known = client.post(f"/unsubscribe/{ada.mail_token}?list=digest", data=ONE_CLICK).get_data(as_text=True)
    unknown = client.post("/unsubscribe/NOT-A-REAL-KEY-AT-ALL-0000000000?list=digest",
                          data=ONE_CLICK).get_data(as_text=True)
    assert known.replace(ada.mail_token, "KEY") == unknown.replace("NOT-A-REAL-KEY-AT-ALL-0000000000", "KEY")
    assert client.post("/unsubscribe/" + "x" * 500, data=ONE_CLICK).status_code == 200


def test_mail_tokens_are_made_once_and_unique(make_person):
    people = [make_person(f"P{n}") for n in range(3)]
    first = mail_choices.tokens_for(people)
    db.session.commit()
    assert len(set(first.values())) == 3 and all(len(token) == 32 for token in first.values())
    assert mail_choices.tokens_for(people) == first  # kept, not replaced


def test_the_answer_links_to_the_switches(ada, app):
    html = app.test_client(use_cookies=False).post(f"/unsubscribe/{ada.mail_token}?list=digest",
                                                   data=ONE_CLICK).get_data(as_text=True)
    assert 'href="/followup/emails"' in html
