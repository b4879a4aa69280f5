"""The scan page's note fields are written out by hand (templates/connections/scan.html: WTForms'
widgets cost more than the rest of the form on a page drawn on every scan). They must stay what
_macros.field draws for the same form: label, hint, the error beside the field with its code,
aria-describedby and aria-invalid, and the words typed kept in the box."""
import re

from flask import render_template_string
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from kithmeet.connections import consent, contacts, services as connections
from kithmeet.connections.forms import ConnectForm
from kithmeet.extensions import db
from kithmeet.people.models import Person

from ..pages import field_error

FIELDS = re.compile(r'<div class="field[^"]*">.*?</div>', re.DOTALL)
MACRO = ('{% from "_macros.html" import field %}'
         "{{ field(form.talked_about, hint=\"Optional. \" ~ name ~ \" sees this too: it's your shared memory "
         'of the conversation.") }}'
         '{{ field(form.private_note, hint="Optional. Only you ever see this.") }}')


def drawn(html):
    return [re.sub(r">\s+<", "><", re.sub(r"\s+", " ", block)) for block in FIELDS.findall(html)]


def by_the_macro(app, name, data=None):
    with app.test_request_context("/", method="POST" if data else "GET", data=data):
        form = ConnectForm()
        if data:
            form.validate()
        return drawn(render_template_string(MACRO, form=form, name=name))


def test_the_note_fields_are_drawn_as_the_field_macro_draws_them(app, make_event, make_person, signed_in):
    event = make_event()
    bo, cy = make_person("Bo", event=event), make_person("Cy <b>", event=event)
    client = signed_in(bo)
    page = f"/B/{cy.badge_token}"
    assert drawn(client.get(page).get_data(as_text=True)) == by_the_macro(app, cy.name)

    typed = {"talked_about": "Bikes \u202e<script>", "private_note": "x" * 5000}
    response = client.submit(page, data=typed)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert (field_error(html, "talked_about"), field_error(html, "private_note")) == ("control_characters",
                                                                                     "too_long")
    assert drawn(html) == by_the_macro(app, cy.name, typed)
    assert "Bikes \u202e&lt;script&gt;</textarea>" in html  # kept to correct, escaped


def test_the_scan_page_shows_the_contact_fields_the_rule_lets_through(make_event, make_person, signed_in):
    """The page reads the rule and the fields in one statement (contacts.visible_contacts); it
    must show what contacts.visible_to shows for the same people, in every state of the pair."""
    event = make_event()
    ada = make_person("Ada", event=event, contacts={"email": "ada@example.org", "phone": "+44 20 7946 0000"},
                      shared={"email": True, "phone": False})
    bo = make_person("Bo", event=event)
    client, page = signed_in(bo), f"/B/{ada.badge_token}"

    def shown():
        html = client.get(page).get_data(as_text=True)
        return [kind for kind, value in (("email", "ada@example.org"), ("phone", "+44 20 7946 0000"))
                if value in html]

    def by_the_rule():
        db.session.expire_all()
        owner = db.session.scalar(select(Person).options(selectinload(Person.contacts)).where(Person.id == ada.id))
        return [c.kind for c in contacts.visible_to(db.session.get(Person, bo.id), [owner])[owner.id]]

    assert shown() == by_the_rule() == []  # not connected
    connection, _ = connections.connect(bo, ada.badge_token)
    assert shown() == by_the_rule() == ["email"]  # the unshared phone never shows
    consent.remove(db.session.get(Person, ada.id), connection.public_id)
    assert shown() == by_the_rule() == []
    connections.connect(db.session.get(Person, bo.id), ada.badge_token, client_id="again")  # they meet again
    assert shown() == by_the_rule() == []  # Ada is back, but shares again only once she confirms
    consent.confirm(db.session.get(Person, ada.id), connection.public_id)
    assert shown() == by_the_rule() == ["email"]
    consent.block(db.session.get(Person, bo.id), connection.public_id)
    assert shown() == by_the_rule() == []
