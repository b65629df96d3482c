"""Dues generation computes every share in SQL: the same numbers as the Python rule
(`coopreg.agreements.services.contribution_for`), proven by a property test on the SQL
expressions alone (flat and rate rules, floor, ceiling, every schedule, incomes up to the
largest amount the app accepts), then through `generate_dues` end to end: which member owes
which period (coverage, joining and leaving mid-way, seasonal months, amended terms, closed
periods), idempotent runs, and members without a declared income."""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from coopreg.agreements import services as agreement_services
from coopreg.agreements.models import Registration, RuleKind, Schedule
from coopreg.agreements.services import contribution_for, due_shares_for, periods_between
from coopreg.contributions import services
from coopreg.contributions.models import Due
from coopreg.core.errors import DomainError
from coopreg.core.money import to_minor
from coopreg.extensions import db
from coopreg.members.models import Member
from tests.contributions.helpers import make_agreement, make_member, register

MAX_MINOR = 99_999_999_999_999  # 999,999,999,999.99: the largest amount parse_amount accepts

# ---- the SQL expressions against the Python rule ---------------------------------------------


def _sql_shares(terms, income: int | None) -> tuple | None:
    """(member share, cooperative share, the third parties' shares) as dues generation's SQL
    computes them for a member with this declared income; None when the member gets no
    due."""
    params: dict = {"income": income}
    total, member_share, condition = services._shares_sql(terms, params)
    thirds = services._third_shares_sql(terms, member_share, params)
    row = db.session.execute(sa.text(
        f"SELECT total, {', '.join([member_share, *thirds])} FROM (SELECT {total} AS total "
        "FROM (SELECT CAST(:income AS BIGINT) AS declared_income_minor) AS m "
        f"WHERE 1 = 1{condition}) AS covered"), params).first()
    if row is None:
        return None
    total_minor, member_minor, *third_minor = row
    assert all(isinstance(x, int) for x in row)  # never a float
    return member_minor, total_minor - member_minor - sum(third_minor), third_minor


def _python_shares(terms, income: int | None, currency: str = "CRC"
                   ) -> tuple[int, int] | None:
    agreement = SimpleNamespace(valid_from=date(2024, 1, 1), valid_to=None, terms=[terms],
                                cooperative=SimpleNamespace(currency=currency))
    member = SimpleNamespace(declared_income_minor=income, member_number="M-1")
    try:
        _total, member_minor, thirds, cooperative_minor = due_shares_for(agreement, member,
                                                                         date(2024, 1, 1))
    except DomainError:
        return None
    return member_minor, cooperative_minor, thirds


def _terms(rule_kind=RuleKind.RATE, flat=None, rate_bp=1000, floor=None, ceiling=None,
           share_bp=6000, schedule=Schedule.MONTHLY, months=(), payers=()):
    return SimpleNamespace(effective_from=date(2024, 1, 1), rule_kind=rule_kind,
                           flat_amount_minor=flat, rate_bp=rate_bp, floor_minor=floor,
                           ceiling_minor=ceiling, member_share_bp=share_bp, schedule=schedule,
                           month_list=list(months), suspended_accrue=True,
                           third_payers=[SimpleNamespace(share_bp=b, fixed_minor=f)
                                         for b, f in payers])


amounts = st.one_of(st.integers(0, MAX_MINOR), st.integers(0, 10_000_000),
                    st.sampled_from([0, 1, 5, 25, 99, 100_025, MAX_MINOR]))


