"""Argentina's Monotributo social for a demo agreement (issue 17): its payers, its categories and
its families, set on a given agreement (the demo's Argentine cooperative calls it).

Each category's monthly amount is its three components: the tax (impuesto integrado), the
pension (SIPA) and the health insurance (obra social). The state pays all of the tax and the
pension and half of the health insurance, straight to the institution; the member pays the
other half of the health insurance. The member's and the state's shares of each category are
therefore its own (percentages that are exact on these amounts: the member's half of the
health insurance is 37.5 %, 30 % and 25 % of A, B and C). Family members (the spouse, children)
are covered at the member's own cost: a surcharge of one health-insurance component each.
The amounts are the demo's, in the spirit of the scheme, not the official table of any year."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from coopreg.agreements import families
from coopreg.agreements import services as agreement_services
from coopreg.agreements.models import (
    Agreement,
    AgreementTerms,
    CategoryPlacement,
    Registration,
    RegistrationStatus,
    RuleKind,
    Scheme,
)
from coopreg.cooperatives.models import Cooperative
from coopreg.core.money import from_minor
from coopreg.extensions import db
from coopreg.members.models import Member

STATE_NAME = "Estado nacional (Monotributo social)"
HEALTH = Decimal("12000")
# code, tax, pension, health insurance (a month, ARS), and the member's declared monthly income
# below which a member is placed in it (None: any income)
CATEGORIES = (("A", Decimal("0"), Decimal("4000"), HEALTH, Decimal("300000")),
              ("B", Decimal("1000"), Decimal("7000"), HEALTH, Decimal("600000")),
              ("C", Decimal("2000"), Decimal("10000"), HEALTH, None))
FAMILY = (("spouse", {}), ("child", {"max_age": 21, "student_max_age": 25}))


def _percent(part: Decimal, whole: Decimal) -> str:
    percent = part * 100 / whole
    if percent != percent.quantize(Decimal("0.01")):
        raise ValueError("a category's shares must be exact to the basis point")
    return f"{percent.normalize():f}"


def category_shares(code: str) -> tuple[Decimal, Decimal, Decimal]:
    """(the category's monthly amount, the member's part, the state's part)."""
    _code, tax, pension, health, _below = next(c for c in CATEGORIES if c[0] == code)
    return tax + pension + health, health / 2, tax + pension + health / 2


def monotributo_social_terms(effective_from: date | None = None) -> dict:
    """The terms of a Monotributo social agreement, as `create_agreement` and `amend_terms`
    take them: categories, the state as a direct payer, monthly dues."""
    lines = []
    for code, *_rest in CATEGORIES:
        total, member, state = category_shares(code)
        lines.append(f"{code};;{total};{_percent(member, total)};{_percent(state, total)}")
    terms = {"rule_kind": RuleKind.CATEGORY.value, "member_share_percent": "25",
             "schedule": "monthly", "due_day": 20, "grace_days": 10,
             "remittance_deadline_days": 15, "scale": "\n".join(lines),
             "payers": [{"kind": "state", "name": STATE_NAME, "share_percent": "75",
                         "through_cooperative": False}],
             "note": "Monotributo social: the state pays the tax, the pension and half of "
                     "the health insurance"}
    if effective_from is not None:
        terms["effective_from"] = effective_from
    return terms


@dataclass
class MonotributoReport:
    amended: bool
    placed: int
    family_rules: int


def _is_monotributo(terms: AgreementTerms) -> bool:
    return (terms.rule_kind == RuleKind.CATEGORY
            and [r.code for r in terms.scale_rows] == [c[0] for c in CATEGORIES]
            and [p.name for p in terms.third_payers] == [STATE_NAME])


def set_monotributo_social(agreement: Agreement, effective_from: date | None = None,
                           actor_id: int | None = None) -> MonotributoReport:
    """Set Monotributo social's payers and categories on an agreement: an amendment from
    `effective_from` (default: the first of the month after the latest terms took effect)
    unless the terms in force already are these; family rules (spouse and children at the
    member's cost) on each of its schemes; and each registered member not yet placed put in a
    category by their declared monthly income, from the terms' start. Idempotent."""
    latest = agreement.terms[-1]
    amended = False
    if not _is_monotributo(latest):
        if effective_from is None:
            start = latest.effective_from
            effective_from = date(start.year + start.month // 12, start.month % 12 + 1, 1)
        latest = agreement_services.amend_terms(
            agreement, monotributo_social_terms(effective_from), actor_id)
        amended = True
    rules = 0
    for scheme_id in families.scheme_ids_of(agreement):
        scheme = db.session.scalar(select(Scheme).where(
            Scheme.cooperative_id == agreement.cooperative_id, Scheme.id == scheme_id))
        for relation, ages in FAMILY:
            families.set_family_rule(scheme, relation, surcharge=str(HEALTH), **ages)
            rules += 1
    placed_ids = set(db.session.scalars(
        select(CategoryPlacement.member_id)
        .where(CategoryPlacement.cooperative_id == agreement.cooperative_id,
               CategoryPlacement.agreement_id == agreement.id)))
    members = db.session.scalars(
        select(Member).join(Registration, Registration.member_id == Member.id)
        .where(Registration.cooperative_id == agreement.cooperative_id,
               Member.cooperative_id == agreement.cooperative_id,
               Registration.agreement_id == agreement.id,
               Registration.status == RegistrationStatus.REGISTERED)
        .order_by(Member.id)).all()
    currency = db.session.get(Cooperative, agreement.cooperative_id).currency
    placed = 0
    for member in members:
        if member.id in placed_ids:
            continue
        income = from_minor(member.declared_income_minor or 0, currency)
        code = next(c[0] for c in CATEGORIES if c[4] is None or income < c[4])
        agreement_services.place_in_category(agreement, member, code, latest.effective_from,
                                             actor_id)
        placed += 1
    return MonotributoReport(amended=amended, placed=placed, family_rules=rules)
