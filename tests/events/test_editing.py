"""Changing an event after it is saved: editing its fields and prompts, deleting a draft,
replacing its join code. Each checks ownership and writes all or nothing."""
from datetime import datetime

import pytest
from sqlalchemy import select

from kithmeet.audit.models import AuditEntry
from kithmeet.errors import DomainError, NotFound
from kithmeet.events import services as events
from kithmeet.events.models import Event, EventPrompt
from kithmeet.extensions import db
from kithmeet.people.models import PromptAnswer

from ..postgres import BOTH_DATABASES

WHEN = datetime(2026, 12, 3, 19, 30)


def fields(**changes):
    return {"name": "Thursday Gathering #2", "starts_at": WHEN, "venue": "The Library",
            "description": "Second floor.", "prompts": ["Ask me about", "I can help with", "I'm looking for"],
            **changes}


def actions(organizer):
    return db.session.scalars(select(AuditEntry.action).where(AuditEntry.organizer_id == organizer.id)
                              .order_by(AuditEntry.id)).all()


def test_update_changes_every_field_and_is_audited(make_organizer, make_event):
    organizer = make_organizer()
    event = make_event(organizer, status="draft")
    events.update_event(organizer, event.public_id, **fields())
    db.session.expire_all()
    event = db.session.get(Event, event.id)
    assert (event.name, event.starts_at, event.venue, event.description) == (
        "Thursday Gathering #2", WHEN, "The Library", "Second floor.")
    assert event.series.name == "Thursday Gathering" and event.status == "draft"
    assert actions(organizer)[-1] == "event.edited"


def test_a_closed_event_can_still_be_edited(make_organizer, make_event):
    organizer = make_organizer()
    event = make_event(organizer, status="closed")
    events.update_event(organizer, event.public_id, **fields(name="Thursday Gathering (fixed)"))
    db.session.expire_all()
    event = db.session.get(Event, event.id)
    assert event.name == "Thursday Gathering (fixed)" and event.status == "closed"


def test_prompts_are_relabelled_in_place_and_answers_stay_with_labels_that_stay(make_organizer, make_event,
                                                                                make_person):
    organizer = make_organizer()
    event = make_event(organizer)
    ada = make_person("Ada", event=event, answers=[("Ask me about", "Flask"), ("I'm looking for", "a job")])
    ids = [prompt.id for prompt in event.prompts]
    events.update_event(organizer, event.public_id, **fields(
        prompts=["Ask me about", "I'm looking for", "", "Favourite tea", "Hometown"]))
    db.session.expire_all()
    event = db.session.get(Event, event.id)
    assert event.prompt_labels == ["Ask me about", "I'm looking for", "Favourite tea", "Hometown"]
    assert [prompt.position for prompt in event.prompts] == [0, 1, 2, 3]
    assert [prompt.id for prompt in event.prompts][:3] == ids  # the rows stay; one more follows
    answers = dict(db.session.execute(select(PromptAnswer.prompt, PromptAnswer.answer)
                                      .where(PromptAnswer.person_id == ada.id)).all())
    assert answers == {"Ask me about": "Flask", "I'm looking for": "a job"}
    events.update_event(organizer, event.public_id, **fields(prompts=["Hometown"]))
    db.session.expire_all()
    assert db.session.get(Event, event.id).prompt_labels == ["Hometown"]
    assert db.session.scalar(select(db.func.count(EventPrompt.id)).where(EventPrompt.event_id == event.id)) == 1


@pytest.mark.parametrize("changes,code", [
    ({"name": "  "}, "name_required"),
    ({"starts_at": None}, "starts_at_required"),
    ({"venue": "x" * 201}, "too_long"),
    ({"description": "x" * 2001}, "too_long"),
    ({"prompts": ["x" * 81]}, "too_long"),
    ({"name": "Thursday\u202eGathering"}, "control_characters"),
    ({"prompts": ["", " "]}, "no_prompt"),
    ({"prompts": ["a", "b", "c", "d", "e", "f"]}, "too_many_prompts"),
    ({"prompts": ["Ask me about", "ask me ABOUT"]}, "duplicate_prompt"),
])
def test_update_refuses_bad_fields_and_changes_nothing(make_organizer, make_event, db_state, changes, code):
    organizer = make_organizer()
    event = make_event(organizer)
    before = db_state()
    with pytest.raises(DomainError) as error:
        events.update_event(organizer, event.public_id, **fields(**changes))
    assert error.value.code == code
    db.session.commit()  # as a caller that went on would: still nothing to write
    assert db_state() == before


@pytest.mark.parametrize("act", [
    lambda organizer, public_id: events.update_event(organizer, public_id, **fields()),
    lambda organizer, public_id: events.delete_event(organizer, public_id),
    lambda organizer, public_id: events.rotate_join_code(organizer, public_id),
], ids=["update", "delete", "rotate"])
def test_another_organizers_event_does_not_exist_for_them(make_organizer, make_event, db_state, act):
    event, stranger = make_event(make_organizer(), status="draft"), make_organizer()
    before = db_state()
    with pytest.raises(NotFound) as error:
        act(stranger, event.public_id)
    assert error.value.code == "unknown_event"
    assert db_state() == before


@BOTH_DATABASES
def test_deleting_a_draft_takes_its_prompts_and_entries_with_it(make_organizer, make_event):
    organizer = make_organizer()
    event = make_event(organizer, status="draft")
    event_id, series_id = event.id, event.series_id
    events.delete_event(organizer, event.public_id)
    db.session.expire_all()
    assert db.session.get(Event, event_id) is None
    assert db.session.scalars(select(EventPrompt).where(EventPrompt.event_id == event_id)).all() == []
    entries = db.session.execute(select(AuditEntry.action, AuditEntry.series_id)
                                 .where(AuditEntry.organizer_id == organizer.id,
                                        AuditEntry.action.startswith("event."))).all()
    assert entries == [("event.deleted", series_id)]  # "event.created" went with the event


@pytest.mark.parametrize("status", ["open", "closed"])
def test_only_a_draft_can_be_deleted(make_organizer, make_event, db_state, status):
    organizer = make_organizer()
    event = make_event(organizer, status=status)
    before = db_state()
    with pytest.raises(DomainError) as error:
        events.delete_event(organizer, event.public_id)
    assert error.value.code == "not_a_draft"
    db.session.commit()  # as a caller that went on would: still nothing to write
    assert db_state() == before


def test_rotating_the_join_code_retires_the_old_one(make_organizer, make_event):
    organizer = make_organizer()
    event = make_event(organizer)
    old = event.join_code
    events.rotate_join_code(organizer, event.public_id)
    db.session.expire_all()
    new = db.session.get(Event, event.id).join_code
    assert new != old and events.event_by_join_code(new).id == event.id
    with pytest.raises(NotFound):
        events.event_by_join_code(old)
    assert actions(organizer)[-1] == "event.join_code_rotated"
