"""The readiness gate: `ready` only when the member's ID is valid, consent is recorded and the
agreement's required documents are held — and the reasons are said in words."""

from __future__ import annotations

from datetime import date

import pytest

from coopreg.agreements import services
from coopreg.agreements.models import RegistrationStatus
from coopreg.cooperatives import services as cooperative_services
from coopreg.core.errors import DomainError
from coopreg.core.sentences import say
from coopreg.extensions import db
from coopreg.members import services as member_services

S = RegistrationStatus


def test_a_complete_member_can_be_marked_ready(agreement, new_member):
    registration = services.enrol_member(agreement, new_member(), None)
    assert services.readiness_problems(registration) == []
    services.transition_registration(registration, S.READY, None)
    assert registration.status == S.READY


def test_every_problem_is_listed(agreement, new_member):
    registration = services.enrol_member(agreement, new_member(ready=False), None)
    assert services.readiness_problems(registration) == [
        "No national ID number is recorded.",
        "Consent to share data with the institution is not recorded.",
        "Document missing: Copy of national ID.",
    ]
    with pytest.raises(DomainError) as error:
        services.transition_registration(registration, S.READY, None)
    assert error.value.message.startswith("Not ready yet: No national ID number")
    assert registration.status == S.PENDING


def test_fixing_each_problem_opens_the_gate(agreement, new_member, cr, id_copy):
    member = new_member(ready=False)
    registration = services.enrol_member(agreement, member, None)
    data = {k: getattr(member, k) for k in (
        "first_name", "middle_name", "last_name", "second_last_name", "date_of_birth",
        "joined_on", "phone", "address", "locality", "occupation")}
    data.update(sex="female", sector="agriculture", id_type="cr_cedula",
                id_number="1-0999-0888", consent_given=True, consent_date=date(2021, 1, 1),
                consent_method="thumbprint", member_number=member.member_number)
    member_services.update_member(member, data, confirm_duplicate=True)
    assert services.readiness_problems(registration) == [
        "Document missing: Copy of national ID."]
    member_services.set_documents(member, {id_copy.id: date(2024, 1, 1)})
    assert services.readiness_problems(registration) == []
    services.transition_registration(registration, S.READY, None)


def test_an_id_that_no_longer_validates_is_a_problem(agreement, new_member):
    member = new_member()
    member.id_number = "12345"  # too short: typed before the checks existed
    db.session.flush()
    registration = services.enrol_member(agreement, member, None)
    problems = services.readiness_problems(registration)
    assert len(problems) == 1
    assert problems[0].startswith("The national ID is not valid: ")


def test_a_member_who_left_is_not_ready(agreement, new_member):
    member = new_member()
    registration = services.enrol_member(agreement, member, None)
    member_services.change_member_status(member, "left", date(2024, 5, 1), "Moved", None)
    assert services.readiness_problems(registration) == ["The member is not active (left)."]


def test_only_the_agreements_documents_count(make_agreement, new_member, id_copy):
    no_documents = make_agreement("NODOCS", documents=[])
    member = new_member()
    member_services.set_documents(member, {id_copy.id: None})
    registration = services.enrol_member(no_documents, member, None)
    assert services.readiness_problems(registration) == []


def test_a_retired_checklist_item_is_no_longer_required(agreement, new_member, id_copy):
    member = new_member()
    member_services.set_documents(member, {id_copy.id: None})
    registration = services.enrol_member(agreement, member, None)
    assert services.readiness_problems(registration) == [
        "Document missing: Copy of national ID."]
    cooperative_services.set_document_type_active(id_copy, False)
    assert services.readiness_problems(registration) == []


def test_many_at_once_give_the_same_answers(agreement, new_member):
    registrations = [services.enrol_member(agreement, new_member(ready=r), None)
                     for r in (True, False, True)]
    many = services.readiness_problems_many(registrations)
    assert many == {r.id: services.readiness_problems(r) for r in registrations}


def test_mark_many_ready_reports_those_failing_the_gate(agreement, new_member):
    good = [services.enrol_member(agreement, new_member(), None) for _ in range(2)]
    bad = services.enrol_member(agreement, new_member(ready=False, first_name="Zoila"), None)
    submitted = services.enrol_member(agreement, new_member(), None)
    submitted.status = S.SUBMITTED
    result = services.mark_ready_many(agreement, [r.id for r in (*good, bad, submitted)], None)
    assert {r.id for r in result.done} == {r.id for r in good}
    assert all(r.status == S.READY for r in good)
    assert bad.status == S.PENDING
    refused = {m.id: reasons for m, reasons in result.refused}
    assert refused[bad.member_id][0] == "No national ID number is recorded."
    assert refused[submitted.member_id] == ["It is submitted."]


def test_bulk_enrolment_skips_who_cannot_be_enrolled(agreement, new_member, other_coop):
    members = [new_member() for _ in range(3)]
    services.enrol_member(agreement, members[0], None)
    gone = new_member()
    member_services.change_member_status(gone, "deceased", date(2024, 5, 1), "Reported", None)
    result = services.enrol_members(agreement, [m.id for m in members] + [gone.id], None)
    assert sorted(r.member_id for r in result.done) == sorted(m.id for m in members[1:])
    refused = {m.id: reasons for m, reasons in result.refused}
    assert refused[members[0].id] == ["Already enrolled (pending)."]
    assert "Only active members" in refused[gone.id][0]
    assert all(say(r.events[0].said_reason) == "Enrolled" for r in result.done)


def test_leaving_or_dying_flags_registrations_for_exit(agreement, make_agreement, new_member):
    member = new_member()
    first = services.enrol_member(agreement, member, None)
    first.status = S.REGISTERED
    second = services.enrol_member(make_agreement("PHIC-1"), member, None)
    second.status = S.TERMINATED
    member_services.change_member_status(member, "deceased", date(2025, 2, 3),
                                         "Reported by family", None)
    assert first.exit_flagged is True
    assert (first.exit_flag_reason, first.exit_flagged_on) == ("Reported by family",
                                                               date(2025, 2, 3))
    assert second.exit_flagged is False  # a terminated one has nothing left to end
