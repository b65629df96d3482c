"""Families and coverage evidence: schemes' family rules and who qualifies, dependants'
registrations through their lifecycle, cover outside the cooperative, and the coverage report
on a fixture whose every numerator and denominator is known."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from coopreg.agreements import families, services
from coopreg.agreements.coverage import coverage_report
from coopreg.agreements.models import (
    Branch,
    DependantRegistration,
    DependantStatus,
    OutsideCoverage,
    RegistrationStatus,
)
from coopreg.cooperatives.models import Cooperative
from coopreg.core.audit import AuditEvent, acting_as
from coopreg.core.errors import DomainError
from coopreg.extensions import db
from coopreg.members import services as member_services
from coopreg.members.models import Member
from tests import factories
from tests.agreements.conftest import force_status
from tests.conftest import member_data

D = DependantStatus
S = RegistrationStatus
AS_OF = date(2025, 6, 30)
TODAY = date(2025, 6, 30)


@pytest.fixture
def rules(health):
    """The health scheme covers a spouse at any age, a child up to 18 (25 while studying,
    any age with a disability), free; a parent for a surcharge up to 80."""
    families.set_family_rule(health, "spouse")
    families.set_family_rule(health, "child", max_age=18, student_max_age=25,
                             disabled_any_age=True)
    families.set_family_rule(health, "parent", max_age=80, surcharge="2500")
    return health


def _registered(agreement, member, start=date(2024, 1, 1)):
    registration = services.enrol_member(agreement, member, None)
    force_status(registration, S.REGISTERED, coverage_start=start)
    return registration


def _dependant(member, relation, born, **flags):
    return member_services.add_dependant(member, f"{relation} of {member.first_name}",
                                         relation, born, None, today=TODAY, **flags)


# ---- rules and who qualifies ---------------------------------------------------------------

def test_the_rules_are_kept_and_said(rules, cr):
    by_relation = {r.relation.value: r for r in families.family_rules(cr.id, [rules.id])}
    assert set(by_relation) == {"spouse", "child", "parent"}
    assert by_relation["spouse"].free and by_relation["child"].free
    assert by_relation["parent"].surcharge_minor == 250000  # CRC 2 500,00
    assert families.rule_text(by_relation["spouse"]) == "at any age"
    assert families.rule_text(by_relation["child"]) == (
        "up to 18 years, 25 while studying, any age with a disability")
    # a second rule for a relation changes the first (audited)
    families.set_family_rule(rules, "parent", max_age=75)
    changed = families.family_rules(cr.id, [rules.id])
    assert [r.max_age for r in changed if r.relation.value == "parent"] == [75]
    assert db.session.scalar(select(AuditEvent.id).where(
        AuditEvent.entity == "family_rules", AuditEvent.action == "update")) is not None


@pytest.mark.parametrize(("values", "field", "message"), [
    ({"max_age": 18, "student_max_age": 18}, "student_max_age", "above the general one"),
    ({"max_age": 200}, "max_age", "between 0 and 120"),
    ({"max_age": "dieciocho"}, "max_age", "whole years"),
    ({"surcharge": "-5"}, "surcharge", "."),
])
def test_a_wrong_rule_is_refused_with_its_field(health, values, field, message):
    with pytest.raises(DomainError, match=message) as caught:
        families.set_family_rule(health, "child", **values)
    assert caught.value.field == field


def test_who_qualifies(rules, make_agreement, new_member):
    agreement = make_agreement()
    member = new_member()
    child_20 = _dependant(member, "child", date(2005, 1, 1))
    student_20 = _dependant(member, "child", date(2005, 1, 1), student=True)
    disabled_30 = _dependant(member, "child", date(1995, 1, 1), disabled=True)
    child_10 = _dependant(member, "child", date(2015, 1, 1))
    no_birth_date = _dependant(member, "child", None)
    spouse = _dependant(member, "spouse", None)
    other = _dependant(member, "other", date(2000, 1, 1))
    problem = families.eligibility_problem
    assert problem(child_20, agreement, TODAY) == (
        "child of María is 20: CCSS-1 covers a child up to 18 years, 25 while studying, any "
        "age with a disability.")
    assert problem(student_20, agreement, TODAY) is None
    assert problem(disabled_30, agreement, TODAY) is None
    assert problem(child_10, agreement, TODAY) is None
    assert "date of birth" in problem(no_birth_date, agreement, TODAY)
    assert problem(spouse, agreement, TODAY) is None  # any age: no date needed
    assert problem(other, agreement, TODAY) == (
        "CCSS-1 covers no dependant of this relation (other).")


def test_enrolment_refuses_who_does_not_qualify(rules, make_agreement, new_member):
    agreement = make_agreement()
    member, someone_else = new_member(), new_member()
    registration = services.enrol_member(agreement, member, None)
    too_old = _dependant(member, "child", date(2000, 1, 1))
    with pytest.raises(DomainError, match="is 2[56]: CCSS-1 covers a child up to 18"):
        families.enrol_dependant(registration, too_old)
    theirs = _dependant(someone_else, "spouse", None)
    with pytest.raises(DomainError, match="not a dependant of this member"):
        families.enrol_dependant(registration, theirs)
    assert db.session.scalar(select(DependantRegistration.id)) is None  # nothing kept


# ---- the lifecycle with the member ----------------------------------------------------------

def test_a_dependant_moves_with_the_lifecycle(rules, make_agreement, new_member):
    agreement = make_agreement()
    member = new_member()
    registration = services.enrol_member(agreement, member, None)
    spouse = _dependant(member, "spouse", date(1990, 1, 1))
    enrolled = families.enrol_dependant(registration, spouse)
    assert enrolled.status == D.ENROLLED
    with pytest.raises(DomainError, match="enrolled cannot become registered"):
        families.transition_dependant(enrolled, D.REGISTERED)
    families.send_dependants(member.cooperative_id, 77, [registration.id])
    db.session.refresh(enrolled)
    assert (enrolled.status, enrolled.batch_id) == (D.SUBMITTED, 77)
    with pytest.raises(DomainError, match="reason"):
        families.transition_dependant(enrolled, D.REJECTED, rejection_reason=" ")
    families.follow_members(member.cooperative_id, 77, {registration.id: date(2025, 3, 1)}, [])
    db.session.refresh(enrolled)
    assert (enrolled.status, enrolled.coverage_start) == (D.REGISTERED, date(2025, 3, 1))
    # every move is in the audit log
    moves = db.session.scalars(select(AuditEvent).where(
        AuditEvent.entity == "dependant_registrations",
        AuditEvent.entity_id == enrolled.id)).all()
    assert len(moves) == 3
    # an enrolled dependant stays on record
    with pytest.raises(DomainError, match="is enrolled with a registration"):
        member_services.remove_dependant(spouse)


@pytest.mark.parametrize("one_at_a_time", [True, False])
def test_dependants_end_with_the_members_registration(rules, make_agreement, new_member,
                                                      one_at_a_time):
    agreement = make_agreement()
    member = new_member()
    registration = _registered(agreement, member)
    enrolled = [families.enrol_dependant(registration, _dependant(member, relation, born))
                for relation, born in (("spouse", None), ("child", date(2016, 1, 1)))]
    families.transition_dependant(enrolled[1], D.SUBMITTED)
    families.transition_dependant(enrolled[1], D.REGISTERED, coverage_start=date(2024, 1, 1))
    if one_at_a_time:
        services.transition_registration(registration, S.TERMINATED, None, reason="Left")
    else:  # the exit batch's set-based move
        services.transition_many([registration.id], S.TERMINATED, None, "Exit sent",
                                 cooperative_id=registration.cooperative_id)
    for row in enrolled:
        db.session.refresh(row)
    assert [row.status for row in enrolled] == [D.TERMINATED, D.TERMINATED]


# ---- cover outside the cooperative -----------------------------------------------------------

def test_outside_cover_is_recorded_per_branch(new_member, cr):
    member = new_member()
    rows = families.record_outside_coverage(member, "employer", ["medical_care", "sickness"],
                                            "Finca La Esperanza", date(2025, 5, 1))
    assert [r.branch for r in rows] == [Branch.MEDICAL_CARE, Branch.SICKNESS]
    # declared again: the branch takes the new source, no second row
    families.record_outside_coverage(member, "spouse", ["sickness"])
    held = {r.branch: r.source.value for r in families.outside_coverages(member)}
    assert held == {Branch.MEDICAL_CARE: "employer", Branch.SICKNESS: "spouse"}
    with pytest.raises(DomainError, match="Tick at least one branch"):
        families.record_outside_coverage(member, "state", [])
    with pytest.raises(DomainError) as caught:
        families.record_outside_coverage(member, "the neighbour", ["sickness"])
    assert caught.value.field == "source"
    audited = db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.entity == "outside_coverages")).all()
    assert sorted(audited) == ["create", "create", "update"]


# ---- the coverage report on a known fixture ---------------------------------------------------

@pytest.fixture
def world(rules, make_agreement, new_member, pensions):
    """Five active members and one who left:
    w1 woman, registered (health): a child registered with her, a spouse rejected;
    w2 woman, not registered, covered outside for medical care and maternity (spouse);
    w3 woman, covered nowhere;
    m1 man, registered (health), also declares medical care through an employer (covered here
       wins); a child registered with him;
    m2 man, not registered, covered outside for medical care (employer) and old age (state),
       and declares maternity (it does not concern him);
    w4 woman who left, registered with a registered child: counted nowhere."""
    agreement = make_agreement()
    w1 = new_member(sex="female", first_name="W1")
    w2 = new_member(sex="female", first_name="W2")
    new_member(sex="female", first_name="W3")
    m1 = new_member(sex="male", first_name="M1")
    m2 = new_member(sex="male", first_name="M2")
    w4 = new_member(sex="female", first_name="W4")

    def with_dependants(member, *people):
        registration = _registered(agreement, member)
        enrolled = []
        for relation, born, outcome in people:
            dependant = _dependant(member, relation, born)
            row = families.enrol_dependant(registration, dependant, today=TODAY)
            families.transition_dependant(row, D.SUBMITTED)
            if outcome == "registered":
                families.transition_dependant(row, D.REGISTERED, coverage_start=date(2024, 2, 1))
            else:
                families.transition_dependant(row, D.REJECTED, rejection_reason="Sin acta")
            enrolled.append(row)
        return enrolled

    with_dependants(w1, ("child", date(2016, 1, 1), "registered"),
                    ("spouse", date(1980, 1, 1), "rejected"))
    with_dependants(m1, ("child", date(2012, 1, 1), "registered"))
    with_dependants(w4, ("child", date(2014, 1, 1), "registered"))
    member_services.change_member_status(w4, "left", date(2025, 1, 1), "Moved", None)
    families.record_outside_coverage(w2, "spouse", ["medical_care", "maternity"])
    families.record_outside_coverage(m1, "employer", ["medical_care"])
    families.record_outside_coverage(m2, "employer", ["medical_care"])
    families.record_outside_coverage(m2, "state", ["old_age", "maternity"])
    return agreement


def _figures(counts):
    return {c.branch: (c.covered, c.outside, c.gap, c.total) for c in counts}


def test_the_report_counts_each_branch_on_its_own_denominator(world, cr):
    report = coverage_report(cr.id, as_of=AS_OF)
    assert (report.total_active, report.women, report.covered_any) == (5, 3, 2)
    figures = _figures(report.branches)
    # (covered here, covered outside only, covered nowhere, members concerned)
    assert figures[Branch.MEDICAL_CARE] == (2, 2, 1, 5)
    assert figures[Branch.SICKNESS] == (2, 0, 3, 5)
    assert figures[Branch.MATERNITY] == (1, 1, 1, 3)  # among the 3 women
    assert figures[Branch.OLD_AGE] == (0, 1, 4, 5)
    assert figures[Branch.UNEMPLOYMENT] == (0, 0, 5, 5)
    assert report.covered_outside_any == 3  # w2, m1, m2 declared some cover outside
    assert report.dependants_covered == 2  # w1's child and m1's child
    by_sex = {g.key: _figures(g.branches) for g in report.breakdowns["sex"]}
    assert by_sex["female"][Branch.MATERNITY] == (1, 1, 1, 3)
    assert by_sex["male"][Branch.MATERNITY] == (0, 0, 0, 0)  # maternity concerns no man
    assert by_sex["male"][Branch.MEDICAL_CARE] == (1, 1, 0, 2)


def test_the_shares_and_the_workbook_say_the_same(world, cr):
    import io

    from openpyxl import load_workbook

    from coopreg.agreements.coverage import coverage_workbook

    report = coverage_report(cr.id, as_of=AS_OF)
    maternity = next(c for c in report.branches if c.branch == Branch.MATERNITY)
    assert (str(maternity.share), str(maternity.gap_share)) == ("0.3333", "0.3333")
    sheet = load_workbook(io.BytesIO(coverage_workbook(report, "Coop")))["Summary"]
    rows = {row[0]: row for row in sheet.iter_rows(values_only=True) if row[0]}
    assert rows["Maternity"][1:4] == (3, 1, 2)
    assert rows["Maternity"][6:8] == (1, 1)
    assert rows["Dependants covered through members"][1] == 2


# ---- the pages ---------------------------------------------------------------------------

@pytest.fixture
def pages(app, coop, other_coop):
    """Committed: an agreement whose scheme covers children up to 18, a member with a child
    (10) and an older son (30), both of them enrolled only after the page asks; in the other
    cooperative, a dependant enrolled there."""
    with app.app_context(), acting_as(None, "tests"):
        cooperative = db.session.get(Cooperative, coop.id)
        agreement = factories.make_agreement(cooperative, branches=("medical_care",
                                                                    "maternity"))
        families.set_family_rule(agreement.schemes[0], "child", max_age=18)
        member = member_services.create_member(cooperative, member_data(first_name="Marta"),
                                               confirm_duplicate=True)
        registration = services.enrol_member(agreement, member, None)
        child = member_services.add_dependant(member, "Nico", "child", date(2016, 4, 1),
                                              None)
        son = member_services.add_dependant(member, "Iván", "child", date(1995, 4, 1), None)
        foreign_coop = db.session.get(Cooperative, other_coop.id)
        foreign_agreement = factories.make_agreement(foreign_coop)
        families.set_family_rule(foreign_agreement.schemes[0], "spouse")
        foreign_member = member_services.create_member(
            foreign_coop, member_data(id_type="local", id_number="123456789012"),
            confirm_duplicate=True)
        foreign_registration = services.enrol_member(foreign_agreement, foreign_member, None)
        foreign = member_services.add_dependant(foreign_member, "Otro", "spouse", None, None)
        foreign_enrolled = families.enrol_dependant(foreign_registration, foreign)
        foreign_outside = families.record_outside_coverage(foreign_member, "state",
                                                           ["old_age"])[0]
        ids = {"member": member.id, "registration": registration.id, "child": child.id,
               "son": son.id, "scheme": agreement.schemes[0].id, "foreign": foreign.id,
               "foreign_enrolled": foreign_enrolled.id, "foreign_outside": foreign_outside.id,
               "foreign_member": foreign_member.id}
        db.session.commit()
    return ids


def _flashes(html: str) -> str:
    return re.sub(r"\s+", " ", " ".join(re.findall(r'<p class="flash[^"]*"[^>]*>(.*?)</p>',
                                                   html, re.S)))


def test_enrolling_dependants_from_the_registration_page(as_role, pages):
    client = as_role("secretary")
    url = f"/agreements/registrations/{pages['registration']}/dependants"
    refused = client.post(url, data={"dependant_id": pages["son"]}, follow_redirects=True)
    assert "Iván is 31" in _flashes(refused.text)
    done = client.post(url, data={"dependant_id": pages["child"]}, follow_redirects=True)
    assert "Nico is enrolled with the member" in _flashes(done.text)
    assert 'id="dependants"' in done.text and "Enrolled" in done.text
    summary = client.get(f"/agreements/members/{pages['member']}/registration-summary")
    assert re.search(r"AG-\d+: Enrolled", summary.text)
    member_page = client.get(f"/members/{pages['member']}")
    assert "Covered outside the cooperative" in member_page.text
    assert re.search(r"AG-\d+: Enrolled", member_page.text)


def test_another_cooperatives_dependants_are_not_found(as_role, pages):
    client = as_role("secretary")
    assert client.post(f"/agreements/registrations/{pages['registration']}/dependants",
                       data={"dependant_id": pages["foreign"]}).status_code == 404
    assert client.post(
        f"/agreements/dependant-registrations/{pages['foreign_enrolled']}/transition",
        data={"to_status": "terminated"}).status_code == 404
    assert client.post(f"/agreements/outside-coverage/{pages['foreign_outside']}/remove"
                       ).status_code == 404
    assert client.post(f"/agreements/members/{pages['foreign_member']}/outside-coverage",
                       data={"source": "state", "branches": ["old_age"]}).status_code == 404


def test_outside_cover_from_the_member_page(app, as_role, pages):
    client = as_role("secretary")
    url = f"/agreements/members/{pages['member']}/outside-coverage"
    refused = client.post(url, data={"source": "employer"}, follow_redirects=True)
    assert "Tick at least one branch" in _flashes(refused.text)
    done = client.post(url, data={"source": "employer", "branches": ["medical_care"],
                                  "note": "Beneficio El Sol"}, follow_redirects=True)
    assert "Beneficio El Sol" in done.text and "Through an employer" in done.text
    with app.app_context():
        assert db.session.scalar(select(OutsideCoverage.source).where(
            OutsideCoverage.member_id == pages["member"])).value == "employer"


def test_family_rules_on_the_scheme_page(as_role, pages):
    client = as_role("admin")
    url = f"/agreements/schemes/{pages['scheme']}/family-rules"
    refused = client.post(url, data={"relation": "child", "max_age": "18",
                                     "student_max_age": "16"}, follow_redirects=True)
    assert "above the general one" in _flashes(refused.text)
    done = client.post(url, data={"relation": "parent", "max_age": "85",
                                  "surcharge": "1.500,00"}, follow_redirects=True)
    assert "Family rule saved" in _flashes(done.text)
    page = client.get(f"/agreements/schemes/{pages['scheme']}/edit")
    assert "up to 85 years" in page.text and "surcharge ₡1,500.00 per period" in page.text


def test_the_printable_brief_in_the_readers_language(as_role, pages):
    client = as_role("viewer")
    english = client.get("/agreements/coverage/brief")
    assert english.status_code == 200
    assert "Maternity is counted among women only" in english.text
    assert '<svg class="coverage-chart"' in english.text
    spanish = client.get("/agreements/coverage/brief?lang=es")
    assert 'lang="es"' in spanish.text and "Cómo se contaron las cifras" in spanish.text
    assert "la maternidad se cuenta solo entre las mujeres" in spanish.text
    page = client.get("/agreements/coverage")
    assert "Printable brief" in page.text and "covered outside" in page.text


def test_member_model_unchanged(app, pages):
    with app.app_context():
        assert db.session.get(Member, pages["member"]).dependants[0].student is False


def test_removing_a_family_rule_and_an_outside_cover_from_their_pages(app, as_role, pages):
    from coopreg.agreements.models import FamilyRule

    secretary = as_role("secretary")
    member_page = secretary.post(f"/agreements/members/{pages['member']}/outside-coverage",
                                 data={"source": "employer", "branches": ["old_age"]},
                                 follow_redirects=True)
    assert "Cover outside the cooperative recorded" in _flashes(member_page.text)
    with app.app_context():
        row_id = db.session.scalar(select(OutsideCoverage.id).where(
            OutsideCoverage.member_id == pages["member"]))
    removed = secretary.post(f"/agreements/outside-coverage/{row_id}/remove",
                             follow_redirects=True)
    assert "Removed." in _flashes(removed.text)
    secretary.post("/logout")
    admin = as_role("admin")
    with app.app_context():
        rule_id = db.session.scalar(select(FamilyRule.id).where(
            FamilyRule.scheme_id == pages["scheme"]))
    done = admin.post(f"/agreements/family-rules/{rule_id}/remove", follow_redirects=True)
    assert "Family rule removed." in _flashes(done.text)
    with app.app_context():
        assert db.session.get(OutsideCoverage, row_id) is None
        assert db.session.get(FamilyRule, rule_id) is None
