"""The money core: dues generation, receipts and allocation, reversal, remittances, closed
periods and the append-only guards (ORM and database)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from coopreg.contributions import services
from coopreg.contributions.models import Allocation, Due, Receipt, RemittanceLine
from coopreg.cooperatives.models import Cooperative
from coopreg.core.errors import DomainError
from coopreg.extensions import db
from tests.contributions.helpers import (
    SEASONAL_RATE,
    make_agreement,
    make_member,
    receipt_input,
    register,
)

TODAY = date(2025, 1, 20)


def _coop(agreement):
    return db.session.get(Cooperative, agreement.cooperative_id)


def _dues(member, agreement=None):
    stmt = select(Due).where(Due.member_id == member.id)
    if agreement is not None:
        stmt = stmt.where(Due.agreement_id == agreement.id)
    return list(db.session.scalars(stmt.order_by(Due.period)))


def _paid(due):
    return db.session.scalar(select(func.coalesce(func.sum(Allocation.amount_minor), 0))
                             .where(Allocation.due_id == due.id))


@pytest.fixture
def setup(ctx, coop):
    agreement = make_agreement(coop)
    member = make_member(coop, joined_on=date(2020, 1, 1))
    register(agreement, member, date(2024, 1, 1))
    return agreement, member


def test_monthly_flat_dues_are_generated_once(setup):
    agreement, member = setup
    result = services.generate_dues(agreement, date(2024, 1, 1), date(2024, 6, 1))
    assert result.created == 6
    dues = _dues(member)
    assert [d.period for d in dues] == [date(2024, m, 1) for m in range(1, 7)]
    assert {(d.member_share_minor, d.cooperative_share_minor) for d in dues} == {(60000, 40000)}
    assert dues[0].due_date == date(2024, 1, 10) and dues[0].grace_until == date(2024, 1, 15)
    again = services.generate_dues(agreement, date(2024, 1, 1), date(2024, 6, 1))
    assert again.created == 0
    assert len(_dues(member)) == 6


def test_members_joining_or_leaving_mid_way_owe_only_their_months(ctx, coop):
    agreement = make_agreement(coop)
    late = make_member(coop, joined_on=date(2020, 1, 1))
    register(agreement, late, date(2024, 3, 15))  # coverage from mid-March
    leaver = make_member(coop, joined_on=date(2020, 1, 1))
    register(agreement, leaver, date(2024, 1, 1), coverage_end=date(2024, 2, 10))
    joiner = make_member(coop, joined_on=date(2024, 4, 2))
    register(agreement, joiner, date(2024, 1, 1))
    never = make_member(coop, joined_on=date(2020, 1, 1))
    register(agreement, never, None)  # not registered yet: no coverage, no dues
    services.generate_dues(agreement, date(2024, 1, 1), date(2024, 5, 1))
    assert [d.period.month for d in _dues(late)] == [3, 4, 5]
    assert [d.period.month for d in _dues(leaver)] == [1, 2]
    assert [d.period.month for d in _dues(joiner)] == [4, 5]
    assert _dues(never) == []


def test_seasonal_rate_dues_fall_in_the_season_with_floor_and_ceiling(ctx, coop):
    agreement = make_agreement(coop, SEASONAL_RATE)
    poor = make_member(coop, declared_income="100000")  # raised to the floor 300000
    rich = make_member(coop, declared_income="9000000")  # capped at 2500000
    for m in (poor, rich):
        register(agreement, m, date(2024, 1, 1))
    services.generate_dues(agreement, date(2024, 1, 1), date(2024, 12, 1))
    assert [d.period.month for d in _dues(poor)] == [1, 2, 11, 12]
    # 10 % × 300000 × 12/4 months = 90000; the member pays 60 %
    assert {d.member_share_minor for d in _dues(poor)} == {5400000}
    assert {d.cooperative_share_minor for d in _dues(poor)} == {3600000}
    assert {d.member_share_minor + d.cooperative_share_minor
            for d in _dues(rich)} == {75000000}


def test_receipt_pays_oldest_due_first_partial_then_credit(setup):
    agreement, member = setup
    services.generate_dues(agreement, date(2024, 1, 1), date(2024, 3, 1))
    cooperative = _coop(agreement)
    receipt, created = services.record_receipt(cooperative, receipt_input(member, "900"),
                                               None, today=TODAY)
    assert created and receipt.number == 1
    jan, feb, mar = _dues(member)
    assert (_paid(jan), _paid(feb), _paid(mar)) == (60000, 30000, 0)
    second, _ = services.record_receipt(cooperative, receipt_input(member, "2000"), None,
                                        today=TODAY)
    assert second.number == 2
    assert (_paid(jan), _paid(feb), _paid(mar)) == (60000, 60000, 60000)
    assert services.member_credit(member.id) == 290000 - 180000
    # credit pays the dues generated later
    result = services.generate_dues(agreement, date(2024, 4, 1), date(2024, 5, 1))
    assert result.credit_applied_to == 1
    apr, may = _dues(member)[3:]
    assert (_paid(apr), _paid(may)) == (60000, 50000)
    assert services.member_credit(member.id) == 0


def test_same_idempotency_key_records_one_receipt(setup):
    agreement, member = setup
    cooperative = _coop(agreement)
    data = receipt_input(member, "100", key="0f0e0d0c-aaaa-bbbb-cccc-000000000001")
    first, created = services.record_receipt(cooperative, data, None, today=TODAY)
    again, created_again = services.record_receipt(cooperative, data, None, today=TODAY)
    assert created and not created_again and again.id == first.id
    assert db.session.scalar(select(func.count()).select_from(Receipt)) == 1


def test_external_reference_is_unique_per_method(setup):
    agreement, member = setup
    cooperative = _coop(agreement)
    services.record_receipt(cooperative, receipt_input(
        member, "100", method="bank_transfer", external_reference="TRX-1"), None, today=TODAY)
    with pytest.raises(DomainError) as error:
        services.record_receipt(cooperative, receipt_input(
            member, "100", method="bank_transfer", external_reference="TRX-1"), None,
            today=TODAY)
    assert error.value.field == "external_reference"
    # the same reference under another method is another payment
    services.record_receipt(cooperative, receipt_input(
        member, "100", method="mobile_money", external_reference="TRX-1"), None, today=TODAY)


@pytest.mark.parametrize("amount,field", [("0", "amount"), ("-5", "amount"), ("1.234", "amount"),
                                          ("abc", "amount")])
def test_bad_amounts_are_refused(setup, amount, field):
    agreement, member = setup
    with pytest.raises(DomainError) as error:
        services.record_receipt(_coop(agreement), receipt_input(member, amount), None,
                                today=TODAY)
    assert error.value.field == field


def test_future_date_and_missing_member_are_refused(setup):
    agreement, member = setup
    with pytest.raises(DomainError):
        services.record_receipt(_coop(agreement), receipt_input(
            member, "10", received_on=date(2025, 2, 1)), None, today=TODAY)
    data = receipt_input(member, "10")
    data.member_id = None
    with pytest.raises(DomainError):
        services.record_receipt(_coop(agreement), data, None, today=TODAY)


def test_reversal_undoes_allocations_and_cannot_be_repeated(setup):
    agreement, member = setup
    services.generate_dues(agreement, date(2024, 1, 1), date(2024, 2, 1))
    cooperative = _coop(agreement)
    receipt, _ = services.record_receipt(cooperative, receipt_input(member, "1000"), None,
                                         today=TODAY)
    jan, feb = _dues(member)
    assert (_paid(jan), _paid(feb)) == (60000, 40000)
    services.reverse_receipt(receipt, "Counterfeit note", None)
    assert (_paid(jan), _paid(feb)) == (0, 0)
    assert services.member_credit(member.id) == 0
    with pytest.raises(DomainError):
        services.reverse_receipt(receipt, "Again", None)
    # the reversed receipt stays, with its number; the next one takes the next number
    nxt, _ = services.record_receipt(cooperative, receipt_input(member, "600"), None,
                                     today=TODAY)
    assert nxt.number == 2 and _paid(jan) == 60000


def test_reversal_gives_reopened_dues_to_other_credit(setup):
    agreement, member = setup
    services.generate_dues(agreement, date(2024, 1, 1), date(2024, 1, 1))
    cooperative = _coop(agreement)
    first, _ = services.record_receipt(cooperative, receipt_input(member, "600"), None,
                                       today=TODAY)
    services.record_receipt(cooperative, receipt_input(member, "600"), None, today=TODAY)
    assert services.member_credit(member.id) == 60000
    services.reverse_receipt(first, "Entered twice", None)
    (jan,) = _dues(member)
    assert _paid(jan) == 60000 and services.member_credit(member.id) == 0


def test_remittance_takes_fully_paid_dues_and_must_match(setup):
    agreement, member = setup
    other = make_member(agreement.cooperative, joined_on=date(2020, 1, 1))
    register(agreement, other, date(2024, 1, 1))
    services.generate_dues(agreement, date(2024, 1, 1), date(2024, 2, 1))
    cooperative = _coop(agreement)
    services.record_receipt(cooperative, receipt_input(member, "900"), None, today=TODAY)
    services.record_receipt(cooperative, receipt_input(other, "300"), None, today=TODAY)
    # January: member's due fully paid (600 + 400 from the cooperative); other's only partly
    assert services.remittable_total(agreement, date(2024, 1, 1)) == 100000
    with pytest.raises(DomainError) as error:
        services.record_remittance(agreement, date(2024, 1, 1), date(2024, 2, 5), "999",
                                   "TR-1", None, today=TODAY)
    assert error.value.field == "amount"
    remittance = services.record_remittance(agreement, date(2024, 1, 1), date(2024, 2, 5),
                                            "1000", "TR-1", None, today=TODAY)
    assert remittance.amount_minor == 100000
    lines = services.remittance_batch_lines(agreement, date(2024, 1, 1))
    assert len(lines) == 1 and lines[0]["member"].id == member.id
    assert lines[0]["total"] == Decimal("1000.00") and not lines[0]["adjustment"]
    assert services.remittance_total(agreement, date(2024, 1, 1)) == Decimal("1000.00")
    # twice the same period, or an earlier one, is refused
    with pytest.raises(DomainError):
        services.record_remittance(agreement, date(2024, 1, 1), date(2024, 2, 5), "1000",
                                   None, None, today=TODAY)
    # the receipt whose money was remitted cannot be reversed
    receipt = db.session.scalar(select(Receipt).where(Receipt.member_id == member.id))
    assert services.reversal_blockers(receipt)
    with pytest.raises(DomainError):
        services.reverse_receipt(receipt, "Too late", None)


def test_closed_period_late_payment_is_an_adjustment_of_the_next_remittance(setup):
    agreement, member = setup
    services.generate_dues(agreement, date(2024, 1, 1), date(2024, 1, 1))
    services.close_period(agreement, date(2024, 1, 1), None, today=TODAY)
    with pytest.raises(DomainError):
        services.close_period(agreement, date(2024, 1, 1), None, today=TODAY)
    with pytest.raises(DomainError):  # a month not over yet
        services.close_period(agreement, date(2025, 1, 1), None, today=TODAY)
    # generation never touches a closed period
    late = make_member(agreement.cooperative, joined_on=date(2020, 1, 1))
    register(agreement, late, date(2024, 1, 1))
    result = services.generate_dues(agreement, date(2024, 1, 1), date(2024, 2, 1))
    assert result.skipped_closed == [date(2024, 1, 1)]
    assert [d.period.month for d in _dues(late)] == [2]
    # no remittance for a closed period
    cooperative = _coop(agreement)
    services.record_receipt(cooperative, receipt_input(member, "1200"), None, today=TODAY)
    with pytest.raises(DomainError):
        services.record_remittance(agreement, date(2024, 1, 1), date(2024, 2, 5), "1000",
                                   None, None, today=TODAY)
    remittance = services.record_remittance(agreement, date(2024, 2, 1), date(2024, 3, 5),
                                            "2000", None, None, today=TODAY)
    lines = services.remittance_batch_lines(agreement, date(2024, 2, 1))
    assert [(line["period"], line["adjustment"]) for line in lines] == [
        (date(2024, 1, 1), True), (date(2024, 2, 1), False)]
    assert remittance.amount_minor == 200000


def test_acknowledgement_once_and_dated_after_sending(setup):
    agreement, member = setup
    services.generate_dues(agreement, date(2024, 1, 1), date(2024, 1, 1))
    services.record_receipt(_coop(agreement), receipt_input(member, "600"), None, today=TODAY)
    remittance = services.record_remittance(agreement, date(2024, 1, 1), date(2024, 2, 5),
                                            "1000", None, None, today=TODAY)
    with pytest.raises(DomainError):
        services.acknowledge_remittance(remittance, date(2024, 2, 1), "1000", None, None,
                                        today=TODAY)
    services.acknowledge_remittance(remittance, date(2024, 2, 20), "990", "ACK-1", None,
                                    today=TODAY)
    with pytest.raises(DomainError):
        services.acknowledge_remittance(remittance, date(2024, 2, 21), "1000", None, None,
                                        today=TODAY)


def test_orm_refuses_changing_or_deleting_money_rows(setup):
    agreement, member = setup
    receipt, _ = services.record_receipt(_coop(agreement), receipt_input(member, "10"), None,
                                         today=TODAY)
    receipt.amount_minor = 1
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("table", ["receipts", "allocations", "receipt_reversals", "dues",
                                   "remittances", "remittance_lines",
                                   "remittance_acknowledgements", "period_closes"])
def test_database_refuses_update_and_delete_of_money_rows(setup, table):
    agreement, member = setup
    services.generate_dues(agreement, date(2024, 1, 1), date(2024, 1, 1))
    receipt, _ = services.record_receipt(_coop(agreement), receipt_input(member, "700"), None,
                                         today=TODAY)
    remittance = services.record_remittance(agreement, date(2024, 1, 1), date(2024, 2, 5),
                                            "1000", None, None, today=TODAY)
    services.acknowledge_remittance(remittance, date(2024, 2, 20), "1000", None, None,
                                    today=TODAY)
    services.close_period(agreement, date(2024, 1, 1), None, today=TODAY)
    services.record_receipt(_coop(agreement), receipt_input(member, "5"), None, today=TODAY)
    last = db.session.scalar(select(Receipt).order_by(Receipt.id.desc()))
    services.reverse_receipt(last, "Test", None)
    assert db.session.scalar(sa.text(f"SELECT count(*) FROM {table}")) > 0
    for statement in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):
        with pytest.raises(sa.exc.DatabaseError), db.session.begin_nested():
            db.session.execute(sa.text(statement))
    assert db.session.scalar(select(func.count()).select_from(RemittanceLine)) == 1
    assert receipt.number == 1


def test_a_database_error_in_the_middle_of_dues_generation_leaves_nothing(ctx, coop,
                                                                          monkeypatch):
    from sqlalchemy.exc import OperationalError

    from coopreg.extensions import db

    agreement = make_agreement(coop)
    for n in range(5):
        register(agreement, make_member(coop, joined_on=date(2020, 1, 1),
                                        second_last_name=f"Fault{n}"), date(2024, 1, 1))
    real = services._insert_dues_chunk
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OperationalError("INSERT INTO dues", {}, Exception("disk I/O error"))
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "_insert_dues_chunk", failing)
    savepoint = db.session.begin_nested()
    with pytest.raises(OperationalError):  # one member's six months each time: the second fails
        services.generate_dues(agreement, date(2024, 1, 1), date(2024, 6, 1), chunk_size=6)
    savepoint.rollback()
    assert db.session.scalar(select(func.count()).select_from(Due)) == 0
    monkeypatch.setattr(services, "_insert_dues_chunk", real)
    result = services.generate_dues(agreement, date(2024, 1, 1), date(2024, 6, 1),
                                    chunk_size=6)
    assert result.created == 30


def test_a_database_error_while_allocating_a_receipt_leaves_nothing(setup, monkeypatch):
    from sqlalchemy.exc import OperationalError

    agreement, member = setup
    services.generate_dues(agreement, date(2024, 1, 1), date(2024, 3, 1))
    cooperative = db.session.get(Cooperative, member.cooperative_id)
    data = receipt_input(member, "1500")

    def failing(objects):
        raise OperationalError("INSERT INTO allocations", {}, Exception("server closed"))

    monkeypatch.setattr(db.session, "add_all", failing)
    savepoint = db.session.begin_nested()  # the request's unit of work
    with pytest.raises(OperationalError):
        services.record_receipt(cooperative, data, None)
    savepoint.rollback()
    monkeypatch.undo()
    assert db.session.scalar(select(func.count()).select_from(Receipt)) == 0
    assert db.session.scalar(select(func.count()).select_from(Allocation)) == 0
    receipt, created = services.record_receipt(cooperative, data, None)
    assert created and receipt.number == 1, "the retry succeeds and no number was lost"
    paid = db.session.scalar(select(func.sum(Allocation.amount_minor)))
    assert paid == 150000


def test_a_dues_run_is_its_last_month_alone_unless_told_to_reach_back(ctx, coop):
    agreement = make_agreement(db.session.get(Cooperative, coop.id),
                               valid_from=date(2024, 3, 15))
    assert services.dues_months(agreement, "", "2024-06") == (date(2024, 6, 1),
                                                              date(2024, 6, 1))
    assert services.dues_months(agreement, "", "2024-06", from_start=True) == (
        date(2024, 3, 1), date(2024, 6, 1))
    assert services.dues_months(agreement, "2024-05", "2024-05") == (date(2024, 5, 1),
                                                                     date(2024, 5, 1))
    with pytest.raises(DomainError, match="before the first") as refused:
        services.dues_months(agreement, "2024-07", "2024-06")
    assert refused.value.field == "through"
    with pytest.raises(DomainError) as unreadable:
        services.dues_months(agreement, "July", "2024-06")
    assert unreadable.value.field == "start"