@st.composite
def terms_strategy(draw):
    schedule = draw(st.sampled_from(list(Schedule)))
    months = ()
    if schedule == Schedule.SEASONAL:
        months = draw(st.lists(st.integers(1, 12), min_size=1, max_size=12, unique=True))
    elif schedule == Schedule.YEARLY:
        months = (draw(st.integers(1, 12)),)
    share_bp = draw(st.one_of(st.integers(0, 10_000), st.sampled_from([0, 3333, 5000, 10_000])))
    payers, left_bp = [], 10_000 - share_bp
    for _ in range(draw(st.integers(0, 3))):  # the state, a municipality, a donor
        if draw(st.booleans()):
            payers.append((None, draw(amounts)))
        else:
            bp = draw(st.integers(0, left_bp))
            left_bp -= bp
            payers.append((bp, None))
    if draw(st.booleans()):
        return _terms(RuleKind.FLAT, flat=draw(st.integers(1, MAX_MINOR)), rate_bp=None,
                      share_bp=share_bp, schedule=schedule, months=months, payers=payers)
    floor = draw(st.one_of(st.none(), amounts))
    ceiling = draw(st.one_of(st.none(), amounts))
    return _terms(RuleKind.RATE, rate_bp=draw(st.integers(0, 10_000)), floor=floor,
                  ceiling=ceiling, share_bp=share_bp, schedule=schedule, months=months,
                  payers=payers)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(terms=terms_strategy(), incomes=st.lists(st.one_of(st.none(), amounts), min_size=1,
                                                max_size=4))
# a seven-month season: 1250 × 7 bp × 12 / 7 = 1.5 exactly, rounded up (12/7 as a 28-digit
# Decimal used to make it 1)
@example(terms=_terms(rate_bp=7, schedule=Schedule.SEASONAL, months=range(1, 8)),
         incomes=[1250, 2625])
# the largest income, the whole of it, once a year: 1.2e16 and no 64-bit overflow
@example(terms=_terms(rate_bp=10_000, share_bp=9_999, schedule=Schedule.YEARLY, months=(6,)),
         incomes=[MAX_MINOR])
def test_the_sql_computes_the_same_shares_as_the_python_rule(ctx, terms, incomes):
    for income in incomes:
        assert _sql_shares(terms, income) == _python_shares(terms, income), (terms, income)


def test_a_season_of_seven_months_rounds_the_exact_total_half_up(ctx):
    terms = _terms(rate_bp=7, share_bp=10_000, schedule=Schedule.SEASONAL, months=range(1, 8))
    assert Fraction(1250 * 7 * 12, 10_000 * 7) == Fraction(3, 2)  # a tie: 1.5 minor units
    assert _python_shares(terms, 1250) == (2, 0, [])
    assert _sql_shares(terms, 1250) == (2, 0, [])


# ---- generate_dues end to end ---------------------------------------------------------------

RATE_FLOOR_CEILING = {"rule_kind": "rate", "rate_percent": "10.5", "floor": "300000",
                      "ceiling": "2000000", "member_share_percent": "33.33",
                      "schedule": "monthly", "due_day": 31, "grace_days": 10,
                      "remittance_deadline_days": 20}
SEVEN_MONTH_SEASON = {"rule_kind": "rate", "rate_percent": "7.77", "floor": "",
                      "ceiling": "", "member_share_percent": "60", "schedule": "seasonal",
                      "due_months": [1, 2, 3, 4, 5, 10, 11], "due_day": 15, "grace_days": 5,
                      "remittance_deadline_days": 20}


def _expected(agreement, start: date, end: date, closed=()) -> tuple[dict, set[str]]:
    """What generate_dues must write, worked out row by row in Python with the rule."""
    currency = agreement.cooperative.currency
    registrations = db.session.scalars(select(Registration).where(
        Registration.agreement_id == agreement.id)).all()
    rows, missing = {}, set()
    for period in periods_between(agreement, start, services.month_end(end)):
        month, last = period.month, services.month_end(period.month)
        if month in closed:
            continue
        for registration in registrations:
            member = db.session.get(Member, registration.member_id)
            if registration.coverage_start is None or registration.coverage_start > last:
                continue
            if registration.coverage_end is not None and registration.coverage_end < month:
                continue
            if member.joined_on > last or (member.left_on is not None
                                           and member.left_on < month):
                continue
            try:
                member_share, cooperative_share = contribution_for(agreement, member, month)
            except DomainError:
                missing.add(member.member_number)
                continue
            rows[(member.id, month)] = (
                registration.id, period.terms.id, period.due_date, period.grace_until,
                to_minor(member_share, currency), to_minor(cooperative_share, currency))
    return rows, missing


