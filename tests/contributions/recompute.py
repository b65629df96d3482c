"""The running totals recomputed from the money rows (migration 0040, issue 25): what
`period_totals` and `credit_totals` stand for, added up in Python from the dues, allocations,
write-offs, receipts, reversals and remittance lines; and the reconciliation as it was computed
before the totals existed (every due and payment of the agreement added up by SQL), which the
page's figures must keep equalling. Call inside an app context."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import case, func, select

from coopreg.agreements.models import Agreement
from coopreg.contributions import reports, services
from coopreg.contributions.models import (
    Allocation,
    CreditTotal,
    Due,
    DueWriteOff,
    PeriodClose,
    PeriodTotal,
    Receipt,
    ReceiptReversal,
    Remittance,
    RemittanceAcknowledgement,
    RemittanceLine,
)
from coopreg.contributions.reports import PeriodFigures, _flag
from coopreg.contributions.services import month_start
from coopreg.extensions import db

COLUMNS = ("dues", "due_minor", "cooperative_minor", "paid_minor", "written_off_minor",
           "full_dues", "full_minor", "remitted_dues", "remitted_minor", "remitted_unpaid",
           "remittable_dues", "remittable_minor", "collected_minor", "grace_until")


def recomputed_period_totals(cooperative_id: int) -> dict[tuple, dict]:
    """(agreement, period) → every column of `period_totals`, from the money rows."""
    paid: dict[int, int] = defaultdict(int)
    collected: list[tuple[int, date, int]] = []
    for due_id, agreement_id, received_on, amount in db.session.execute(
            select(Allocation.due_id, Due.agreement_id, Receipt.received_on,
                   Allocation.amount_minor)
            .join(Due, Due.id == Allocation.due_id)
            .join(Receipt, Receipt.id == Allocation.receipt_id)
            .where(Allocation.cooperative_id == cooperative_id)):
        paid[due_id] += amount
        collected.append((agreement_id, month_start(received_on), amount))
    written_off = dict(db.session.execute(
        select(DueWriteOff.due_id, DueWriteOff.amount_minor)
        .where(DueWriteOff.cooperative_id == cooperative_id)).all())
    lines = {due_id: (m, c) for due_id, m, c in db.session.execute(
        select(RemittanceLine.due_id, RemittanceLine.member_share_minor,
               RemittanceLine.cooperative_share_minor)
        .where(RemittanceLine.cooperative_id == cooperative_id))}
    out: dict[tuple, dict] = {}

    def row(key: tuple) -> dict:
        return out.setdefault(key, {**dict.fromkeys(COLUMNS[:-1], 0), "grace_until": None})

    for due in db.session.scalars(select(Due).where(Due.cooperative_id == cooperative_id)):
        r = row((due.agreement_id, due.period))
        both = due.member_share_minor + due.cooperative_share_minor
        full = paid[due.id] == due.member_share_minor
        r["dues"] += 1
        r["due_minor"] += due.member_share_minor
        r["cooperative_minor"] += due.cooperative_share_minor
        r["paid_minor"] += paid[due.id]
        r["written_off_minor"] += written_off.get(due.id, 0)
        r["full_dues"] += full
        r["full_minor"] += both if full else 0
        if due.id in lines:
            r["remitted_dues"] += 1
            r["remitted_minor"] += sum(lines[due.id])
            r["remitted_unpaid"] += not full
        elif full:
            r["remittable_dues"] += 1
            r["remittable_minor"] += both
        if r["grace_until"] is None or due.grace_until > r["grace_until"]:
            r["grace_until"] = due.grace_until
    for agreement_id, month, amount in collected:
        row((agreement_id, month))["collected_minor"] += amount
    return out


def running_period_totals(cooperative_id: int) -> dict[tuple, dict]:
    """(agreement, period) → every column of `period_totals`, as the triggers keep them."""
    db.session.flush()
    return {(t.agreement_id, t.period): {c: getattr(t, c) for c in COLUMNS}
            for t in db.session.scalars(select(PeriodTotal).where(
                PeriodTotal.cooperative_id == cooperative_id)
                .execution_options(populate_existing=True))}


def recomputed_credit(cooperative_id: int) -> tuple[int, int]:
    """(received, allocated): the receipts not reversed, and every allocation (net)."""
    received = db.session.scalar(select(func.coalesce(func.sum(Receipt.amount_minor), 0)).where(
        Receipt.cooperative_id == cooperative_id,
        ~select(ReceiptReversal.id).where(ReceiptReversal.receipt_id == Receipt.id).exists()))
    allocated = db.session.scalar(select(func.coalesce(func.sum(Allocation.amount_minor), 0))
                                  .where(Allocation.cooperative_id == cooperative_id))
    return int(received), int(allocated)


def running_credit(cooperative_id: int) -> tuple[int, int]:
    db.session.flush()
    row = db.session.execute(select(CreditTotal.received_minor, CreditTotal.allocated_minor)
                             .where(CreditTotal.cooperative_id == cooperative_id)).first()
    return (0, 0) if row is None else (int(row[0]), int(row[1]))


def recomputed_receipt_totals(cooperative_id: int) -> reports.ReceiptTotals:
    """The receipts page's totals line added up from every receipt (the search's query)."""
    return reports.receipt_totals(select(Receipt).where(Receipt.cooperative_id == cooperative_id))


def remittable_recomputed(agreement: Agreement, period: date) -> tuple[int, int, list[int]]:
    """(count, both shares, due ids in order) of the dues a remittance would pass on, read
    from the money rows (the whole list, as the remittance records it)."""
    dues = services.remittable_dues(agreement, period)
    return len(dues), services.remittance_amount(dues), [d.id for d in dues]


def assert_totals_hold(cooperative_id: int, agreements: list[Agreement], today: date,
                       periods: list[date] = ()) -> None:
    """Every running total equals its recomputation; the reconciliation read from them
    equals the one added up from the money rows; the remittance form's count, total and
    first lines equal those of the whole list, for each period given."""
    assert running_period_totals(cooperative_id) == recomputed_period_totals(cooperative_id)
    assert running_credit(cooperative_id) == recomputed_credit(cooperative_id)
    received, allocated = recomputed_credit(cooperative_id)
    assert reports.members_credit_total(cooperative_id) == received - allocated
    assert reports.cooperative_receipt_totals(cooperative_id) == recomputed_receipt_totals(
        cooperative_id)
    for agreement in agreements:
        assert reports.reconciliation(agreement, today) == reconciliation_from_rows(
            agreement, today)
        for period in periods:
            count, total, ids = remittable_recomputed(agreement, period)
            assert services.remittable_summary(agreement, period) == (count, total)
            assert services.remittable_total(agreement, period) == total
            for limit in (1, 2, 500):
                assert [d.id for d in services.remittable_dues(agreement, period, limit)] \
                    == ids[:limit]


# ---- the reconciliation as it was computed before the running totals (by SQL over every due
# and payment of the agreement) ----------------------------------------------------------------

def reconciliation_from_rows(agreement: Agreement, today: date | None = None
                             ) -> list[PeriodFigures]:
    """Per period of the agreement (newest first): due, collected, allocated, remitted and
    acknowledged, each difference flagged."""
    today = today or date.today()
    coop_id = agreement.cooperative_id
    paid = (select(Allocation.due_id.label("due_id"), func.sum(Allocation.amount_minor)
                   .label("paid"))
            .where(Allocation.cooperative_id == coop_id).group_by(Allocation.due_id).subquery())
    paid_value = func.coalesce(paid.c.paid, 0)
    fully_paid = paid_value >= Due.member_share_minor
    figures: dict[date, PeriodFigures] = {}

    def row(period: date) -> PeriodFigures:
        if period not in figures:
            figures[period] = PeriodFigures(period)
        return figures[period]

    for (period, count, due, coop_share, allocated, paid_count, paid_total,
         grace) in db.session.execute(
            select(Due.period, func.count(), func.sum(Due.member_share_minor),
                   func.sum(Due.cooperative_share_minor), func.sum(paid_value),
                   func.sum(case((fully_paid, 1), else_=0)),
                   func.sum(case((fully_paid, Due.member_share_minor
                                  + Due.cooperative_share_minor), else_=0)),
                   func.max(Due.grace_until))
            .outerjoin(paid, paid.c.due_id == Due.id)
            .where(Due.cooperative_id == coop_id, Due.agreement_id == agreement.id)
            .group_by(Due.period)):
        figure = row(period)
        figure.dues, figure.due_minor = int(count), int(due or 0)
        figure.cooperative_share_minor = int(coop_share or 0)
        figure.allocated_minor, figure.paid_dues = int(allocated or 0), int(paid_count or 0)
        figure.paid_total_minor, figure.grace_until = int(paid_total or 0), grace

    for period, written_off in db.session.execute(
            select(Due.period, func.sum(DueWriteOff.amount_minor))
            .join(DueWriteOff, DueWriteOff.due_id == Due.id)
            .where(Due.cooperative_id == coop_id, Due.agreement_id == agreement.id)
            .group_by(Due.period)):
        row(period).written_off_minor = int(written_off or 0)

    for period, remitted, unpaid in db.session.execute(
            select(Due.period,
                   func.sum(RemittanceLine.member_share_minor
                            + RemittanceLine.cooperative_share_minor),
                   func.sum(case((fully_paid, 0), else_=1)))
            .join(RemittanceLine, RemittanceLine.due_id == Due.id)
            .outerjoin(paid, paid.c.due_id == Due.id)
            .where(Due.cooperative_id == coop_id, Due.agreement_id == agreement.id)
            .group_by(Due.period)):
        row(period).remitted_minor = int(remitted or 0)
        row(period).remitted_unpaid = int(unpaid or 0)

    for received_on, amount in db.session.execute(
            select(Receipt.received_on, func.sum(Allocation.amount_minor))
            .join(Allocation, Allocation.receipt_id == Receipt.id)
            .join(Due, Due.id == Allocation.due_id)
            .where(Receipt.cooperative_id == coop_id, Due.agreement_id == agreement.id)
            .group_by(Receipt.received_on)):
        row(month_start(received_on)).collected_minor += int(amount or 0)

    for remittance, ack_amount in db.session.execute(
            select(Remittance, RemittanceAcknowledgement.amount_minor)
            .outerjoin(RemittanceAcknowledgement,
                       RemittanceAcknowledgement.remittance_id == Remittance.id)
            .where(Remittance.cooperative_id == coop_id,
                   Remittance.agreement_id == agreement.id)):
        row(remittance.period).remittance = remittance
        row(remittance.period).acknowledged_minor = (None if ack_amount is None
                                                     else int(ack_amount))
    for period in db.session.scalars(select(PeriodClose.period).where(
            PeriodClose.cooperative_id == coop_id, PeriodClose.agreement_id == agreement.id)):
        row(period).closed = True

    currency = agreement.cooperative.currency
    for figure in figures.values():
        _flag(figure, today, currency)
    return sorted(figures.values(), key=lambda f: f.period, reverse=True)
