"""Property tests of the money invariants: a rule-based state machine receives, allocates,
reverses, generates dues, remits, closes periods and exports, and after every step checks that
- allocations never exceed their receipt, and a reversed receipt keeps nothing;
- a due is never over-paid (0 ≤ paid, paid + written off ≤ member share);
- every member's money is on their dues up to what they owe, the rest is credit:
  allocated = min(received, due − written off), balance = dues − allocations − written off,
  credit = received − allocated;
- a reversal right after a receipt restores the state before it;
- remitted dues are fully paid (remitted ≤ collected), and a remittance equals its lines;
- closed periods do not change;
- each due's running figures (`due_totals`, kept by triggers) equal the sums of its
  allocations and write-offs recomputed from the money rows, and so do each period's and the
  cooperative's running totals (`period_totals`, `credit_totals`): the reconciliation and
  the remittance form read from them equal what the money rows add up to;
- totals in the exports equal the ledger's, to the cent.
Each example runs in a savepoint rolled back at its end, so examples never see each other."""

from __future__ import annotations

import io
import uuid
from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from openpyxl import load_workbook
from sqlalchemy import func, select

from coopreg.contributions import reports, services
from coopreg.contributions.models import (
    Allocation,
    Due,
    DueTotal,
    DueWriteOff,
    PeriodClose,
    Receipt,
    ReceiptReversal,
    Remittance,
    RemittanceLine,
)
from coopreg.cooperatives.models import Cooperative
from coopreg.core.errors import DomainError
from coopreg.extensions import db
from tests.contributions.helpers import make_agreement, make_member, register
from tests.contributions.recompute import assert_totals_hold

TODAY = date(2025, 1, 20)
MONTHS = [date(2024, m, 1) for m in range(1, 13)]


def _sum(stmt) -> int:
    return int(db.session.scalar(stmt) or 0)