def _written(agreement) -> dict:
    return {(d.member_id, d.period): (d.registration_id, d.terms_id, d.due_date, d.grace_until,
                                      d.member_share_minor, d.cooperative_share_minor)
            for d in db.session.scalars(select(Due).where(Due.agreement_id == agreement.id))}


def _people(coop, agreement):
    """Members with every kind of income and window: below the floor, within, above the
    ceiling, none, zero; covered from mid-month, coverage ending, joining late, leaving."""
    def person(income, joined=date(2020, 1, 1), left=None, start=date(2024, 1, 1), stop=None):
        member = make_member(coop, declared_income=income, joined_on=joined)
        if left is not None:
            member.left_on = left
        register(agreement, member, start, coverage_end=stop)
        return member

    person("100000")
    person("1234567.89")
    person("1000000.01", start=date(2024, 3, 15))
    person("9000000", stop=date(2024, 5, 10))
    person("")
    person("0", joined=date(2024, 4, 2))
    person("777777.77", left=date(2024, 6, 30))
    person("555555.55", left=date(2024, 2, 1), start=None)  # never covered
    db.session.flush()


@pytest.mark.parametrize("terms", [RATE_FLOOR_CEILING, SEVEN_MONTH_SEASON],
                         ids=["rate-floor-ceiling", "seven-month-season"])
def test_generated_dues_are_the_python_rule_row_by_row(ctx, coop, terms):
    agreement = make_agreement(coop, terms)
    _people(coop, agreement)
    expected, missing = _expected(agreement, date(2024, 1, 1), date(2024, 12, 1))
    result = services.generate_dues(agreement, date(2024, 1, 1), date(2024, 12, 1))
    assert _written(agreement) == expected
    assert result.created == len(expected)
    assert result.missing_income == sorted(missing)
    assert bool(missing) == (terms["floor"] == "")  # only a rate with no floor misses one
    assert services.generate_dues(agreement, date(2024, 1, 1), date(2024, 12, 1)).created == 0


def test_amended_terms_apply_from_their_month_and_closed_periods_are_left_alone(ctx, coop):
    agreement = make_agreement(coop)  # flat 1000, member 60 %
    _people(coop, agreement)
    agreement_services.amend_terms(agreement, {**RATE_FLOOR_CEILING,
                                               "effective_from": date(2024, 7, 1)}, None)
    services.generate_dues(agreement, date(2024, 1, 1), date(2024, 3, 1))
    services.close_period(agreement, date(2024, 4, 1), None, today=date(2024, 5, 20))
    before = _written(agreement)
    result = services.generate_dues(agreement, date(2024, 1, 1), date(2024, 9, 1))
    assert result.skipped_closed == [date(2024, 4, 1)]
    expected, _ = _expected(agreement, date(2024, 1, 1), date(2024, 9, 1),
                            closed={date(2024, 4, 1)})
    written = _written(agreement)
    assert written == expected
    assert {k: v for k, v in written.items() if k in before} == before  # untouched
    assert result.created == len(expected) - len(before)
    assert not any(period == date(2024, 4, 1) for _, period in written)
    flat = {v[4] + v[5] for (_, period), v in written.items() if period < date(2024, 7, 1)}
    rate = {v[4] + v[5] for (_, period), v in written.items() if period >= date(2024, 7, 1)}
    assert flat == {100000} and len(rate) > 1


