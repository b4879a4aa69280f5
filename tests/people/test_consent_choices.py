"""What the join form lets a person choose about consent: whether contacts show at once on
connecting or only once they confirm; and the series' code of conduct beside the button."""
import re

import pytest
from sqlalchemy import select

from kithmeet.connections import contacts
from kithmeet.connections import services as connections
from kithmeet.events.models import Series
from kithmeet.extensions import db
from kithmeet.people import services as people
from kithmeet.people.models import Person
from kithmeet.people.profile import Profile

from ..pages import join


def person_named(name):
    db.session.expire_all()
    return db.session.scalar(select(Person).where(Person.name == name))


def test_contacts_show_at_once_unless_the_person_asks_to_confirm_first(make_event, make_client, make_person):
    event = make_event()
    at_once, asks = make_client(), make_client()
    join(at_once, event, name="Ada", email="ada@example.org", share_email="y")
    join(asks, event, name="Bo", email="bo@example.org", share_email="y", confirm_before_sharing="y")
    ada, bo = person_named("Ada"), person_named("Bo")
    assert (ada.share_on_connect, bo.share_on_connect) == (True, False)
    cy = make_person("Cy", event=event)
    connections.connect(cy, ada.badge_token)
    connections.connect(cy, bo.badge_token)
    assert [c.value for c in contacts.visible_contacts(cy, ada)] == ["ada@example.org"]
    assert contacts.visible_contacts(cy, bo) == []
    # The form shows the choice again when Bo checks in next time, and keeps it.
    page = asks.get(f"/J/{event.join_code}").get_data(as_text=True)
    assert re.search(r'<input[^>]*checked[^>]*name="confirm_before_sharing"|'
                     r'<input[^>]*name="confirm_before_sharing"[^>]*checked', page)
    assert 'aria-describedby="confirm_before_sharing-hint"' in page
    # Changing it on the form applies to connections made from then on.
    join(asks, event, name="Bo", email="bo@example.org", share_email="y")
    assert person_named("Bo").share_on_connect is True


def test_a_profile_without_a_choice_keeps_the_persons_choice(make_event, make_person):
    event = make_event()
    ada = people.join_event(event, Profile(name="Ada", share_on_connect=False))
    people.join_event(event, Profile(name="Ada again"), person=ada)  # the kiosk, an import, the demo
    assert person_named("Ada again").share_on_connect is False
    assert people.join_event(event, Profile(name="New")).share_on_connect is True


@pytest.mark.parametrize("url,shown", [("https://example.org/conduct", True), ("", False),
                                       ("javascript:alert(1)", False)])
def test_the_join_page_shows_the_series_code_of_conduct(client, make_event, url, shown):
    event = make_event()
    db.session.execute(db.update(Series).values(code_of_conduct_url=url))  # set by the series settings page
    db.session.commit()
    html = client.get(f"/J/{event.join_code}").get_data(as_text=True)
    note = re.search(r'<p class="conduct-note"[^>]*>(.*?)</p>\s*<button class="button button-big" type="submit">',
                     html, re.DOTALL)
    assert bool(note) == shown
    if shown:
        assert "By joining you agree to follow the" in note.group(1)
        assert f'<a href="{url}" rel="noopener noreferrer">code of conduct</a>' in note.group(1)
    assert "javascript:" not in html