class Ledger(RuleBasedStateMachine):
    cooperative_id: int = 0

    def __init__(self):
        super().__init__()
        self.savepoint = db.session.begin_nested()
        self.cooperative = db.session.get(Cooperative, self.cooperative_id)
        self.agreement = make_agreement(self.cooperative)
        self.members = []
        for coverage_start, coverage_end in ((date(2024, 1, 1), None),
                                             (date(2024, 3, 10), None),
                                             (date(2024, 1, 1), date(2024, 5, 31))):
            member = make_member(self.cooperative, joined_on=date(2020, 1, 1))
            register(self.agreement, member, coverage_start, coverage_end)
            self.members.append(member)
        self.generated_through = -1  # index in MONTHS
        self.receipts: list[int] = []
        self.closed: dict[date, tuple] = {}

    def teardown(self):
        self.savepoint.rollback()
        db.session.expire_all()

    # ---- helpers -------------------------------------------------------------------------

    def snapshot(self):
        paid = dict(db.session.execute(select(Allocation.due_id, func.sum(
            Allocation.amount_minor)).group_by(Allocation.due_id)).all())
        credits = {m.id: services.member_credit(m.id) for m in self.members}
        return {k: v for k, v in paid.items() if v}, credits

    def period_state(self, period: date):
        dues = db.session.execute(select(Due.id, Due.member_share_minor,
                                         Due.cooperative_share_minor)
                                  .where(Due.agreement_id == self.agreement.id,
                                         Due.period == period).order_by(Due.id)).all()
        remittance = db.session.execute(select(Remittance.id, Remittance.amount_minor).where(
            Remittance.agreement_id == self.agreement.id, Remittance.period == period)).all()
        return tuple(dues), tuple(remittance)

    def receive_now(self, member_index: int, minor: int) -> Receipt:
        member = self.members[member_index]
        receipt, created = services.record_receipt(
            self.cooperative, services.ReceiptInput(
                member_id=member.id, received_on=date(2024, 12, 31),
                amount=Decimal(minor).scaleb(-2), method="cash",
                idempotency_key=str(uuid.uuid4())), None, today=TODAY)
        assert created
        return receipt

    # ---- rules ---------------------------------------------------------------------------

    @precondition(lambda self: self.generated_through < len(MONTHS) - 1)
    @rule(months=st.integers(1, 4))
    def generate_dues(self, months):
        start = self.generated_through + 1
        end = min(start + months - 1, len(MONTHS) - 1)
        services.generate_dues(self.agreement, MONTHS[start], MONTHS[end])
        self.generated_through = end
        # running it again creates nothing
        assert services.generate_dues(self.agreement, MONTHS[0], MONTHS[end]).created == 0

    @rule(member=st.integers(0, 2), minor=st.integers(1, 150_000))
    def receive(self, member, minor):
        self.receipts.append(self.receive_now(member, minor).id)

    @rule(member=st.integers(0, 2), minor=st.integers(1, 150_000))
    def receive_and_reverse(self, member, minor):
        before = self.snapshot()
        receipt = self.receive_now(member, minor)
        services.reverse_receipt(receipt, "Recorded by mistake", None)
        assert self.snapshot() == before

    @precondition(lambda self: self.receipts)
    @rule(pick=st.integers(0, 1000))
    def reverse(self, pick):
        receipt = db.session.get(Receipt, self.receipts[pick % len(self.receipts)])
        if services.reversal_blockers(receipt):
            try:
                with db.session.begin_nested():
                    services.reverse_receipt(receipt, "Bounced", None)
                raise AssertionError("a blocked reversal went through")
            except DomainError:
                return
        services.reverse_receipt(receipt, "Bounced", None)

    @rule(member=st.integers(0, 2))
    def allocate(self, member):
        # credit is always applied already: allocating again finds nothing to do
        chosen = self.members[member]
        assert services.allocate_credit(chosen.id, chosen.cooperative_id) == []

    @precondition(lambda self: self.generated_through >= 0)
    @rule(pick=st.integers(0, 1000))
    def write_off(self, pick):
        dues = db.session.scalars(select(Due).where(Due.agreement_id == self.agreement.id)
                                  .order_by(Due.id)).all()
        if not dues:
            return
        due = dues[pick % len(dues)]
        if services.due_write_off(due) is not None or services.due_open_minor(due) <= 0:
            try:
                with db.session.begin_nested():
                    services.write_off_due(due, "Never to be paid", None)
                raise AssertionError("a write-off of nothing went through")
            except DomainError:
                return
        open_minor = services.due_open_minor(due)
        assert services.write_off_due(due, "Never to be paid", None).amount_minor == open_minor
        assert services.due_open_minor(due) == 0

    @precondition(lambda self: self.generated_through >= 0)
    @rule(pick=st.integers(0, 11))
    def remit(self, pick):
        period = MONTHS[pick % (self.generated_through + 1)]
        expected = services.remittable_total(self.agreement, period)
        try:
            with db.session.begin_nested():
                remittance = services.record_remittance(
                    self.agreement, period, date(2025, 1, 5),
                    Decimal(expected).scaleb(-2) if expected else "1", None, None,
                    today=TODAY)
        except DomainError:
            return
        lines = services.remittance_batch_lines(self.agreement, period)
        assert sum(line["total"] for line in lines) == Decimal(
            remittance.amount_minor).scaleb(-2)
        assert services.remittance_total(self.agreement, period) == sum(
            line["total"] for line in lines)

    @precondition(lambda self: self.generated_through >= 0)
    @rule(pick=st.integers(0, 11))
    def close(self, pick):
        period = MONTHS[pick % (self.generated_through + 1)]
        if period in self.closed:
            return
        services.close_period(self.agreement, period, None, today=TODAY)
        self.closed[period] = self.period_state(period)

    @rule(min_days=st.integers(0, 200))
    def export_arrears(self, min_days):
        data = reports.arrears_workbook(self.cooperative.id, "CRC", min_days=min_days,
                                        today=TODAY)
        _count, ledger_total = reports.arrears_totals(self.cooperative.id, min_days=min_days,
                                                      today=TODAY)
        sheet = load_workbook(io.BytesIO(data), read_only=True)["Arrears"]
        exported = sum((Decimal(str(row[6])) for row in sheet.iter_rows(min_row=2,
                                                                       values_only=True)
                        if row[6] is not None), Decimal(0))
        assert exported == Decimal(ledger_total).scaleb(-2)

    # ---- invariants ----------------------------------------------------------------------

    @invariant()
    def allocations_never_exceed_their_receipt(self):
        rows = db.session.execute(
            select(Receipt.id, Receipt.amount_minor,
                   func.coalesce(func.sum(Allocation.amount_minor), 0),
                   func.count(ReceiptReversal.id.distinct()))
            .outerjoin(Allocation, Allocation.receipt_id == Receipt.id)
            .outerjoin(ReceiptReversal, ReceiptReversal.receipt_id == Receipt.id)
            .where(Receipt.cooperative_id == self.cooperative.id)
            .group_by(Receipt.id, Receipt.amount_minor)).all()
        for _id, amount, allocated, reversed_ in rows:
            assert 0 <= allocated <= amount
            if reversed_:
                assert allocated == 0

    @invariant()
    def no_due_is_over_paid(self):
        rows = db.session.execute(
            select(Due.member_share_minor, func.coalesce(func.sum(Allocation.amount_minor), 0))
            .outerjoin(Allocation, Allocation.due_id == Due.id)
            .where(Due.cooperative_id == self.cooperative.id)
            .group_by(Due.id, Due.member_share_minor)).all()
        for share, paid in rows:
            assert 0 <= paid <= share
        for share, paid, written_off in db.session.execute(
                select(Due.member_share_minor,
                       select(func.coalesce(func.sum(Allocation.amount_minor), 0))
                       .where(Allocation.due_id == Due.id).scalar_subquery(),
                       DueWriteOff.amount_minor)
                .join(DueWriteOff, DueWriteOff.due_id == Due.id)
                .where(Due.cooperative_id == self.cooperative.id)):
            assert written_off > 0 and paid + written_off <= share

    @invariant()
    def money_is_on_the_dues_or_in_credit(self):
        for member in self.members:
            received = _sum(select(func.sum(Receipt.amount_minor)).where(
                Receipt.member_id == member.id,
                ~select(ReceiptReversal.id).where(
                    ReceiptReversal.receipt_id == Receipt.id).exists()))
            due = _sum(select(func.sum(Due.member_share_minor)).where(
                Due.member_id == member.id))
            allocated = _sum(select(func.sum(Allocation.amount_minor)).join(
                Due, Due.id == Allocation.due_id).where(Due.member_id == member.id))
            written_off = _sum(select(func.sum(DueWriteOff.amount_minor)).join(
                Due, Due.id == DueWriteOff.due_id).where(Due.member_id == member.id))
            assert allocated == min(received, due - written_off)
            statement = reports.member_statement(member)
            assert statement.balance_minor == due - allocated - written_off
            assert statement.credit_minor == received - allocated
            assert services.member_credit(member.id) == received - allocated

    @invariant()
    def remitted_dues_are_fully_paid_and_remittances_equal_their_lines(self):
        unpaid = db.session.execute(
            select(RemittanceLine.id).join(Due, Due.id == RemittanceLine.due_id)
            .outerjoin(Allocation, Allocation.due_id == Due.id)
            .where(Due.cooperative_id == self.cooperative.id)
            .group_by(RemittanceLine.id, Due.member_share_minor)
            .having(func.coalesce(func.sum(Allocation.amount_minor), 0)
                    < Due.member_share_minor)).all()
        assert unpaid == []
        for remittance_id, amount in db.session.execute(select(
                Remittance.id, Remittance.amount_minor).where(
                Remittance.agreement_id == self.agreement.id)):
            assert amount == _sum(select(func.sum(RemittanceLine.member_share_minor
                                                  + RemittanceLine.cooperative_share_minor))
                                  .where(RemittanceLine.remittance_id == remittance_id))

    @invariant()
    def running_figures_equal_the_recomputed_ones(self):
        paid = (select(func.coalesce(func.sum(Allocation.amount_minor), 0))
                .where(Allocation.due_id == Due.id).scalar_subquery())
        written_off = (select(func.coalesce(func.sum(DueWriteOff.amount_minor), 0))
                       .where(DueWriteOff.due_id == Due.id).scalar_subquery())
        rows = db.session.execute(
            select(Due.id, paid, written_off, func.coalesce(DueTotal.paid_minor, 0),
                   func.coalesce(DueTotal.written_off_minor, 0))
            .outerjoin(DueTotal, DueTotal.due_id == Due.id)
            .where(Due.cooperative_id == self.cooperative.id)).all()
        for due_id, recomputed_paid, recomputed_off, running_paid, running_off in rows:
            assert (running_paid, running_off) == (recomputed_paid, recomputed_off), due_id

    @invariant()
    def period_and_credit_totals_equal_the_recomputed_ones(self):
        assert_totals_hold(self.cooperative.id, [self.agreement], TODAY,
                           MONTHS[:self.generated_through + 1][-2:])

    @invariant()
    def closed_periods_do_not_change(self):
        for period, state in self.closed.items():
            assert self.period_state(period) == state
        assert db.session.scalar(select(func.count()).select_from(PeriodClose).where(
            PeriodClose.agreement_id == self.agreement.id)) == len(self.closed)


def test_money_invariants_hold_whatever_the_treasurers_do(ctx, coop):
    Ledger.cooperative_id = coop.id
    run_state_machine_as_test(Ledger, settings=settings(
        max_examples=20, stateful_step_count=12, deadline=None, derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]))
