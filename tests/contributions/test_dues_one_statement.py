"""On PostgreSQL, the dues of terms with third payers or a scale are written by one statement
(`services._insert_dues_and_shares`: the dues and their third parties' shares together, the
scale key found once per member and period as a set); SQLite runs the generic path (one
INSERT … SELECT for the dues, one for the shares, the scale key looked up per due). Both
must write the same rows: proven here on PostgreSQL by running each over the same data (the
first rolled back to a savepoint) — incomes and categories that change mid-run, several
declarations in one month, members who join or leave mid-way, coverage that ends, suspended
registrations, a family surcharge, credit applied to the new dues, amended terms, one member
per chunk — and (hypothesis) for any scale and history of declared incomes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from coopreg.agreements import families
from coopreg.agreements import services as agreement_services
from coopreg.agreements.models import (
    DependantStatus,
    Registration,
    RegistrationStatus,
    Scheme,
)
from coopreg.contributions import services
from coopreg.contributions.models import Due, DuePayerShare
from coopreg.core.models import utcnow
from coopreg.extensions import db
from coopreg.members import services as member_services
from coopreg.members.models import Member
from tests.contributions.helpers import make_agreement, make_member, receipt_input, register
from tests.contributions.test_scales import CCSS_SCALE, _pct, bracket

STATE = {"kind": "state", "name": "Estado", "share_percent": "20", "through_cooperative": False}
DONOR = {"kind": "third_party", "name": "Donante", "fixed_amount": "1000",
         "through_cooperative": True}
# an income scale with no floor (members with no income get no due), each row its own
# member's and state's shares, a donor's fixed amount after the state's
INCOME_SCALE = {**CCSS_SCALE, "floor": "", "payers": [STATE, DONOR]}
CATEGORIES = {"rule_kind": "category", "member_share_percent": "25", "schedule": "monthly",
              "due_day": 10, "grace_days": 5, "remittance_deadline_days": 15,
              "suspended_accrue": False, "payers": [STATE],
              "scale": "A;;16000;37.5;62.5\nB;;20000;30;70\nC;;24000"}


@pytest.fixture
def pg(ctx):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the one-statement path is PostgreSQL's (SQLite runs the generic one)")


@contextmanager
def _path(one_statement: bool) -> Iterator[list]:
    """Generate dues by the one statement or by the generic path; yields a list that counts
    the chunks the one statement wrote (to prove which path ran)."""
    original, insert = services._one_statement, services._insert_dues_and_shares
    calls: list = []

    def counted(*args, **kwargs):
        calls.append(args)
        return insert(*args, **kwargs)

    services._one_statement = lambda: one_statement
    services._insert_dues_and_shares = counted
    try:
        yield calls
    finally:
        services._one_statement, services._insert_dues_and_shares = original, insert


def _written(agreement) -> tuple[list, list]:
    """Every due of the agreement and every third party's share of them, by member and
    period (not by id: the two paths may number them in another order)."""
    dues = db.session.execute(
        select(Due.member_id, Due.period, Due.registration_id, Due.terms_id, Due.due_date,
               Due.grace_until, Due.member_share_minor, Due.cooperative_share_minor)
        .where(Due.cooperative_id == agreement.cooperative_id,
               Due.agreement_id == agreement.id)
        .order_by(Due.member_id, Due.period)).all()
    shares = db.session.execute(
        select(Due.member_id, Due.period, DuePayerShare.payer_id, DuePayerShare.amount_minor)
        .join(DuePayerShare, DuePayerShare.due_id == Due.id)
        .where(Due.cooperative_id == agreement.cooperative_id,
               Due.agreement_id == agreement.id)
        .order_by(Due.member_id, Due.period, DuePayerShare.payer_id)).all()
    return [tuple(r) for r in dues], [tuple(r) for r in shares]


def _both_ways(agreement, start: date, end: date, chunk_size: int = 50_000):
    """(what generate_dues returned, the rows it wrote) by the generic path and by the one
    statement, each from the same data: the first run is rolled back to a savepoint."""
    outcomes = []
    for one_statement in (False, True):
        savepoint = db.session.begin_nested()
        with _path(one_statement) as calls:
            result = services.generate_dues(agreement, start, end, chunk_size=chunk_size)
        outcomes.append((result.as_dict(), _written(agreement)))
        assert bool(calls) == one_statement
        savepoint.rollback()
    return outcomes


def _assert_same(agreement, start: date, end: date, chunk_size: int = 50_000) -> tuple:
    (generic_result, generic_rows), (one_result, one_rows) = _both_ways(agreement, start, end,
                                                                       chunk_size)
    assert one_rows == generic_rows
    assert one_result == generic_result
    # and once more for good: the one statement's run kept, then run again writes nothing
    with _path(True):
        first = services.generate_dues(agreement, start, end, chunk_size=chunk_size)
        again = services.generate_dues(agreement, start, end, chunk_size=chunk_size)
    assert first.created == len(one_rows[0]) and again.created == 0
    assert _written(agreement) == one_rows
    return one_result, one_rows


def _income_scale_members(coop, agreement) -> dict[str, Member]:
    people = {
        "none": make_member(coop, declared_income=""),  # no income, no floor: no due
        "low": make_member(coop, declared_income="250000"),
        "mid": make_member(coop, declared_income="800000"),
        "high": make_member(coop, declared_income="2000000"),
        "mover": make_member(coop, declared_income="500000", joined_on=date(2020, 1, 1)),
        "declared_late": make_member(coop, declared_income="", joined_on=date(2020, 1, 1)),
        "joins": make_member(coop, declared_income="700000", joined_on=date(2024, 3, 10)),
        "leaves": make_member(coop, declared_income="1600000"),
        "ends": make_member(coop, declared_income="900000"),
        "suspended": make_member(coop, declared_income="650000"),
    }
    for name, member in people.items():
        registration = register(
            agreement, member, date(2024, 1, 1),
            coverage_end=date(2024, 2, 28) if name == "ends" else None,
            status=RegistrationStatus.SUSPENDED if name == "suspended"
            else RegistrationStatus.REGISTERED)
        if name == "suspended":
            registration.status_changed_at = utcnow().replace(year=2024, month=2, day=15)
    db.session.get(Member, people["leaves"].id).left_on = date(2024, 3, 20)
    mover = people["mover"]
    # history: before the run, mid-month (from the next period), two in one month, after it
    for day, income in ((date(2023, 6, 1), "550000"), (date(2024, 2, 15), "2000000"),
                        (date(2024, 4, 1), "700000"), (date(2024, 4, 20), "100"),
                        (date(2024, 5, 1), "1600000"), (date(2024, 9, 1), "3000000")):
        member_services.declare_income(mover, income, day, None, today=date(2024, 12, 31))
    member_services.declare_income(people["declared_late"], "1000000", date(2024, 3, 1), None,
                                   today=date(2024, 12, 31))
    db.session.flush()
    return people


def test_an_income_scale_one_statement_equals_the_generic_path(pg, coop):
    agreement = make_agreement(coop, INCOME_SCALE)
    people = _income_scale_members(coop, agreement)
    # the spouse of `mid` costs a surcharge from March; `mid` has credit to apply
    scheme = db.session.get(Scheme, families.scheme_ids_of(agreement)[0])
    families.set_family_rule(scheme, "spouse", surcharge="2500")
    spouse = member_services.add_dependant(people["mid"], "Ana Pérez", "spouse",
                                           date(1990, 1, 1), None, today=date(2024, 1, 1))
    registration = db.session.scalar(select(Registration).where(
        Registration.cooperative_id == agreement.cooperative_id,
        Registration.agreement_id == agreement.id,
        Registration.member_id == people["mid"].id))
    enrolled = families.enrol_dependant(registration, spouse, today=date(2024, 1, 1))
    families.transition_dependant(enrolled, DependantStatus.SUBMITTED)
    families.transition_dependant(enrolled, DependantStatus.REGISTERED,
                                  coverage_start=date(2024, 3, 5))
    services.record_receipt(coop, receipt_input(people["mid"], "50000",
                                                received_on=date(2023, 12, 20)), None,
                            today=date(2024, 1, 5))
    result, (dues, shares) = _assert_same(agreement, date(2024, 1, 1), date(2024, 6, 1))
    assert result["missing_income"] == [people["none"].member_number]
    assert result["credit_applied_to"] == 1
    assert len(shares) == 2 * len(dues)  # the state's and the donor's, on every due
    by_member = {}
    for member_id, period, *_rest in dues:
        by_member.setdefault(member_id, []).append(period.month)
    assert by_member[people["joins"].id] == [3, 4, 5, 6]
    assert by_member[people["leaves"].id] == [1, 2, 3]
    assert by_member[people["ends"].id] == [1, 2]
    # no declaration before March: those months fall back on the member's declared income,
    # which the March declaration set (as the generic path's look-up does)
    assert by_member[people["declared_late"].id] == [1, 2, 3, 4, 5, 6]
    assert by_member[people["suspended"].id] == [1, 2, 3, 4, 5, 6]  # the terms accrue
    mover = {period.month: member for member_id, period, *_x, member, _c in dues
             if member_id == people["mover"].id}
    # 550,000 (A: 10 % = 55,000.00, member 40 %) until 2,000,000 from March (declared on
    # 15 February; C: 13 %, 80 %), 700,000 in April (B: 11.5 %, 60 %); the 100.00 declared
    # on 20 April is in force for no period's first day: 1,600,000 from 1 May (C)
    assert mover == {1: 2_200_000, 2: 2_200_000, 3: 20_800_000, 4: 4_830_000,
                     5: 16_640_000, 6: 16_640_000}


def test_one_member_per_chunk_and_amended_terms(pg, coop):
    agreement = make_agreement(coop, INCOME_SCALE)
    people = _income_scale_members(coop, agreement)
    agreement_services.amend_terms(agreement, {
        **INCOME_SCALE, "effective_from": date(2024, 4, 1),
        "scale": "A; 0; 9%; 30; 60\nB; 1000000; 12%"}, None)
    result, (dues, _shares) = _assert_same(agreement, date(2024, 1, 1), date(2024, 6, 1),
                                           chunk_size=1)
    assert {terms_id for *_x, terms_id, _d, _g, _m, _c in dues} == {
        t.id for t in agreement.terms}
    assert result["missing_income"] == [people["none"].member_number]


def test_a_category_scale_one_statement_equals_the_generic_path(pg, coop):
    agreement = make_agreement(coop, CATEGORIES)
    placed, moved, late, unplaced, suspended = (make_member(coop) for _ in range(5))
    for member in (placed, moved, late, unplaced):
        register(agreement, member, date(2024, 1, 1))
    registration = register(agreement, suspended, date(2024, 1, 1),
                            status=RegistrationStatus.SUSPENDED)
    registration.status_changed_at = utcnow().replace(year=2024, month=2, day=15)
    for member, code, day in ((placed, "A", date(2024, 1, 1)), (moved, "B", date(2023, 1, 1)),
                              (moved, "C", date(2024, 2, 15)), (moved, "A", date(2024, 4, 1)),
                              (late, "B", date(2024, 3, 1)), (suspended, "C", date(2024, 1, 1))):
        agreement_services.place_in_category(agreement, member, code, day, None)
    result, (dues, shares) = _assert_same(agreement, date(2024, 1, 1), date(2024, 5, 1))
    assert result["unplaced"] == sorted([unplaced.member_number, late.member_number])
    months = {}
    for member_id, period, *_rest in dues:
        months.setdefault(member_id, []).append(period.month)
    assert months[late.id] == [3, 4, 5]
    assert months[suspended.id] == [1, 2]  # these terms stop dues once suspended
    assert unplaced.id not in months and len(shares) == len(dues)


@pytest.mark.parametrize("terms", [
    {"rule_kind": "flat", "flat_amount": "1000", "member_share_percent": "40",
     "schedule": "monthly", "due_day": 10, "grace_days": 5, "remittance_deadline_days": 15,
     "payers": [STATE]},
    {"rule_kind": "rate", "rate_percent": "10.5", "floor": "", "ceiling": "2000000",
     "member_share_percent": "40", "schedule": "seasonal", "due_months": [11, 12, 1, 2],
     "due_day": 15, "grace_days": 10, "remittance_deadline_days": 20,
     "payers": [STATE, DONOR]},
    {**CCSS_SCALE, "payers": [],  # a scale with no third party: no share rows at all
     "scale": "A; 0; 10%; 40\nB; 600000; 11.5%; 60\nC; 1500000; 13%; 80"},
], ids=["flat", "rate", "scale-without-payers"])
def test_other_terms_one_statement_equals_the_generic_path(pg, coop, terms):
    agreement = make_agreement(coop, terms)
    _income_scale_members(coop, agreement)
    _assert_same(agreement, date(2023, 11, 1), date(2024, 6, 1), chunk_size=7)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rows=st.lists(bracket, min_size=1, max_size=4, unique_by=lambda r: r[0]),
       floor=st.one_of(st.none(), st.integers(0, 1_000_000_00)),
       incomes=st.lists(st.one_of(st.none(), st.integers(0, 4_000_000_00)), min_size=1,
                        max_size=3),
       declarations=st.lists(st.tuples(st.integers(0, 2), st.dates(date(2023, 10, 1),
                                                                   date(2024, 5, 31)),
                                       st.integers(0, 4_000_000_00)), max_size=6))
def test_any_scale_and_declarations_one_statement_equals_the_generic_path(
        pg, coop, rows, floor, incomes, declarations):
    rows = sorted(rows)
    rows[0] = (0, *rows[0][1:])
    lines = []
    for i, (start, (rate, amount), member_bp, state_bp) in enumerate(rows):
        value = f"{rate / 100:.2f}%" if rate is not None else f"{amount / 100:.2f}"
        lines.append(f"R{i}; {start / 100:.2f}; {value}; {_pct(member_bp)}; {_pct(state_bp)}")
    agreement = make_agreement(coop, {
        **INCOME_SCALE, "floor": "" if floor is None else f"{floor / 100:.2f}",
        "scale": "\n".join(lines)})
    members = []
    for income in incomes:
        member = make_member(coop, declared_income="" if income is None
                             else f"{income / 100:.2f}", joined_on=date(2020, 1, 1))
        register(agreement, member, date(2024, 1, 1))
        members.append(member)
    declared = set()
    for which, day, income in declarations:
        member = members[which % len(members)]
        if (member.id, day) not in declared:
            declared.add((member.id, day))
            member_services.declare_income(member, f"{income / 100:.2f}", day, None,
                                           today=date(2024, 12, 31))
    db.session.flush()
    _assert_same(agreement, date(2024, 1, 1), date(2024, 4, 1), chunk_size=4)
