"""Who helps run a series (events/members.py): single-use invite links, roles, removal, leaving;
a series always keeps an owner, and access follows the role."""
import hashlib
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kithmeet import database
from kithmeet.audit.models import AuditEntry
from kithmeet.errors import DomainError, NotFound
from kithmeet.events import access, members
from kithmeet.events import services as events
from kithmeet.events.models import SeriesInvite, SeriesMember
from kithmeet.extensions import db
from kithmeet.mail.models import OutgoingMail
from kithmeet.organizer.models import Organizer

from ..postgres import BOTH_DATABASES

PASSWORD = "a long enough password"


@pytest.fixture
def owner(make_organizer):
    return make_organizer("owner@example.org")


@pytest.fixture
def series(owner, make_event):
    return make_event(owner).series


def code_of(call, *args, **kwargs):
    with pytest.raises(DomainError) as refused:
        call(*args, **kwargs)
    return refused.value.code


def join(owner, series, organizer, role="organizer"):
    _, token = members.invite(owner, series.public_id, role=role)
    members.accept(organizer, token)
    return token


def member_id(series, organizer):
    return db.session.scalar(select(SeriesMember.id).where(
        SeriesMember.series_id == series.id, SeriesMember.organizer_id == organizer.id))


def test_an_invite_keeps_only_the_hash_of_its_token_and_expires_in_seven_days(owner, series):
    invite, token = members.invite(owner, series.public_id, role="door")
    stored = db.session.get(SeriesInvite, invite.id)
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {value for value in stored.__dict__.values() if isinstance(value, str)}
    assert stored.expires_at - stored.created_at == timedelta(days=7)
    assert members.invite_link(token).endswith(f"/organizer/invite/{token}")
    assert db.session.scalar(select(func.count(OutgoingMail.id))) == 0  # no address, no mail


def test_an_invite_with_an_address_queues_a_mail_with_the_link(owner, series):
    _, token = members.invite(owner, series.public_id, role="organizer", email="Helper@Example.org")
    mail = db.session.scalar(select(OutgoingMail))
    assert mail.to_address == "helper@example.org" and f"/organizer/invite/{token}" in mail.text_body


def test_only_owners_invite_and_only_to_the_roles_below_theirs(owner, series, make_organizer, db_state):
    co, door, other = make_organizer(), make_organizer(), make_organizer()
    join(owner, series, co, "organizer")
    join(owner, series, door, "door")
    before = db_state()
    assert code_of(members.invite, co, series.public_id, role="door") == "role_too_low"
    assert code_of(members.invite, door, series.public_id, role="door") == "role_too_low"
    assert code_of(members.invite, other, series.public_id, role="door") == "unknown_series"
    assert code_of(members.invite, owner, series.public_id, role="owner") == "bad_role"
    assert code_of(members.invite, owner, series.public_id, role="door", email="not an address") == "bad_email"
    assert db_state() == before


def test_accepting_makes_a_member_with_the_invited_role_once(owner, series, make_organizer):
    helper, late = make_organizer(), make_organizer()
    _, token = members.invite(owner, series.public_id, role="door")
    members.accept(helper, token)
    assert access.role_in(helper, series.id) == "door"
    assert code_of(members.accept, late, token) == "invite_used"
    assert access.role_in(late, series.id) is None
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.organizer_id == helper.id)
                             .order_by(AuditEntry.id.desc()).limit(1)) == "series.member_joined"


def test_an_existing_member_cannot_use_an_invite(owner, series, make_organizer):
    helper = make_organizer()
    join(owner, series, helper, "door")
    _, token = members.invite(owner, series.public_id, role="organizer")
    assert code_of(members.accept, helper, token) == "already_member"
    assert code_of(members.accept, owner, token) == "already_member"
    assert access.role_in(helper, series.id) == "door"  # not quietly promoted
    assert db.session.scalar(select(SeriesInvite.used_at).where(SeriesInvite.token_hash.isnot(None))
                             .order_by(SeriesInvite.id.desc()).limit(1)) is None  # still usable by someone else