def test_a_second_run_over_a_longer_range_creates_only_the_new_months(ctx, coop):
    agreement = make_agreement(coop)
    _people(coop, agreement)
    first = services.generate_dues(agreement, date(2024, 1, 1), date(2024, 6, 1))
    second = services.generate_dues(agreement, date(2024, 1, 1), date(2024, 9, 1))
    expected, _ = _expected(agreement, date(2024, 1, 1), date(2024, 9, 1))
    assert first.created + second.created == len(expected) == len(_written(agreement))
    assert second.created == sum(1 for _, period in expected if period >= date(2024, 7, 1))


def test_members_without_income_are_named_and_owe_nothing_under_a_rate_without_floor(ctx,
                                                                                     coop):
    agreement = make_agreement(coop, {**SEVEN_MONTH_SEASON, "schedule": "monthly",
                                      "due_months": []})
    none = make_member(coop, declared_income="")
    zero = make_member(coop, declared_income="0")
    for member in (none, zero):
        register(agreement, member, date(2024, 1, 1))
    result = services.generate_dues(agreement, date(2024, 1, 1), date(2024, 2, 1))
    assert result.missing_income == [none.member_number]
    assert "no declared income" in result.summary()
    owed = _written(agreement)
    assert set(owed) == {(zero.id, date(2024, 1, 1)), (zero.id, date(2024, 2, 1))}
    assert {v[4:] for v in owed.values()} == {(0, 0)}


def test_progress_is_reported_per_chunk_then_for_the_credit(ctx, coop):
    agreement = make_agreement(coop)
    for _ in range(3):
        register(agreement, make_member(coop), date(2024, 1, 1))
    calls = []
    result = services.generate_dues(
        agreement, date(2024, 1, 1), date(2024, 3, 1), chunk_size=6,
        progress=lambda done, total, text: calls.append((done, total)))
    assert result.created == 9
    assert calls == [(6, 9), (9, 9), (9, 9)]  # two members' three months, then the third's


def test_credit_goes_only_to_members_with_new_dues(ctx, coop):
    from tests.contributions.helpers import receipt_input

    agreement = make_agreement(coop)
    paying, other = make_member(coop), make_member(coop)
    register(agreement, paying, date(2024, 1, 1))
    register(agreement, other, date(2024, 1, 1), coverage_end=date(2024, 1, 31))
    services.generate_dues(agreement, date(2024, 1, 1), date(2024, 1, 1))
    cooperative = agreement.cooperative
    for member in (paying, other):  # 600 pays January, 1400 is credit
        services.record_receipt(cooperative, receipt_input(member, "2000"), None,
                                today=date(2024, 6, 2))
    result = services.generate_dues(agreement, date(2024, 2, 1), date(2024, 3, 1))
    assert result.created == 2 and result.credit_applied_to == 1
    assert services.member_credit(paying.id) == 140000 - 120000
    assert services.member_credit(other.id) == 140000


# ---- the composite key -----------------------------------------------------------------------

def test_a_due_must_carry_its_registrations_member_agreement_and_cooperative(ctx, coop):
    agreement = make_agreement(coop)
    member, stranger = make_member(coop), make_member(coop)
    registration = register(agreement, member, date(2024, 1, 1))
    services.generate_dues(agreement, date(2024, 1, 1), date(2024, 1, 1))
    due = db.session.scalar(select(Due).where(Due.registration_id == registration.id))
    values = {c: getattr(due, c) for c in ("cooperative_id", "agreement_id", "member_id",
                                            "registration_id", "terms_id", "due_date",
                                            "grace_until", "member_share_minor",
                                            "cooperative_share_minor", "created_at")}
    for wrong in ({"member_id": stranger.id}, {"agreement_id": make_agreement(coop).id},
                  {"period": date(2024, 2, 1), "registration_id": registration.id + 999}):
        row = {**values, "period": date(2024, 2, 1), **wrong}
        with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
            db.session.execute(sa.insert(Due), [row])
    row = {**values, "period": date(2024, 2, 1)}
    db.session.execute(sa.insert(Due), [row])  # the registration's own values are accepted
    assert due.member.id == member.id and due.registration.id == registration.id
    assert due.agreement.id == agreement.id
