"""The registration lifecycle: every allowed change succeeds with what it needs, every other
one is refused with a clear message, and each change is kept in the history."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from coopreg.agreements import services
from coopreg.agreements.models import REGISTRATION_TRANSITIONS, RegistrationStatus
from coopreg.core.errors import DomainError
from coopreg.core.sentences import say
from tests.agreements.conftest import force_status

S = RegistrationStatus
ALLOWED = {(a, b) for a, targets in REGISTRATION_TRANSITIONS.items() for b in targets}
REFUSED = [(a, b) for a, b in itertools.product(S, S) if (a, b) not in ALLOWED]


def test_the_table_is_the_one_the_issue_describes():
    expected = {(S.PENDING, S.READY), (S.READY, S.SUBMITTED), (S.SUBMITTED, S.REGISTERED),
                (S.SUBMITTED, S.REJECTED), (S.REJECTED, S.READY), (S.REGISTERED, S.SUSPENDED),
                (S.SUSPENDED, S.REGISTERED)}
    expected |= {(s, S.TERMINATED) for s in S if s != S.TERMINATED}
    # two corrections: back to pending when something turns out missing; enrol again
    expected |= {(S.READY, S.PENDING), (S.TERMINATED, S.PENDING)}
    assert expected == ALLOWED


def _arguments(source: S, target: S) -> dict:
    if target == S.REGISTERED and source == S.SUBMITTED:
        return {"institution_number": "CC-0000042", "coverage_start": date(2025, 3, 1)}
    if target == S.REJECTED:
        return {"rejection_reason": "ID does not match the civil registry"}
    return {"reason": "Because"}


@pytest.mark.parametrize(("source", "target"), sorted(ALLOWED))
def test_every_allowed_transition(agreement, new_member, source, target):
    member = new_member()
    registration = services.enrol_member(agreement, member, None)
    extra = {"institution_member_number": "CC-0000001",
             "coverage_start": date(2024, 6, 1)} if source in (S.REGISTERED,
                                                                S.SUSPENDED) else {}
    force_status(registration, source, **extra)
    event = services.transition_registration(registration, target, None,
                                             **_arguments(source, target))
    assert registration.status == target
    assert (event.from_status, event.to_status) == (source, target)
    assert event.said_reason
    assert registration.events[-1] is event
    if target == S.REGISTERED and source == S.SUBMITTED:
        assert registration.institution_member_number == "CC-0000042"
        assert registration.coverage_start == date(2025, 3, 1)
    if target == S.REJECTED:
        assert registration.rejection_reason == "ID does not match the civil registry"
    if source == S.REJECTED:
        assert registration.rejection_reason is None
        assert "civil" not in (event.reason or "")


@pytest.mark.parametrize(("source", "target"), REFUSED)
def test_every_refused_transition(agreement, new_member, source, target):
    registration = services.enrol_member(agreement, new_member(), None)
    force_status(registration, source)
    events = len(registration.events)
    with pytest.raises(DomainError) as error:
        services.transition_registration(registration, target, None,
                                         **_arguments(source, target))
    assert error.value.message.startswith(
        f"A registration that is {source.value} cannot become {target.value}")
    assert error.value.field == "to_status"
    assert registration.status == source
    assert len(registration.events) == events


def test_an_unknown_status_is_refused(agreement, new_member):
    registration = services.enrol_member(agreement, new_member(), None)
    with pytest.raises(DomainError, match="Status must be one of"):
        services.transition_registration(registration, "approved", None)


def test_history_records_who_when_why(agreement, new_member, make_user, coop):
    from coopreg.auth.models import User
    from coopreg.extensions import db

    user_id, _email = make_user(coop, "secretary")
    registration = services.enrol_member(agreement, new_member(), user_id)
    services.transition_registration(registration, S.READY, user_id)
    services.transition_registration(registration, S.SUBMITTED, user_id, reason="Batch 7")
    services.transition_registration(registration, S.REJECTED, user_id,
                                     rejection_reason="Signature missing")
    steps = [(e.from_status, e.to_status, say(e.said_reason) or None, e.actor_id)
             for e in registration.events]
    assert steps == [(None, S.PENDING, "Enrolled", user_id),
                     (S.PENDING, S.READY, None, user_id),
                     (S.READY, S.SUBMITTED, "Batch 7", user_id),
                     (S.SUBMITTED, S.REJECTED, "Signature missing", user_id)]
    assert all(e.occurred_at is not None for e in registration.events)
    assert registration.events[0].actor == db.session.get(User, user_id)


@pytest.mark.parametrize(("number", "start", "field", "message"), [
    ("", date(2025, 1, 1), "institution_member_number", "Give the member number"),
    ("12345", date(2025, 1, 1), "institution_member_number", "not in the form CCSS uses"),
    ("CC-0000001", None, "coverage_start", "Give the date coverage starts"),
])
def test_registered_needs_a_number_matching_the_pattern_and_a_start(
        agreement, new_member, number, start, field, message):
    registration = services.enrol_member(agreement, new_member(), None)
    force_status(registration, S.SUBMITTED)
    with pytest.raises(DomainError) as error:
        services.transition_registration(registration, S.REGISTERED, None,
                                         institution_number=number, coverage_start=start)
    assert message in error.value.message
    assert error.value.field == field
    assert registration.status == S.SUBMITTED


def test_institution_numbers_are_unique_in_the_agreement(agreement, new_member):
    first = services.enrol_member(agreement, new_member(), None)
    second = services.enrol_member(agreement, new_member(), None)
    for registration in (first, second):
        force_status(registration, S.SUBMITTED)
    services.transition_registration(first, S.REGISTERED, None, institution_number="CC-0000007",
                                     coverage_start=date(2025, 1, 1))
    with pytest.raises(DomainError, match="already belongs to"):
        services.transition_registration(second, S.REGISTERED, None,
                                         institution_number="CC-0000007",
                                         coverage_start=date(2025, 1, 1))


@pytest.mark.parametrize("target", [S.SUSPENDED, S.TERMINATED])
def test_suspending_and_terminating_need_a_reason(agreement, new_member, target):
    registration = services.enrol_member(agreement, new_member(), None)
    force_status(registration, S.REGISTERED)
    with pytest.raises(DomainError, match="Give the reason"):
        services.transition_registration(registration, target, None, reason="  ")


def test_rejection_needs_the_institutions_reason(agreement, new_member):
    registration = services.enrol_member(agreement, new_member(), None)
    force_status(registration, S.SUBMITTED)
    with pytest.raises(DomainError, match="The institution's reason is required"):
        services.transition_registration(registration, S.REJECTED, None)


def test_termination_ends_coverage_and_clears_the_exit_flag(agreement, new_member):
    registration = services.enrol_member(agreement, new_member(), None)
    force_status(registration, S.REGISTERED, coverage_start=date(2024, 2, 1),
                 exit_flagged=True, exit_flag_reason="Left")
    services.transition_registration(registration, S.TERMINATED, None, reason="Exit sent",
                                     today=date(2025, 5, 31))
    assert registration.coverage_end == date(2025, 5, 31)
    assert registration.exit_flagged is False


def test_enrolment_rules(agreement, new_member, make_agreement, cr):
    from coopreg.members import services as member_services

    member = new_member()
    registration = services.enrol_member(agreement, member, None)
    assert registration.status == S.PENDING
    with pytest.raises(DomainError, match="already enrolled"):
        services.enrol_member(agreement, member, None)
    # a terminated registration starts over
    force_status(registration, S.TERMINATED)
    again = services.enrol_member(agreement, member, None)
    assert again.id == registration.id and again.status == S.PENDING
    assert say(again.events[-1].said_reason) == "Enrolled again"
    ended = make_agreement("OLD-1", valid_from=date(2020, 1, 1), valid_to=date(2021, 1, 1))
    with pytest.raises(DomainError, match="ended on 2021-01-01"):
        services.enrol_member(ended, member, None)
    gone = new_member()
    member_services.change_member_status(gone, "left", date(2024, 1, 1), "Moved", None)
    with pytest.raises(DomainError, match="Only active members"):
        services.enrol_member(agreement, gone, None)


def test_transition_many_moves_every_registration_with_history_and_audit(agreement,
                                                                         new_member):
    from sqlalchemy import select

    from coopreg.core.audit import AuditEvent
    from coopreg.extensions import db

    registrations = []
    for _ in range(3):
        registration = services.enrol_member(agreement, new_member(), None)
        force_status(registration, S.READY)
        registrations.append(registration)
    moved = services.transition_many([r.id for r in registrations], S.SUBMITTED, None,
                                     "Sent in batch B-000001",
                                     cooperative_id=agreement.cooperative_id)
    assert moved == 3
    for registration in registrations:
        assert registration.status == S.SUBMITTED
        assert registration.events[-1].from_status == S.READY
        assert registration.events[-1].reason == "Sent in batch B-000001"
        audit = db.session.scalars(select(AuditEvent).where(
            AuditEvent.entity == "registrations", AuditEvent.entity_id == registration.id,
            AuditEvent.action == "update")).all()
        assert audit[-1].changes["status"] == {"before": "ready", "after": "submitted"}


def test_transition_many_refuses_the_whole_set_if_one_cannot_move(agreement, new_member):
    ready = services.enrol_member(agreement, new_member(), None)
    force_status(ready, S.READY)
    pending = services.enrol_member(agreement, new_member(), None)
    with pytest.raises(DomainError, match="pending cannot become submitted"):
        services.transition_many([ready.id, pending.id], S.SUBMITTED, None, "batch",
                                 cooperative_id=agreement.cooperative_id)


def test_transition_many_refuses_another_cooperatives_registrations(agreement, new_member):
    ready = services.enrol_member(agreement, new_member(), None)
    force_status(ready, S.READY)
    with pytest.raises(DomainError, match="no longer exist"):
        services.transition_many([ready.id], S.SUBMITTED, None, "batch",
                                 cooperative_id=agreement.cooperative_id + 1)
    assert ready.status == S.READY


def test_transition_many_terminates_and_ends_coverage(agreement, new_member):
    registration = services.enrol_member(agreement, new_member(), None)
    force_status(registration, S.REGISTERED, institution_member_number="CC-0000009",
                 coverage_start=date(2024, 1, 1), exit_flagged=True)
    services.transition_many([registration.id], S.TERMINATED, None, "Exit sent",
                             today=date(2026, 5, 31), cooperative_id=agreement.cooperative_id)
    assert registration.status == S.TERMINATED
    assert registration.coverage_end == date(2026, 5, 31)
    assert registration.exit_flagged is False
