"""The audit trail: entries are ids only, written in the acting service's transaction, and
read back per organizer newest first, a page at a time, in one query."""
import logging

import pytest
from sqlalchemy import select

from kithmeet.audit import services as audit
from kithmeet.audit.models import ACTION_LABELS, AuditEntry
from kithmeet.database import transaction
from kithmeet.extensions import db


def test_record_refuses_an_action_without_a_label(make_organizer):
    organizer = make_organizer()
    with pytest.raises(ValueError):
        audit.record(organizer.id, "organizer.did_something_new")


def test_record_names_who_acted_in_the_log_and_keeps_the_entry_with_the_account(make_organizer, caplog):
    organizer = make_organizer()
    with caplog.at_level(logging.INFO, logger="kithmeet.changes"), transaction():
        audit.record(organizer.id, "organizer.reset_issued", actor="cli")
        audit.record(organizer.id, "organizer.password_changed")
    assert "organizer.reset_issued actor=cli" in caplog.text
    assert f"organizer.password_changed actor=organizer:{organizer.id}" in caplog.text
    rows = db.session.scalars(select(AuditEntry).where(AuditEntry.organizer_id == organizer.id)
                              .order_by(AuditEntry.id)).all()
    assert [row.action for row in rows][-2:] == ["organizer.reset_issued", "organizer.password_changed"]
    assert rows[-1].label == ACTION_LABELS["organizer.password_changed"]


def test_for_organizer_pages_newest_first_in_one_query_each(make_organizer, make_event, count_queries):
    organizer, other = make_organizer(), make_organizer()
    organizer_id = organizer.id
    make_event(organizer, name="Week 47")
    make_event(other)
    with transaction():
        for _ in range(5):
            audit.record(organizer_id, "organizer.signed_in")
    db.session.expire_all()  # so a relationship not loaded with the page would need a query of its own
    with count_queries() as statements:
        first, more = audit.for_organizer(organizer_id, 1, per_page=4)
        second, no_more = audit.for_organizer(organizer_id, 2, per_page=4)
        names = [entry.event.name for entry in first + second if entry.event is not None]
    assert len(statements) == 2
    assert more and not no_more
    assert names == ["Week 47", "Week 47"]  # opened, created
    ids = [entry.id for entry in first + second]
    assert ids == sorted(ids, reverse=True) and len(ids) == 8  # created, event.created, opened, 5 sign-ins
    assert all(entry.organizer_id == organizer_id for entry in first + second)
    assert [entry.action for entry in second] == ["organizer.signed_in", "event.opened", "event.created",
                                                  "organizer.created"]
