"""Monotributo social's payers and categories set on a fixture agreement
(`coopreg.demo.monotributo.set_monotributo_social`, which the demo's Argentine cooperative
calls): the state pays the tax, the pension and half of the health insurance, straight to the
institution; the member pays the other half, and a health-insurance component for each family
member covered. Every figure computed by hand here."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from coopreg.agreements import families
from coopreg.agreements.models import (
    CategoryPlacement,
    DependantStatus,
    RuleKind,
)
from coopreg.contributions import payers, services
from coopreg.contributions.models import Due, DuePayerShare
from coopreg.demo.monotributo import (
    STATE_NAME,
    monotributo_social_terms,
    set_monotributo_social,
)
from coopreg.extensions import db
from coopreg.members import services as member_services
from tests.contributions.helpers import make_agreement, make_member, register


def test_monotributo_social_payers_categories_and_families_by_hand(ctx, coop):
    agreement = make_agreement(coop)  # a flat agreement from 2024-01-01
    low = make_member(coop, declared_income="150000")    # A: 16,000 = 0 + 4,000 + 12,000
    mid = make_member(coop, declared_income="450000")    # B: 20,000 = 1,000 + 7,000 + 12,000
    high = make_member(coop, declared_income="900000")   # C: 24,000 = 2,000 + 10,000 + 12,000
    registrations = {m.id: register(agreement, m, date(2024, 1, 1)) for m in (low, mid, high)}
    report = set_monotributo_social(agreement)
    assert (report.amended, report.placed, report.family_rules) == (True, 3, 2)
    terms = agreement.terms[-1]
    assert terms.effective_from == date(2024, 2, 1) and terms.rule_kind == RuleKind.CATEGORY
    assert [(p.name, p.through_cooperative) for p in terms.third_payers] == [(STATE_NAME, False)]
    assert [(r.code, r.amount_minor, r.member_share_bp, r.payer1_share_bp)
            for r in terms.scale_rows] == [("A", 1_600_000, 3750, 6250),
                                           ("B", 2_000_000, 3000, 7000),
                                           ("C", 2_400_000, 2500, 7500)]
    assert dict(db.session.execute(select(CategoryPlacement.member_id, CategoryPlacement.code)
                                   .where(CategoryPlacement.agreement_id == agreement.id))
                .all()) == {low.id: "A", mid.id: "B", high.id: "C"}
    # the low earner's spouse is covered from March: a health-insurance component more
    spouse = member_services.add_dependant(low, "Marta Gómez", "spouse", date(1985, 3, 3), None,
                                           today=date(2024, 1, 1))
    enrolled = families.enrol_dependant(registrations[low.id], spouse, today=date(2024, 2, 1))
    families.transition_dependant(enrolled, DependantStatus.SUBMITTED)
    families.transition_dependant(enrolled, DependantStatus.REGISTERED,
                                  coverage_start=date(2024, 3, 1))
    services.generate_dues(agreement, date(2024, 2, 1), date(2024, 3, 1))

    def split(member, month):
        due = db.session.scalar(select(Due).where(Due.agreement_id == agreement.id,
                                                  Due.member_id == member.id,
                                                  Due.period == month))
        state = db.session.scalar(select(DuePayerShare.amount_minor)
                                  .where(DuePayerShare.due_id == due.id))
        return due.member_share_minor, state, due.cooperative_share_minor

    # the member pays half the health insurance (6,000.00); the state the rest; the
    # cooperative nothing
    assert split(low, date(2024, 2, 1)) == (600_000, 1_000_000, 0)
    assert split(mid, date(2024, 2, 1)) == (600_000, 1_400_000, 0)
    assert split(high, date(2024, 2, 1)) == (600_000, 1_800_000, 0)
    # March: the spouse's 12,000.00 on the member's share
    assert split(low, date(2024, 3, 1)) == (1_800_000, 1_000_000, 0)
    columns = {c.name or c.kind.value: c for c in payers.payer_columns(agreement,
                                                                       date(2024, 3, 1))}
    assert columns["member"].due_minor == 1_800_000 + 600_000 + 600_000
    assert columns[STATE_NAME].due_minor == 1_000_000 + 1_400_000 + 1_800_000
    assert columns["cooperative"].due_minor == 0
    # idempotent: a second call amends nothing and places no one again
    again = set_monotributo_social(agreement)
    assert (again.amended, again.placed) == (False, 0)
    assert len(agreement.terms) == 2


def test_the_terms_create_an_agreement_directly(ctx, coop):
    agreement = make_agreement(coop, monotributo_social_terms())
    assert [r.code for r in agreement.terms[0].scale_rows] == ["A", "B", "C"]
    member = make_member(coop, declared_income="100")
    register(agreement, member, date(2024, 1, 1))
    report = set_monotributo_social(agreement)
    assert (report.amended, report.placed) == (False, 1)
