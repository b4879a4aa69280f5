"""Prompts on the edit form: add, remove and reorder up to five without JavaScript (a position per
prompt); attendees keep their answers to the prompts that remain, wherever those move."""
from sqlalchemy import select

from kithmeet.events.models import Event
from kithmeet.extensions import db
from kithmeet.organizer.forms import prompt_order
from kithmeet.people.models import PromptAnswer

from .conftest import log_in

PROMPTS = ["Ask me about", "I can help with", "I'm looking for"]


def edit(client, event, prompts, positions):
    fields = {"name": event.name, "starts_at": "2026-11-26T19:00", "venue": "", "description": ""}
    for i in range(5):
        fields[f"prompt_{i}"] = prompts[i] if i < len(prompts) else ""
        fields[f"prompt_{i}_position"] = str(positions[i]) if i < len(positions) else str(i + 1)
    return client.submit(f"/organizer/events/{event.public_id}/edit", data=fields)


def labels(event):
    db.session.expire_all()
    return db.session.get(Event, event.id).prompt_labels


def answers(person):
    return dict(db.session.execute(select(PromptAnswer.prompt, PromptAnswer.answer)
                                   .where(PromptAnswer.person_id == person.id)).all())


def test_reordering_by_position_keeps_every_answer(client, organizer, make_event, make_person):
    event = make_event(organizer)
    ada = make_person("Ada", event=event, answers=[("Ask me about", "Flask"), ("I'm looking for", "a job")])
    log_in(client)
    page = client.get(f"/organizer/events/{event.public_id}/edit").get_data(as_text=True)
    assert 'name="prompt_0_position"' in page and 'name="prompt_4_position"' in page
    assert edit(client, event, PROMPTS, [3, 1, 2]).status_code == 302
    assert labels(event) == ["I can help with", "I'm looking for", "Ask me about"]
    assert answers(ada) == {"Ask me about": "Flask", "I'm looking for": "a job"}
    page = client.get(f"/organizer/events/{event.public_id}/edit").get_data(as_text=True)
    assert page.index('value="I can help with"') < page.index('value="Ask me about"')  # shown in the new order


def test_adding_removing_and_moving_at_once(client, organizer, make_event, make_person):
    event = make_event(organizer)
    ada = make_person("Ada", event=event, answers=[("Ask me about", "Flask"), ("I can help with", "SQL")])
    log_in(client)
    # Remove "I'm looking for", add two, and move the new "Hometown" to the top.
    response = edit(client, event, ["Ask me about", "I can help with", "", "Favourite tea", "Hometown"],
                    [2, 3, 4, 4, 1])
    assert response.status_code == 302
    assert labels(event) == ["Hometown", "Ask me about", "I can help with", "Favourite tea"]
    assert answers(ada) == {"Ask me about": "Flask", "I can help with": "SQL"}


def test_a_forged_position_falls_back_to_the_boxs_place(client, organizer, make_event):
    event = make_event(organizer)
    log_in(client)
    assert edit(client, event, PROMPTS, ["99", "-1", "x" * 5000]).status_code == 302
    assert labels(event) == PROMPTS


def test_prompt_order_sorts_by_position_and_keeps_ties_in_box_order():
    assert prompt_order([("a", "2"), ("b", "1"), ("c", "1"), ("d", None), ("e", "")]) == ["b", "c", "a", "d", "e"]
