"""The demo's schemes against figures computed by hand: CCSS-DEMO (10.5 % of a presumed income
of at least ₡319,000 and at most ₡2,500,000 since this year's amendment, a four-month season so
each due stands for three months; member 60 %, the state 25 % straight to the CCSS, the
cooperative the rest) and PHIC-DEMO (PhilHealth: 5 % of the monthly income between PHP 10,000
and PHP 100,000, member and cooperative half each). Every demo due is recomputed here with
Decimal arithmetic, independently of the application's integer rule."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import select

from coopreg.agreements.models import Agreement
from coopreg.contributions import payers
from coopreg.contributions.models import Due, DuePayerShare
from coopreg.extensions import db
from coopreg.members.models import Member

CENT = Decimal("0.01")


def _round(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _ccss_by_hand(income: Decimal | None, amended: bool) -> tuple[Decimal, ...]:
    rate, floor = (Decimal("0.105"), Decimal(319000)) if amended else (Decimal("0.10"),
                                                                       Decimal(300000))
    base = min(max(income or Decimal(0), floor), Decimal(2500000))
    total = _round(base * rate * 3)  # a four-month season: each due stands for 3 months
    member = _round(total * Decimal("0.60"))
    state = min(_round(total * Decimal("0.25")), total - member)
    return total, member, state, total - member - state


def _phic_by_hand(income: Decimal | None) -> tuple[Decimal, ...]:
    base = min(max(income or Decimal(0), Decimal(10000)), Decimal(100000))
    total = _round(base * Decimal("0.05"))
    member = _round(total / 2)
    return total, member, total - member


def test_the_hand_figures_themselves():
    # below the floor: ₡319,000 × 10.5 % × 3 = ₡100,485.00
    assert _ccss_by_hand(None, True) == (Decimal("100485.00"), Decimal("60291.00"),
                                         Decimal("25121.25"), Decimal("15072.75"))
    # above the ceiling: ₡2,500,000 × 10.5 % × 3 = ₡787,500.00
    assert _ccss_by_hand(Decimal(9_000_000), True)[0] == Decimal("787500.00")
    # PhilHealth: PHP 500 at the floor, 5,000 at the ceiling, 1,750 on 35,000
    assert _phic_by_hand(None) == (Decimal("500.00"), Decimal("250.00"), Decimal("250.00"))
    assert _phic_by_hand(Decimal(250_000))[0] == Decimal("5000.00")
    assert _phic_by_hand(Decimal(35_000)) == (Decimal("1750.00"), Decimal("875.00"),
                                              Decimal("875.00"))


@pytest.fixture
def demo(app):  # each test in its own rolled-back transaction, as the others
    result = app.test_cli_runner().invoke(args=["demo", "--members", "40"])
    assert result.exit_code == 0, result.output
    return app


def _dues(reference: str):
    agreement = db.session.scalar(select(Agreement).where(Agreement.reference == reference))
    rows = db.session.execute(
        select(Due, Member.declared_income_minor)
        .join(Member, Member.id == Due.member_id)
        .where(Due.agreement_id == agreement.id)).all()
    thirds = dict(db.session.execute(
        select(DuePayerShare.due_id, DuePayerShare.amount_minor)
        .join(Due, Due.id == DuePayerShare.due_id)
        .where(Due.agreement_id == agreement.id)).all())
    return agreement, rows, thirds


def _money(minor: int | None) -> Decimal | None:
    return None if minor is None else Decimal(minor) / 100


def test_every_ccss_demo_due_is_the_hand_figure_with_the_states_share(demo):
    with demo.app_context():
        agreement, rows, thirds = _dues("CCSS-DEMO")
        amended_from = agreement.terms[-1].effective_from
        assert rows and len(thirds) == len(rows)  # the state pays a share of every due
        for due, income in rows:
            total, member, state, cooperative = _ccss_by_hand(
                _money(income), due.period >= amended_from)
            assert (_money(due.member_share_minor), _money(thirds[due.id]),
                    _money(due.cooperative_share_minor)) == (member, state, cooperative)


def test_every_phic_demo_due_is_philhealths_five_percent(demo):
    with demo.app_context():
        _agreement, rows, thirds = _dues("PHIC-DEMO")
        assert rows and not thirds
        for due, income in rows:
            total, member, cooperative = _phic_by_hand(_money(income))
            assert Decimal(500) <= total <= Decimal(5000)
            assert (_money(due.member_share_minor), _money(due.cooperative_share_minor)) == (
                member, cooperative)


def test_a_cragro_treasurer_sees_each_payer_of_any_month(demo):
    """What members paid, what the state owes or paid, what went to the CCSS and what is
    missing, per payer — and the columns add up to the month's dues."""
    with demo.app_context():
        agreement, rows, thirds = _dues("CCSS-DEMO")
        months = sorted({due.period for due, _income in rows})
        late_state = 0
        for month in months:
            columns = payers.payer_columns(agreement, month)
            month_dues = [due for due, _income in rows if due.period == month]
            assert sum(c.due_minor for c in columns) == sum(
                d.member_share_minor + d.cooperative_share_minor + thirds[d.id]
                for d in month_dues)
            state = next(c for c in columns if c.name == "Estado (FODESAF)")
            assert state.through_cooperative is False
            assert 0 <= state.paid_minor <= state.due_minor
            late_state += state.receivable_minor
        assert late_state > 0  # the demo leaves the state late on some months
        assert any(c.paid_minor for m in months for c in payers.payer_columns(agreement, m)
                   if c.name == "Estado (FODESAF)")
        assert date.today() >= months[0]
