"""Payers (issue 17): third parties' shares of the dues, what they paid, each payer's column,
and whether suspended registrations accrue. Properties (hypothesis) for any terms and
payments: the payers' shares add up to the due to the minor unit; what is paid never exceeds
what is due per payer; the columns add up across payers; a reversal restores the previous
state exactly."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from coopreg.agreements import services as agreement_services
from coopreg.agreements.models import PayerKind, RegistrationStatus
from coopreg.agreements.services import due_shares_for, split_due
from coopreg.contributions import payers, services
from coopreg.contributions.models import Due, DuePayerShare, ThirdPartyPayment
from coopreg.core.audit import AuditEvent
from coopreg.core.errors import DomainError
from coopreg.core.models import utcnow
from coopreg.extensions import db
from tests.contributions.helpers import make_agreement, make_member, receipt_input, register

STATE_AND_DONOR = {"rule_kind": "rate", "rate_percent": "10.5", "floor": "300000",
                   "ceiling": "2000000", "member_share_percent": "40", "schedule": "monthly",
                   "due_day": 10, "grace_days": 5, "remittance_deadline_days": 15,
                   "payers": [{"kind": "state", "name": "Estado", "share_percent": "33.33",
                               "through_cooperative": False},
                              {"kind": "third_party", "name": "Municipalidad",
                               "fixed_amount": "1000", "through_cooperative": True}]}


# ---- split_due: the arithmetic ---------------------------------------------------------------

@settings(max_examples=500, deadline=None)
@given(total=st.integers(0, 10**15), member_bp=st.integers(0, 10_000),
       thirds=st.lists(st.one_of(st.tuples(st.integers(0, 10_000), st.none()),
                                 st.tuples(st.none(), st.integers(0, 10**15))), max_size=4))
def test_the_payers_shares_add_up_to_the_due_and_none_is_negative(total, member_bp, thirds):
    member, shares, cooperative = split_due(total, member_bp, thirds)
    assert member + sum(shares) + cooperative == total
    assert member >= 0 and cooperative >= 0 and all(s >= 0 for s in shares)
    # each third party gets what it asked for unless the due ran out
    left = total - member
    for (bp, fixed), share in zip(thirds, shares, strict=True):
        wanted = fixed if fixed is not None else agreement_services.half_up(total * bp, 10_000)
        assert share == min(wanted, left)
        left -= share


def test_a_due_split_by_hand():
    # 31,500.00 due: member 40 % = 12,600.00; state 33.33 % = 10,498.95; municipality a fixed
    # 1,000.00; the cooperative the rest: 7,401.05
    assert split_due(3_150_000, 4000, [(3333, None), (None, 100_000)]) == (
        1_260_000, [1_049_895, 100_000], 740_105)
    # percentages that round up past the due: the last payer gets only what is left
    assert split_due(1, 5000, [(5000, None)]) == (1, [0], 0)


# ---- generation ------------------------------------------------------------------------------

def _shares_written(agreement) -> dict:
    rows = db.session.execute(
        select(Due.member_id, Due.period, Due.member_share_minor, Due.cooperative_share_minor,
               DuePayerShare.payer_id, DuePayerShare.amount_minor)
        .outerjoin(DuePayerShare, DuePayerShare.due_id == Due.id)
        .where(Due.agreement_id == agreement.id))
    out: dict = {}
    for member_id, period, member, cooperative, payer_id, amount in rows:
        entry = out.setdefault((member_id, period), [member, {}, cooperative])
        if payer_id is not None:
            entry[1][payer_id] = amount
    return out


def test_generation_writes_each_third_partys_share_row_by_row(ctx, coop):
    agreement = make_agreement(coop, STATE_AND_DONOR)
    terms = agreement.terms[0]
    assert [(p.kind, p.name, p.through_cooperative) for p in terms.third_payers] == [
        (PayerKind.STATE, "Estado", False), (PayerKind.THIRD_PARTY, "Municipalidad", True)]
    members = [make_member(coop, declared_income=income)
               for income in ("100000", "1234567.89", "9000000", "")]
    for member in members:
        register(agreement, member, date(2024, 1, 1))
    result = services.generate_dues(agreement, date(2024, 1, 1), date(2024, 3, 1))
    assert result.created == 12
    written = _shares_written(agreement)
    for member in members:
        for month in (date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)):
            total, member_share, thirds, cooperative = due_shares_for(agreement, member, month)
            assert written[(member.id, month)] == [
                member_share, {p.id: s for p, s in zip(terms.third_payers, thirds,
                                                         strict=True)}, cooperative]
            assert member_share + sum(thirds) + cooperative == total
    # the member with no declared income is raised to the floor: 300,000 × 10.5 % = 31,500
    assert due_shares_for(agreement, members[3], date(2024, 1, 1)) == (
        3_150_000, 1_260_000, [1_049_895, 100_000], 740_105)
    count = db.session.scalar(select(func.count()).select_from(DuePayerShare))
    assert services.generate_dues(agreement, date(2024, 1, 1), date(2024, 4, 1)).created == 4
    assert db.session.scalar(select(func.count()).select_from(DuePayerShare)) == count + 8


def test_terms_refuse_payers_that_ask_for_more_than_the_whole(ctx, coop):
    too_much = {**STATE_AND_DONOR, "payers": [{"kind": "state", "name": "Estado",
                                               "share_percent": "60.01"}]}
    with pytest.raises(DomainError, match="100"):
        make_agreement(coop, too_much)
    both = {**STATE_AND_DONOR, "payers": [{"kind": "state", "name": "Estado",
                                           "share_percent": "10", "fixed_amount": "5"}]}
    with pytest.raises(DomainError, match="either"):
        make_agreement(coop, both)
    member = {**STATE_AND_DONOR, "payers": [{"kind": "member", "name": "X",
                                             "share_percent": "10"}]}
    with pytest.raises(DomainError):
        make_agreement(coop, member)


@pytest.mark.parametrize("accrue", [True, False])
def test_suspended_registrations_accrue_only_when_the_terms_say_so(ctx, coop, accrue):
    agreement = make_agreement(coop, {**STATE_AND_DONOR, "suspended_accrue": accrue})
    active, suspended = make_member(coop, declared_income="500000"), make_member(
        coop, declared_income="500000")
    register(agreement, active, date(2024, 1, 1))
    registration = register(agreement, suspended, date(2024, 1, 1),
                            status=RegistrationStatus.SUSPENDED)
    # suspended on 15 February: February is still owed, March on only if the terms say so
    registration.status_changed_at = utcnow().replace(year=2024, month=2, day=15)
    db.session.flush()
    services.generate_dues(agreement, date(2024, 1, 1), date(2024, 4, 1))
    months = set(db.session.scalars(select(Due.period).where(
        Due.agreement_id == agreement.id, Due.member_id == suspended.id)))
    expected = {date(2024, m, 1) for m in (1, 2, 3, 4)} if accrue else {
        date(2024, 1, 1), date(2024, 2, 1)}
    assert months == expected
    preview = services.preview_dues(agreement, date(2024, 1, 1), date(2024, 4, 1))
    assert preview.new_count == 0


# ---- third-party payments and the payers' columns ---------------------------------------------

def _agreement_with_dues(coop, terms=STATE_AND_DONOR, incomes=("500000", "1500000")):
    agreement = make_agreement(coop, terms)
    members = [make_member(coop, declared_income=i) for i in incomes]
    for member in members:
        register(agreement, member, date(2024, 1, 1))
    services.generate_dues(agreement, date(2024, 1, 1), date(2024, 2, 1))
    return agreement, members


def _state(agreement):
    return [(c.kind, c.name, c.due_minor, c.paid_minor, c.open_minor, c.receivable_minor)
            for c in payers.payer_columns(agreement, date(2024, 1, 1), today=date(2024, 6, 1))]


def test_a_third_partys_payment_is_recorded_audited_refused_above_what_it_owes_and_reversed(
        ctx, coop):
    agreement, members = _agreement_with_dues(coop)
    columns = {c.name: c for c in payers.payer_columns(agreement, date(2024, 1, 1),
                                                       today=date(2024, 6, 1))}
    state = columns["Estado"]
    # 500,000 × 10.5 % = 52,500 → state 17,498.25; 1,500,000 → 157,500 → 52,494.75
    assert state.due_minor == 1_749_825 + 5_249_475
    assert state.receivable_minor == state.due_minor  # past the grace date, nothing paid
    with pytest.raises(DomainError, match="cannot be more"):
        payers.record_third_party_payment(agreement, "Estado", date(2024, 1, 1),
                                          date(2024, 3, 1), "70000", "TR-1", None, None)
    with pytest.raises(DomainError, match="owes no share"):
        payers.record_third_party_payment(agreement, "Nadie", date(2024, 1, 1),
                                          date(2024, 3, 1), "1", "TR-1", None, None)
    with pytest.raises(DomainError, match="required"):
        payers.record_third_party_payment(agreement, "Estado", date(2024, 1, 1),
                                          date(2024, 3, 1), "1", "", None, None)
    before = _state(agreement)
    payment = payers.record_third_party_payment(agreement, "Estado", date(2024, 1, 1),
                                                date(2024, 3, 1), "60000", "TR-1", None, None)
    assert payment.through_cooperative is False  # the state pays the institution directly
    after = {c.name: c for c in payers.payer_columns(agreement, date(2024, 1, 1),
                                                     today=date(2024, 6, 1))}
    assert after["Estado"].paid_minor == 6_000_000
    assert after["Estado"].open_minor == state.due_minor - 6_000_000
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.entity == "third_party_payments")) == 1
    payers.reverse_third_party_payment(payment, "typed the wrong month", None)
    assert _state(agreement) == before
    with pytest.raises(DomainError, match="already reversed"):
        payers.reverse_third_party_payment(payment, "again", None)


# (member share bp, the third parties), incomes; then payments: (payer index, amount,
# reverse it afterwards?)
payer_terms = st.tuples(
    st.integers(0, 10_000),
    st.lists(st.one_of(st.tuples(st.integers(1, 5000), st.none()),
                       st.tuples(st.none(), st.integers(1, 5_000_000))), max_size=3))


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(shape=payer_terms, incomes=st.lists(st.integers(0, 5_000_000_00), min_size=1,
                                           max_size=3),
       payments=st.lists(st.tuples(st.integers(0, 2), st.integers(1, 10_000_000),
                                   st.booleans()), max_size=6),
       receipts=st.lists(st.integers(1, 50_000_000), max_size=3))
def test_columns_add_up_paid_never_exceeds_due_and_reversals_restore(ctx, coop, shape, incomes,
                                                                     payments, receipts):
    member_bp, thirds = shape
    thirds = [(bp, fixed) for bp, fixed in thirds]
    total_bp = member_bp
    kept = []
    for bp, fixed in thirds:  # terms refuse percentages above the whole
        if bp is not None and total_bp + bp > 10_000:
            continue
        total_bp += bp or 0
        kept.append((bp, fixed))
    terms = {"rule_kind": "rate", "rate_percent": "7", "floor": "", "ceiling": "",
             "member_share_percent": f"{member_bp / 100:.2f}", "schedule": "monthly",
             "due_day": 10, "grace_days": 5, "remittance_deadline_days": 15,
             "payers": [{"kind": "state" if i == 0 else "third_party", "name": f"P{i}",
                         "share_percent": None if bp is None else f"{bp / 100:.2f}",
                         "fixed_amount": None if fixed is None else f"{fixed / 100:.2f}"}
                        for i, (bp, fixed) in enumerate(kept)]}
    agreement, members = _agreement_with_dues(coop, terms, [f"{i / 100:.2f}" for i in incomes])
    for member, amount in zip(members, receipts, strict=False):
        services.record_receipt(coop, receipt_input(member, f"{amount / 100:.2f}",
                                                    received_on=date(2024, 3, 1)), None,
                                today=date(2024, 6, 1))
    month = date(2024, 1, 1)
    dues = db.session.scalars(select(Due).where(Due.agreement_id == agreement.id,
                                                Due.period == month)).all()
    whole = sum(due_shares_for(agreement, db.session.get(type(m), m.id), month)[0]
                for m in members)
    for payer_index, amount, reverse in payments:
        if not kept:
            break
        name = f"P{payer_index % len(kept)}"
        before = _state(agreement)
        column = next(c for c in payers.payer_columns(agreement, month) if c.name == name)
        try:
            payment = payers.record_third_party_payment(
                agreement, name, month, date(2024, 3, 1), f"{amount / 100:.2f}", "REF",
                None, None)
        except DomainError:
            assert amount > column.open_minor or column.open_minor == 0
            assert _state(agreement) == before
            continue
        assert amount <= column.open_minor
        if reverse:
            payers.reverse_third_party_payment(payment, "wrong", None)
            assert _state(agreement) == before
    columns = payers.payer_columns(agreement, month)
    assert sum(c.due_minor for c in columns) == whole == sum(
        d.member_share_minor + d.cooperative_share_minor for d in dues) + sum(
        db.session.scalars(select(DuePayerShare.amount_minor).where(
            DuePayerShare.due_id.in_([d.id for d in dues]))))
    for column in columns:
        assert 0 <= column.paid_minor <= column.due_minor
    paid = db.session.scalar(select(func.coalesce(func.sum(ThirdPartyPayment.amount_minor), 0))
                             .where(ThirdPartyPayment.agreement_id == agreement.id,
                                    ThirdPartyPayment.reversal == None))  # noqa: E711
    assert paid == sum(c.paid_minor for c in columns
                       if c.kind in (PayerKind.STATE, PayerKind.THIRD_PARTY))


def test_the_grace_date_makes_a_third_partys_open_share_a_receivable(ctx, coop):
    agreement, _members = _agreement_with_dues(coop)
    grace = db.session.scalar(select(func.max(Due.grace_until)).where(
        Due.agreement_id == agreement.id, Due.period == date(2024, 1, 1)))
    on_time = {c.name: c for c in payers.payer_columns(agreement, date(2024, 1, 1),
                                                       today=grace)}
    late = {c.name: c for c in payers.payer_columns(agreement, date(2024, 1, 1),
                                                    today=grace + timedelta(days=1))}
    assert on_time["Estado"].receivable_minor == 0
    assert late["Estado"].receivable_minor == late["Estado"].due_minor > 0
    assert late[None].receivable_minor == 0  # members are chased by the arrears list


def test_the_preview_shows_every_payers_share_and_generation_writes_exactly_that(ctx, coop):
    agreement = make_agreement(coop, STATE_AND_DONOR)
    for income in ("100000", "1234567.89"):
        register(agreement, make_member(coop, declared_income=income), date(2024, 1, 1))
    preview = services.preview_dues(agreement, date(2024, 1, 1), date(2024, 2, 1))
    assert preview.third_names == ["Estado", "Municipalidad"]
    january = preview.periods[0]
    # 31,500.00 (the floor) and 1,234,567.89 × 10.5 % = 129,629.63: the state's 33.33 % of
    # each, rounded half up: 10,498.95 and 43,205.56 (4,320,555.5679 minor units)
    assert january.new_third == {"Estado": 1_049_895 + 4_320_556,
                                 "Municipalidad": 200_000}
    assert any("Estado" in line for line in preview.lines("CRC"))
    services.generate_dues(agreement, date(2024, 1, 1), date(2024, 2, 1))
    again = services.preview_dues(agreement, date(2024, 1, 1), date(2024, 2, 1)).periods[0]
    assert again.new_count == 0
    assert again.existing_third == january.new_third
    assert again.existing_total_minor == january.new_total_minor
    assert (again.existing_member_minor, again.existing_cooperative_minor) == (
        january.new_member_minor, january.new_cooperative_minor)