def test_expired_revoked_and_unknown_invites_are_refused_by_name(owner, series, make_organizer, monkeypatch):
    helper = make_organizer()
    invite, token = members.invite(owner, series.public_id, role="organizer")
    later = database.utcnow() + timedelta(days=7, seconds=1)
    monkeypatch.setattr(members, "utcnow", lambda: later)
    assert code_of(members.accept, helper, token) == "invite_expired"
    assert code_of(members.open_invite, token) == "invite_expired"
    monkeypatch.undo()
    members.revoke_invite(owner, series.public_id, invite.public_id)
    assert code_of(members.accept, helper, token) == "invite_revoked"
    assert code_of(members.revoke_invite, owner, series.public_id, invite.public_id) == "invite_revoked"
    with pytest.raises(NotFound) as unknown:
        members.accept(helper, token + "x")
    assert unknown.value.code == "unknown_invite"
    assert access.role_in(helper, series.id) is None


def test_a_used_invite_cannot_be_revoked_and_another_series_invite_is_unknown(owner, series, make_organizer,
                                                                              make_event):
    helper, other_owner = make_organizer(), make_organizer()
    other_series = make_event(other_owner, series_name="Elsewhere").series
    invite, token = members.invite(owner, series.public_id, role="door")
    members.accept(helper, token)
    assert code_of(members.revoke_invite, owner, series.public_id, invite.public_id) == "invite_used"
    mine, _ = members.invite(owner, series.public_id, role="door")
    assert code_of(members.revoke_invite, other_owner, other_series.public_id, mine.public_id) == "unknown_invite"


def test_a_visitor_makes_an_account_through_the_link_in_one_transaction(owner, series, make_organizer, db_state):
    _, token = members.invite(owner, series.public_id, role="organizer")
    before = db_state()
    assert code_of(members.accept_with_new_account, token, "new@example.org", "short") == "weak_password"
    assert code_of(members.accept_with_new_account, token, "owner@example.org", PASSWORD) == "organizer_exists"
    assert db_state() == before
    organizer, found = members.accept_with_new_account(token, "New@example.org", PASSWORD)
    assert found.id == series.id and organizer.email == "new@example.org"
    assert access.role_in(organizer, series.id) == "organizer"
    # A used link makes no account at all.
    assert code_of(members.accept_with_new_account, token, "third@example.org", PASSWORD) == "invite_used"
    assert db.session.scalar(select(Organizer.id).where(Organizer.email == "third@example.org")) is None


