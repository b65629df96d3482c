"""Scales (issue 17): a contribution rule that is a table — income brackets (each with its
amount or rate and each payer's share; the CCSS independent-worker scale) or categories a
member is placed in (Monotributo's) — and the family surcharge a member pays for covered
dependants. Dues from a scale are written by the same set-based SQL; every due is checked
against the Python rule (`due_shares_for`), on hand-computed figures and on any scale
(hypothesis): the shares add up to the due, a declared income or a category moves a member
from a date, with history."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from coopreg.agreements import families
from coopreg.agreements import services as agreement_services
from coopreg.agreements.models import DependantStatus, PayerKind, RuleKind, Scheme
from coopreg.agreements.services import due_shares_for
from coopreg.contributions import payers, services
from coopreg.contributions.models import Due, DuePayerShare, ThirdPartyPayment
from coopreg.core.errors import DomainError
from coopreg.extensions import db
from coopreg.members import services as member_services
from coopreg.members.models import Member
from tests.contributions.helpers import make_agreement, make_member, receipt_input, register

# a CCSS-like independent-worker scale: three brackets of monthly income, a rate each, the
# state's share falling as income rises (the member's share rising), the state paying direct
CCSS_SCALE = {"rule_kind": "scale", "floor": "300000", "member_share_percent": "50",
              "schedule": "monthly", "due_day": 10, "grace_days": 5,
              "remittance_deadline_days": 15,
              "payers": [{"kind": "state", "name": "Estado", "share_percent": "20",
                          "through_cooperative": False}],
              "scale": "A; 0; 10%; 40; 50\nB; 600000; 11.5%; 60; 30\nC; 1500000; 13%; 80; 10"}


def _check_every_due(agreement) -> int:
    """Every due of the agreement equals the Python rule's split, its third-party rows
    included; returns how many dues there are."""
    dues = db.session.scalars(select(Due).where(Due.cooperative_id == agreement.cooperative_id,
                                                Due.agreement_id == agreement.id)).all()
    for due in dues:
        member = db.session.get(Member, due.member_id)
        total, member_share, thirds, cooperative_share = due_shares_for(agreement, member,
                                                                        due.period)
        rows = db.session.scalars(select(DuePayerShare.amount_minor)
                                  .where(DuePayerShare.due_id == due.id)
                                  .order_by(DuePayerShare.payer_id)).all()
        assert (due.member_share_minor, list(rows), due.cooperative_share_minor) == (
            member_share, thirds, cooperative_share), due
        assert member_share + sum(thirds) + cooperative_share == total
    return len(dues)


def test_brackets_by_hand_and_a_declared_income_moves_a_member_from_a_date(ctx, coop):
    agreement = make_agreement(coop, CCSS_SCALE)
    terms = agreement.terms[0]
    assert [(r.code, r.income_from_minor, r.rate_bp) for r in terms.scale_rows] == [
        ("A", 0, 1000), ("B", 60_000_000, 1150), ("C", 150_000_000, 1300)]
    low = make_member(coop, declared_income="")            # the floor: 300,000 → bracket A
    mid = make_member(coop, declared_income="800000")      # bracket B
    mover = make_member(coop, declared_income="500000", joined_on=date(2020, 1, 1))
    for member in (low, mid, mover):
        register(agreement, member, date(2024, 1, 1))
    # from March the mover declares 2,000,000: bracket C, from that period on
    member_services.declare_income(mover, "2000000", date(2024, 3, 1), None,
                                   today=date(2024, 6, 1))
    assert db.session.get(Member, mover.id).declared_income_minor == 200_000_000
    result = services.generate_dues(agreement, date(2024, 1, 1), date(2024, 4, 1))
    assert result.created == 12 and result.missing_income == []
    assert _check_every_due(agreement) == 12

    def shares(member, month):
        due = db.session.scalar(select(Due).where(Due.agreement_id == agreement.id,
                                                  Due.member_id == member.id,
                                                  Due.period == month))
        third = db.session.scalar(select(DuePayerShare.amount_minor)
                                  .where(DuePayerShare.due_id == due.id))
        return due.member_share_minor, third, due.cooperative_share_minor

    # low: 10 % of 300,000.00 = 30,000.00: member 40 % 12,000.00, state 50 % 15,000.00,
    # cooperative 3,000.00
    assert shares(low, date(2024, 1, 1)) == (1_200_000, 1_500_000, 300_000)
    # mid: 11.5 % of 800,000.00 = 92,000.00: member 60 % 55,200.00, state 30 % 27,600.00,
    # cooperative 9,200.00
    assert shares(mid, date(2024, 2, 1)) == (5_520_000, 2_760_000, 920_000)
    # mover in February: 10 % of 500,000.00 = 50,000.00 (A): 20,000 / 25,000 / 5,000
    assert shares(mover, date(2024, 2, 1)) == (2_000_000, 2_500_000, 500_000)
    # mover from March: 13 % of 2,000,000.00 = 260,000.00 (C): 80 % 208,000.00, state 10 %
    # 26,000.00, cooperative 26,000.00
    assert shares(mover, date(2024, 3, 1)) == (20_800_000, 2_600_000, 2_600_000)
    # the history: the income the mover had kept from the day they joined
    assert [(d.effective_from, d.income_minor)
            for d in member_services.income_history(mover)] == [
        (date(2020, 1, 1), 50_000_000), (date(2024, 3, 1), 200_000_000)]
    with pytest.raises(DomainError, match="already declared"):
        member_services.declare_income(mover, "1", date(2024, 3, 1), None)
    with pytest.raises(DomainError):
        member_services.declare_income(mover, "-5", date(2024, 4, 1), None)


def test_categories_placements_move_members_and_the_unplaced_are_named(ctx, coop):
    terms = {"rule_kind": "category", "member_share_percent": "25", "schedule": "monthly",
             "due_day": 10, "grace_days": 5, "remittance_deadline_days": 15,
             "payers": [{"kind": "state", "name": "Estado", "share_percent": "75",
                         "through_cooperative": False}],
             "scale": "A;;16000;37.5;62.5\nB;;20000;30;70\nC;;24000"}
    agreement = make_agreement(coop, terms)
    placed, moved, unplaced = (make_member(coop) for _ in range(3))
    for member in (placed, moved, unplaced):
        register(agreement, member, date(2024, 1, 1))
    agreement_services.place_in_category(agreement, placed, "a", date(2024, 1, 1), None)
    agreement_services.place_in_category(agreement, moved, "B", date(2024, 1, 1), None)
    agreement_services.place_in_category(agreement, moved, "C", date(2024, 2, 15), None)
    with pytest.raises(DomainError, match="categories"):
        agreement_services.place_in_category(agreement, moved, "Z", date(2024, 5, 1), None)
    with pytest.raises(DomainError, match="already has a category"):
        agreement_services.place_in_category(agreement, moved, "A", date(2024, 1, 1), None)
    preview = services.preview_dues(agreement, date(2024, 1, 1), date(2024, 3, 1))
    assert preview.unplaced == [unplaced.member_number]
    result = services.generate_dues(agreement, date(2024, 1, 1), date(2024, 3, 1))
    assert result.created == preview.new_count == 6
    assert result.unplaced == [unplaced.member_number]
    assert unplaced.member_number in result.summary()
    assert _check_every_due(agreement) == 6
    by_member = {(d.member_id, d.period): d for d in db.session.scalars(
        select(Due).where(Due.agreement_id == agreement.id))}
    # A: 16,000.00, member 37.5 % = 6,000.00, state 62.5 % = 10,000.00, cooperative 0
    assert by_member[placed.id, date(2024, 1, 1)].member_share_minor == 600_000
    assert by_member[placed.id, date(2024, 1, 1)].cooperative_share_minor == 0
    # moved: B in January and February (placed in C from the 15th: from March), then C:
    # 24,000.00 with the terms' shares, member 25 % = 6,000.00
    assert by_member[moved.id, date(2024, 2, 1)].member_share_minor == 600_000
    assert by_member[moved.id, date(2024, 3, 1)].member_share_minor == 600_000
    c_state = db.session.scalar(select(DuePayerShare.amount_minor).where(
        DuePayerShare.due_id == by_member[moved.id, date(2024, 3, 1)].id))
    assert c_state == 1_800_000
    # the preview's totals are what was written
    assert preview.total("new_member_minor") == sum(d.member_share_minor
                                                   for d in by_member.values())


@pytest.mark.parametrize("scale, message", [
    ("", "at least one"),
    ("A; 100; 5%", "starts at an income of 0"),
    ("A; 0; 5%\nB; 0; 6%", "same income"),
    ("A; 0; 5%\nA; 10; 6%", "twice"),
    ("A; 0", "3 to 6 fields"),
    ("A; 0; 5%; 90; 20", "more than 100"),
    ("A; 0; 5%; 50; 10; 10", "payer the terms do not name"),
    ("A; 0; lots", "Line 1"),
])
def test_a_wrong_scale_is_refused_with_its_line(ctx, coop, scale, message):
    terms = {**CCSS_SCALE, "payers": [CCSS_SCALE["payers"][0]], "scale": scale}
    with pytest.raises(DomainError, match=message) as refused:
        make_agreement(coop, terms)
    assert refused.value.field == "scale"


def test_a_category_is_an_amount_not_a_rate(ctx, coop):
    with pytest.raises(DomainError, match="not a rate"):
        make_agreement(coop, {**CCSS_SCALE, "rule_kind": "category", "scale": "A;;5%"})


def test_scale_text_reads_back_as_typed(ctx, coop):
    agreement = make_agreement(coop, CCSS_SCALE)
    text = agreement_services.scale_text(agreement.terms[0], "CRC")
    assert text == "A; 0; 10%; 40; 50\nB; 600000; 11.5%; 60; 30\nC; 1500000; 13%; 80; 10"
    # an amendment names its rows again; the earlier terms keep theirs
    agreement_services.amend_terms(agreement, {**CCSS_SCALE, "effective_from": date(2025, 1, 1),
                                               "scale": "A; 0; 9%"}, None)
    assert [len(t.scale_rows) for t in agreement.terms] == [3, 1]


def test_a_family_surcharge_is_the_members_and_in_the_due(ctx, coop):
    agreement = make_agreement(coop)  # flat, member 60 %
    scheme = db.session.get(Scheme, families.scheme_ids_of(agreement)[0])
    families.set_family_rule(scheme, "spouse", surcharge="2500")
    families.set_family_rule(scheme, "child", max_age=18)  # free
    member = make_member(coop)
    registration = register(agreement, member, date(2024, 1, 1))
    spouse = member_services.add_dependant(member, "Ana Pérez", "spouse", date(1990, 1, 1),
                                           None, today=date(2024, 1, 1))
    child = member_services.add_dependant(member, "Luis Pérez", "child", date(2015, 1, 1),
                                          None, today=date(2024, 1, 1))
    for dependant in (spouse, child):
        enrolled = families.enrol_dependant(registration, dependant, today=date(2024, 1, 1))
        families.transition_dependant(enrolled, DependantStatus.SUBMITTED)
        families.transition_dependant(enrolled, DependantStatus.REGISTERED,
                                      coverage_start=date(2024, 2, 10))
    preview = services.preview_dues(agreement, date(2024, 1, 1), date(2024, 3, 1))
    services.generate_dues(agreement, date(2024, 1, 1), date(2024, 3, 1))
    dues = {d.period: d for d in db.session.scalars(select(Due).where(
        Due.agreement_id == agreement.id))}
    flat = agreement.terms[0].flat_amount_minor
    member_part = agreement_services.member_share_minor(flat, agreement.terms[0].member_share_bp)
    # January: no dependant covered yet; from February the spouse costs 2,500.00 (the child
    # is free), on the member's share only
    assert dues[date(2024, 1, 1)].member_share_minor == member_part
    assert dues[date(2024, 2, 1)].member_share_minor == member_part + 250_000
    assert dues[date(2024, 2, 1)].cooperative_share_minor == flat - member_part
    assert _check_every_due(agreement) == 3
    assert preview.total("new_member_minor") == sum(d.member_share_minor
                                                   for d in dues.values())
    # the member's receipt pays it: the surcharge is part of what the member owes
    services.record_receipt(coop, receipt_input(member, "100000", received_on=date(2024, 3, 2)),
                            None, today=date(2024, 3, 5))
    paid = [services.due_open_minor(d) for d in dues.values()]
    assert paid == [0, 0, 0]
    columns = {c.kind: c for c in payers.payer_columns(agreement, date(2024, 2, 1))}
    assert columns[PayerKind.MEMBER].due_minor == member_part + 250_000


# ---- any scale: SQL = Python, shares add up, columns add up, reversals restore -------------

bracket = st.tuples(st.integers(0, 3_000_000_00),  # income from
                    st.one_of(st.tuples(st.integers(1, 2500), st.none()),  # a rate, bp
                              st.tuples(st.none(), st.integers(1, 10_000_000))),  # an amount
                    st.one_of(st.none(), st.integers(0, 6000)),  # the row's member share
                    st.one_of(st.none(), st.integers(0, 4000)))  # the row's state share


def _pct(bp: int | None) -> str:
    return "" if bp is None else f"{bp / 100:.2f}"


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rows=st.lists(bracket, min_size=1, max_size=5, unique_by=lambda r: r[0]),
       floor=st.one_of(st.none(), st.integers(0, 1_000_000_00)),
       incomes=st.lists(st.one_of(st.none(), st.integers(0, 4_000_000_00)), min_size=1,
                        max_size=4),
       change=st.one_of(st.none(), st.integers(0, 4_000_000_00)),
       payment=st.integers(1, 5_000_000), receipt=st.integers(1, 50_000_000))
def test_any_scale_sql_equals_python_and_the_columns_add_up(ctx, coop, rows, floor, incomes,
                                                            change, payment, receipt):
    rows = sorted(rows)
    rows[0] = (0, *rows[0][1:])
    lines = []
    for i, (start, (rate, amount), member_bp, state_bp) in enumerate(rows):
        value = f"{rate / 100:.2f}%" if rate is not None else f"{amount / 100:.2f}"
        lines.append(f"R{i}; {start / 100:.2f}; {value}; {_pct(member_bp)}; {_pct(state_bp)}")
    terms = {**CCSS_SCALE, "floor": "" if floor is None else f"{floor / 100:.2f}",
             "member_share_percent": "50", "scale": "\n".join(lines),
             "payers": [{"kind": "state", "name": "Estado", "fixed_amount": "1000",
                         "through_cooperative": True}]}
    agreement = make_agreement(coop, terms)
    members = []
    for income in incomes:
        member = make_member(coop, declared_income="" if income is None
                             else f"{income / 100:.2f}", joined_on=date(2020, 1, 1))
        register(agreement, member, date(2024, 1, 1))
        members.append(member)
    if change is not None:
        member_services.declare_income(members[0], f"{change / 100:.2f}", date(2024, 2, 1),
                                       None, today=date(2024, 6, 1))
    preview = services.preview_dues(agreement, date(2024, 1, 1), date(2024, 3, 1))
    result = services.generate_dues(agreement, date(2024, 1, 1), date(2024, 3, 1))
    assert result.created == preview.new_count
    assert _check_every_due(agreement) == result.created
    month = date(2024, 2, 1)
    services.record_receipt(coop, receipt_input(members[0], f"{receipt / 100:.2f}",
                                                received_on=date(2024, 3, 1)), None,
                            today=date(2024, 6, 1))
    column = next((c for c in payers.payer_columns(agreement, month) if c.name == "Estado"),
                  None)
    try:
        recorded = payers.record_third_party_payment(agreement, "Estado", month,
                                                     date(2024, 3, 1), f"{payment / 100:.2f}",
                                                     "REF", None, None)
    except DomainError:  # above what the state still owes, or it owes nothing that month
        assert column is None or payment > column.open_minor
    else:
        before = [(c.name, c.due_minor, c.paid_minor) for c in payers.payer_columns(
            agreement, month)]
        payers.reverse_third_party_payment(recorded, "wrong", None)
        after_reversal = payers.payer_columns(agreement, month)
        assert next(c for c in after_reversal if c.name == "Estado").paid_minor == 0
        assert [(c.name, c.due_minor) for c in after_reversal] == [(n, d) for n, d, _ in before]
    dues = db.session.scalars(select(Due).where(Due.agreement_id == agreement.id,
                                                Due.period == month)).all()
    columns = payers.payer_columns(agreement, month)
    assert sum(c.due_minor for c in columns) == sum(
        d.member_share_minor + d.cooperative_share_minor for d in dues) + sum(
        db.session.scalars(select(DuePayerShare.amount_minor).where(
            DuePayerShare.due_id.in_([d.id for d in dues]))))
    for c in columns:
        assert 0 <= c.paid_minor <= c.due_minor
    assert db.session.scalar(select(func.count()).select_from(ThirdPartyPayment)
                             .where(ThirdPartyPayment.agreement_id == agreement.id)) <= 1
    assert agreement.terms[0].rule_kind == RuleKind.SCALE


def test_scale_rows_placements_and_incomes_are_never_changed(ctx, coop):
    agreement = make_agreement(coop, {**CCSS_SCALE, "rule_kind": "category",
                                      "scale": "A;;100\nB;;200"})
    member = make_member(coop, declared_income="1000")
    register(agreement, member, date(2024, 1, 1))
    placement = agreement_services.place_in_category(agreement, member, "A",
                                                     date(2024, 1, 1), None)
    declaration = member_services.declare_income(member, "2000", date(2024, 2, 1), None)
    row = agreement.terms[0].scale_rows[0]
    for changed, column, value in ((row, "amount_minor", 1), (placement, "code", "B"),
                                   (declaration, "income_minor", 1)):
        with pytest.raises(RuntimeError, match="amendments"), db.session.begin_nested():
            setattr(changed, column, value)
            db.session.flush()
