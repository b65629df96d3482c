"""A member's status: only the transitions of the table, each with a date and a reason, all
kept in the history."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import product

import pytest
from sqlalchemy import select

from coopreg.core.errors import DomainError
from coopreg.extensions import db
from coopreg.members import services
from coopreg.members.models import MEMBER_STATUS_TRANSITIONS, MemberStatus, MemberStatusChange

TODAY = date.today()
JOINED = date(2020, 1, 15)
FIRST_CHANGE = date(2021, 3, 1)
SECOND_CHANGE = date(2022, 6, 1)

ALL_PAIRS = list(product(MemberStatus, MemberStatus))
ALLOWED = [(a, b) for a, b in ALL_PAIRS if b in MEMBER_STATUS_TRANSITIONS[a]]
REFUSED = [(a, b) for a, b in ALL_PAIRS if b not in MEMBER_STATUS_TRANSITIONS[a]]


def pair_id(pair) -> str:
    return f"{pair[0].value}->{pair[1].value}"


def test_the_transition_table():
    assert len(ALLOWED) == 8
    assert len(REFUSED) == 8
    assert MEMBER_STATUS_TRANSITIONS[MemberStatus.DECEASED] == frozenset()
    assert all(a not in MEMBER_STATUS_TRANSITIONS[a] for a in MemberStatus)


def member_in(cr, enrol, status: MemberStatus):
    """A member brought to `status` (through the only allowed path from active)."""
    member = enrol(cr, joined_on=JOINED)
    if status is not MemberStatus.ACTIVE:
        services.change_member_status(member, status, FIRST_CHANGE, "setting up", None)
    return member


@pytest.mark.parametrize("pair", ALLOWED, ids=[pair_id(p) for p in ALLOWED])
def test_allowed_transition(cr, enrol, make_user, pair):
    start, target = pair
    member = member_in(cr, enrol, start)
    actor_id, _email = make_user(None)
    history_before = len(member.status_changes)
    change = services.change_member_status(member, target.value, SECOND_CHANGE,
                                           "  Decided by the   board ", actor_id)
    assert member.status is target
    assert member.status_reason == "Decided by the board"
    assert member.status_date == SECOND_CHANGE
    assert change.from_status is start
    assert change.to_status is target
    assert change.effective_on == SECOND_CHANGE
    assert change.reason == "Decided by the board"
    assert change.changed_by_id == actor_id
    assert change.changed_at is not None
    assert change.member_id == member.id
    assert change.cooperative_id == cr.id
    db.session.expire(member, ["status_changes"])
    assert len(member.status_changes) == history_before + 1
    assert member.status_changes[-1].id == change.id


@pytest.mark.parametrize("pair", REFUSED, ids=[pair_id(p) for p in REFUSED])
def test_refused_transition(cr, enrol, pair):
    start, target = pair
    member = member_in(cr, enrol, start)
    history_before = db.session.scalars(select(MemberStatusChange.id).where(
        MemberStatusChange.member_id == member.id)).all()
    with pytest.raises(DomainError) as info:
        services.change_member_status(member, target, SECOND_CHANGE, "Why not", None)
    assert info.value.field == "status"
    assert info.value.message == (f"A member who is {start.value} cannot become "
                                  f"{target.value}.")
    assert member.status is start
    assert db.session.scalars(select(MemberStatusChange.id).where(
        MemberStatusChange.member_id == member.id)).all() == history_before


def test_unknown_status_is_refused(cr, enrol):
    member = enrol(cr)
    with pytest.raises(DomainError) as info:
        services.change_member_status(member, "retired", TODAY, "Old age", None)
    assert info.value.field == "status"
    assert info.value.message == "Status must be one of: active, suspended, left, deceased."


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_reason_is_required(cr, enrol, reason):
    member = enrol(cr)
    with pytest.raises(DomainError) as info:
        services.change_member_status(member, "suspended", TODAY, reason, None)
    assert info.value.field == "reason"
    assert info.value.message == "Give the reason for the change."
    assert member.status is MemberStatus.ACTIVE


def test_a_reason_of_at_most_300_characters(cr, enrol):
    member = enrol(cr)
    with pytest.raises(DomainError) as info:
        services.change_member_status(member, "suspended", TODAY, "x" * 301, None)
    assert info.value.field == "reason"
    services.change_member_status(member, "suspended", TODAY, "x" * 300, None)
    assert member.status is MemberStatus.SUSPENDED


def test_a_date_is_required(cr, enrol):
    member = enrol(cr)
    with pytest.raises(DomainError) as info:
        services.change_member_status(member, "left", None, "Moved away", None)
    assert info.value.field == "effective_on"
    assert info.value.message == "Give the date the change takes effect."
    assert member.status is MemberStatus.ACTIVE


def test_the_date_cannot_be_in_the_future(cr, enrol):
    member = enrol(cr)
    with pytest.raises(DomainError) as info:
        services.change_member_status(member, "left", TODAY + timedelta(days=1), "Moving",
                                      None)
    assert info.value.field == "effective_on"
    assert info.value.message == "The date is in the future."
    assert member.status is MemberStatus.ACTIVE
    assert member.left_on is None


def test_the_date_cannot_be_before_joining(cr, enrol):
    member = enrol(cr, joined_on=JOINED)
    with pytest.raises(DomainError) as info:
        services.change_member_status(member, "deceased", JOINED - timedelta(days=1),
                                      "Died", None)
    assert info.value.field == "effective_on"
    assert info.value.message == "The date is before the member joined."
    assert member.status is MemberStatus.ACTIVE


def test_the_joining_day_and_today_are_accepted(cr, enrol):
    member = enrol(cr, joined_on=JOINED)
    services.change_member_status(member, "suspended", JOINED, "Dues unpaid", None)
    services.change_member_status(member, "active", TODAY, "Dues paid", None)
    assert member.status is MemberStatus.ACTIVE
    assert member.status_date == TODAY


def test_a_custom_today(cr, enrol):
    member = enrol(cr, joined_on=JOINED)
    with pytest.raises(DomainError):
        services.change_member_status(member, "left", date(2021, 1, 2), "Moved", None,
                                      today=date(2021, 1, 1))
    services.change_member_status(member, "left", date(2021, 1, 1), "Moved", None,
                                  today=date(2021, 1, 1))
    assert member.left_on == date(2021, 1, 1)


def test_leaving_sets_left_on_and_reactivating_clears_it(cr, enrol):
    member = enrol(cr, joined_on=JOINED)
    assert member.left_on is None
    services.change_member_status(member, MemberStatus.LEFT, FIRST_CHANGE, "Moved away", None)
    assert member.left_on == FIRST_CHANGE
    services.change_member_status(member, MemberStatus.ACTIVE, SECOND_CHANGE, "Came back",
                                  None)
    assert member.left_on is None
    assert member.status_reason == "Came back"


def test_death_sets_left_on(cr, enrol):
    member = enrol(cr, joined_on=JOINED)
    services.change_member_status(member, "deceased", FIRST_CHANGE, "Death certificate", None)
    assert member.left_on == FIRST_CHANGE
    assert services.allowed_statuses(member) == []


def test_suspension_does_not_set_left_on(cr, enrol):
    member = enrol(cr, joined_on=JOINED)
    services.change_member_status(member, "suspended", FIRST_CHANGE, "Dues unpaid", None)
    assert member.left_on is None
    services.change_member_status(member, "active", SECOND_CHANGE, "Dues paid", None)
    assert member.left_on is None


def test_history_keeps_every_change_in_order(cr, enrol, make_user):
    actor_id, _email = make_user(None)
    member = enrol(cr, joined_on=JOINED)
    steps = [("suspended", date(2021, 1, 1), "Dues unpaid", None),
             ("active", date(2021, 2, 1), "Dues paid", actor_id),
             ("left", date(2022, 1, 1), "Moved away", actor_id),
             ("active", date(2023, 1, 1), "Came back", None),
             ("deceased", date(2024, 1, 1), "Passed away", actor_id)]
    for status, day, reason, actor in steps:
        services.change_member_status(member, status, day, reason, actor)
    db.session.commit()
    db.session.expire_all()
    history = db.session.scalars(select(MemberStatusChange).where(
        MemberStatusChange.member_id == member.id).order_by(MemberStatusChange.id)).all()
    assert [(c.from_status.value, c.to_status.value, c.effective_on, c.reason,
             c.changed_by_id) for c in history] == [
        ("active", "suspended", date(2021, 1, 1), "Dues unpaid", None),
        ("suspended", "active", date(2021, 2, 1), "Dues paid", actor_id),
        ("active", "left", date(2022, 1, 1), "Moved away", actor_id),
        ("left", "active", date(2023, 1, 1), "Came back", None),
        ("active", "deceased", date(2024, 1, 1), "Passed away", actor_id),
    ]
    assert member.status_changes == history
    assert "active→deceased" in repr(history[-1])


def test_allowed_statuses_follow_the_table(cr, enrol):
    member = enrol(cr, joined_on=JOINED)
    assert services.allowed_statuses(member) == [MemberStatus.SUSPENDED, MemberStatus.LEFT,
                                                 MemberStatus.DECEASED]
    services.change_member_status(member, "left", FIRST_CHANGE, "Moved", None)
    assert services.allowed_statuses(member) == [MemberStatus.ACTIVE, MemberStatus.DECEASED]