@BOTH_DATABASES
def test_two_tabs_sending_one_invite_at_once_make_one_member(app, owner, series, make_organizer):
    helpers = [make_organizer(f"tab{i}@example.org") for i in range(4)]
    helper_ids = [helper.id for helper in helpers]
    _, token = members.invite(owner, series.public_id, role="organizer")
    barrier, outcomes = threading.Barrier(len(helpers)), [None] * len(helpers)

    def send(i):
        with app.app_context():
            try:
                barrier.wait()
                members.accept(db.session.get(Organizer, helper_ids[i]), token)
                outcomes[i] = "ok"
            except DomainError as error:
                outcomes[i] = error.code
            except Exception as error:  # noqa: BLE001 - any other error fails the test
                outcomes[i] = repr(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(helpers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["invite_used"] * (len(helpers) - 1) + ["ok"], outcomes
    assert db.session.scalar(select(func.count(SeriesMember.id)).where(SeriesMember.series_id == series.id)) == 2


def test_roles_change_and_a_series_keeps_an_owner(owner, series, make_organizer):
    helper = make_organizer()
    join(owner, series, helper, "door")
    members.change_role(owner, series.public_id, member_id(series, helper), "organizer")
    assert access.role_in(helper, series.id) == "organizer"
    assert code_of(members.change_role, owner, series.public_id, member_id(series, owner), "organizer") == "last_owner"
    assert code_of(members.remove_member, owner, series.public_id, member_id(series, owner)) == "last_owner"
    assert code_of(members.leave, owner, series.public_id) == "last_owner"
    assert code_of(members.change_role, owner, series.public_id, member_id(series, helper), "boss") == "bad_role"
    assert access.role_in(owner, series.id) == "owner"
    # With a second owner, the first may step down.
    members.change_role(owner, series.public_id, member_id(series, helper), "owner")
    members.change_role(owner, series.public_id, member_id(series, owner), "door")
    assert access.role_in(owner, series.id) == "door"
    assert code_of(members.change_role, owner, series.public_id, member_id(series, helper), "door") == "role_too_low"


@BOTH_DATABASES
def test_two_owners_stepping_down_at_once_leave_one_owner(app, owner, series, make_organizer, monkeypatch):
    second = make_organizer()
    join(owner, series, second, "organizer")
    members.change_role(owner, series.public_id, member_id(series, second), "owner")
    pairs = [(owner.id, member_id(series, owner)), (second.id, member_id(series, second))]
    barrier, outcomes = threading.Barrier(2), [None, None]
    # Each writer, having written, waits for the other to have written too before counting the
    # owners left: the worst order. With the series locked, the second never gets that far, so
    # the first stops waiting after a moment and commits.
    written, count_owners = threading.Barrier(2), members._keep_an_owner

    def after_both_wrote(found):
        try:
            written.wait(timeout=2)
        except threading.BrokenBarrierError:
            pass
        count_owners(found)

    monkeypatch.setattr(members, "_keep_an_owner", after_both_wrote)

    def step_down(i):
        acting, member = pairs[i]
        with app.app_context():
            try:
                barrier.wait()
                members.change_role(db.session.get(Organizer, acting), series.public_id, member, "organizer")
                outcomes[i] = "ok"
            except DomainError as error:
                outcomes[i] = error.code
            except Exception as error:  # noqa: BLE001
                outcomes[i] = repr(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=step_down, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    db.session.expire_all()
    owners = db.session.scalar(select(func.count(SeriesMember.id)).where(
        SeriesMember.series_id == series.id, SeriesMember.role == "owner"))
    assert owners == 1 and sorted(outcomes) == ["last_owner", "ok"], outcomes


def test_a_removed_member_loses_access_and_a_member_may_leave(owner, series, make_organizer, make_event):
    event = make_event(owner, series_name=series.name)
    helper, door = make_organizer(), make_organizer()
    join(owner, series, helper, "organizer")
    join(owner, series, door, "door")
    assert events.event_for_organizer(helper, event.public_id).id == event.id
    members.remove_member(owner, series.public_id, member_id(series, helper))
    with pytest.raises(NotFound):
        events.event_for_organizer(helper, event.public_id)
    assert code_of(members.remove_member, owner, series.public_id, member_id(series, door) + 100) == "unknown_member"
    members.leave(door, series.public_id)
    assert access.role_in(door, series.id) is None
    assert code_of(members.leave, door, series.public_id) == "unknown_series"


def test_a_door_volunteer_reaches_the_door_and_nothing_more(owner, series, make_organizer, make_event):
    event = make_event(owner, series_name=series.name)
    door = make_organizer()
    join(owner, series, door, "door")
    assert events.event_for_organizer(door, event.public_id, need="door").id == event.id
    assert code_of(events.event_for_organizer, door, event.public_id) == "role_too_low"
    assert code_of(events.set_status, door, event.public_id, "closed") == "role_too_low"
    assert code_of(members.members_of, door, series.public_id) == "role_too_low"


def test_members_page_data_is_a_fixed_number_of_queries(owner, series, make_organizer, count_queries):
    def measure():
        db.session.expire_all()
        db.session.refresh(owner)  # loaded outside the count, as a page has it from the sign-in
        with count_queries() as statements:
            members.members_of(owner, series.public_id)
        return len(statements)

    few = measure()
    for _ in range(4):
        join(owner, series, make_organizer(), "door")
        members.invite(owner, series.public_id, role="organizer")
    assert measure() == few
    _, people, invites = members.members_of(owner, series.public_id)
    assert people[0].role == "owner" and len(people) == 5 and len(invites) == 4
