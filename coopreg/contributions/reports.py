"""The treasurer's views of the ledger: reconciliation per agreement and period, the lines
behind each figure, arrears, the cash-up and a member's statement.

Every figure is an SQL aggregate (GROUP BY), never a loop over members, so the pages stay quick
at 100,000 members; only the lines pages list rows, a page at a time.
"""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import case, func, select

from coopreg.agreements.models import Agreement
from coopreg.contributions.models import (
    Allocation,
    Due,
    PaymentMethod,
    PeriodClose,
    Receipt,
    ReceiptReversal,
    Remittance,
    RemittanceAcknowledgement,
    RemittanceLine,
)
from coopreg.contributions.services import month_end, month_start
from coopreg.core.money import currency_exponent, format_money, from_minor
from coopreg.extensions import db
from coopreg.members.models import Member

LINES_PER_PAGE = 200


def _paid_per_due(cooperative_id: int, agreement_id: int | None = None):
    """Subquery: (due_id, paid) — net allocations per due."""
    stmt = (select(Allocation.due_id.label("due_id"),
                   func.sum(Allocation.amount_minor).label("paid"))
            .where(Allocation.cooperative_id == cooperative_id))
    if agreement_id is not None:
        stmt = stmt.join(Due, Due.id == Allocation.due_id).where(Due.agreement_id == agreement_id)
    return stmt.group_by(Allocation.due_id).subquery()


# ---- reconciliation -------------------------------------------------------------------------

@dataclass
class PeriodFigures:
    """One period of an agreement: what was due, paid, remitted and acknowledged."""

    period: date
    dues: int = 0
    due_minor: int = 0  # members' shares
    cooperative_share_minor: int = 0
    allocated_minor: int = 0  # paid towards this period's dues (whenever received)
    collected_minor: int = 0  # received in this month and applied to this agreement's dues
    paid_dues: int = 0  # dues fully paid
    paid_total_minor: int = 0  # both shares of the fully paid dues: what is to be remitted
    remitted_minor: int = 0  # both shares of this period's dues already remitted
    remitted_unpaid: int = 0  # remitted dues no longer fully paid (should never happen)
    grace_until: date | None = None
    remittance: Remittance | None = None
    acknowledged_minor: int | None = None
    closed: bool = False
    flags: list[str] = field(default_factory=list)

    @property
    def open_minor(self) -> int:
        return self.due_minor - self.allocated_minor

    @property
    def unremitted_minor(self) -> int:
        return self.paid_total_minor - self.remitted_minor


def reconciliation(agreement: Agreement, today: date | None = None) -> list[PeriodFigures]:
    """Per period of the agreement (newest first): due, collected, allocated, remitted and
    acknowledged, each difference flagged."""
    today = today or date.today()
    coop_id = agreement.cooperative_id
    paid = _paid_per_due(coop_id, agreement.id)
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
            PeriodClose.agreement_id == agreement.id)):
        row(period).closed = True

    currency = agreement.cooperative.currency
    for figure in figures.values():
        _flag(figure, today, currency)
    return sorted(figures.values(), key=lambda f: f.period, reverse=True)


def _flag(figure: PeriodFigures, today: date, currency: str) -> None:
    def money(minor: int) -> str:
        return format_money(from_minor(minor, currency), currency)

    if figure.open_minor > 0 and figure.grace_until and figure.grace_until < today:
        figure.flags.append(_("%(amount)s still unpaid after the grace period.",
                              amount=money(figure.open_minor)))
    if figure.unremitted_minor > 0:
        figure.flags.append(_("%(amount)s paid but not remitted yet.",
                              amount=money(figure.unremitted_minor)))
    if figure.remitted_unpaid:
        figure.flags.append(_("%(n)d remitted due(s) are no longer fully paid.",
                              n=figure.remitted_unpaid))
    if figure.remittance is not None:
        if figure.acknowledged_minor is None:
            figure.flags.append(_("The institution has not acknowledged the remittance."))
        elif figure.acknowledged_minor != figure.remittance.amount_minor:
            figure.flags.append(_("The institution acknowledged %(ack)s for a remittance of "
                                  "%(sent)s.", ack=money(figure.acknowledged_minor),
                                  sent=money(figure.remittance.amount_minor)))


def members_credit_total(cooperative_id: int) -> int:
    """Money received and not yet applied to any due (all members' credit)."""
    received = db.session.scalar(select(func.coalesce(func.sum(Receipt.amount_minor), 0)).where(
        Receipt.cooperative_id == cooperative_id,
        ~select(ReceiptReversal.id).where(ReceiptReversal.receipt_id == Receipt.id).exists()))
    allocated = db.session.scalar(select(func.coalesce(func.sum(Allocation.amount_minor), 0))
                                  .where(Allocation.cooperative_id == cooperative_id))
    return int(received or 0) - int(allocated or 0)


LINE_KINDS = ("due", "open", "paid", "unremitted", "remitted", "collected", "remittance")


@dataclass
class Line:
    due: Due
    member: Member
    paid_minor: int
    remitted: bool
    amount_minor: int | None = None  # for "collected": what the month's receipts paid


def reconciliation_lines(agreement: Agreement, period: date, kind: str,
                         after: int | None = None, per_page: int = LINES_PER_PAGE
                         ) -> tuple[list[Line], int | None]:
    """The dues behind one figure of the reconciliation (keyset-paginated by due id)."""
    period = month_start(period)
    coop_id = agreement.cooperative_id
    paid = _paid_per_due(coop_id, agreement.id)
    paid_value = func.coalesce(paid.c.paid, 0)
    remitted = select(RemittanceLine.id).where(RemittanceLine.due_id == Due.id).exists()
    amount = None
    stmt = (select(Due, Member, paid_value, remitted)
            .join(Member, Member.id == Due.member_id)
            .outerjoin(paid, paid.c.due_id == Due.id)
            .where(Due.cooperative_id == coop_id, Due.agreement_id == agreement.id))
    if kind == "collected":
        collected = (select(Allocation.due_id.label("due_id"),
                            func.sum(Allocation.amount_minor).label("amount"))
                     .join(Receipt, Receipt.id == Allocation.receipt_id)
                     .where(Allocation.cooperative_id == coop_id,
                            Receipt.received_on >= period,
                            Receipt.received_on <= month_end(period))
                     .group_by(Allocation.due_id).subquery())
        amount = collected.c.amount
        stmt = stmt.add_columns(amount).join(collected, collected.c.due_id == Due.id).where(
            collected.c.amount != 0)
    elif kind == "remittance":
        stmt = stmt.join(RemittanceLine, RemittanceLine.due_id == Due.id).join(
            Remittance, Remittance.id == RemittanceLine.remittance_id).where(
            Remittance.period == period)
    else:
        stmt = stmt.where(Due.period == period)
        if kind == "open":
            stmt = stmt.where(paid_value < Due.member_share_minor)
        elif kind == "paid":
            stmt = stmt.where(paid_value >= Due.member_share_minor)
        elif kind == "unremitted":
            stmt = stmt.where(paid_value >= Due.member_share_minor, ~remitted)
        elif kind == "remitted":
            stmt = stmt.where(remitted)
    if after:
        stmt = stmt.where(Due.id > after)
    rows = db.session.execute(stmt.order_by(Due.id).limit(per_page + 1)).all()
    lines = [Line(r[0], r[1], int(r[2] or 0), bool(r[3]),
                  int(r[4]) if amount is not None else None) for r in rows[:per_page]]
    cursor = lines[-1].due.id if len(rows) > per_page else None
    return lines, cursor


# ---- arrears --------------------------------------------------------------------------------

@dataclass
class ArrearsRow:
    member_id: int
    member_number: str
    name: str
    phone: str | None
    locality: str | None
    periods: int
    amount_minor: int
    oldest_due: date


def arrears_query(cooperative_id: int, *, agreement_id: int | None = None, min_days: int = 0,
                  min_periods: int = 1, today: date | None = None):
    """Members with dues still open more than `min_days` after their grace period, at least
    `min_periods` of them: one GROUP BY over the dues, largest amounts first."""
    today = today or date.today()
    paid = _paid_per_due(cooperative_id, agreement_id)
    paid_value = func.coalesce(paid.c.paid, 0)
    cutoff = today - timedelta(days=max(min_days, 0))
    owing = (select(Due.member_id.label("member_id"), func.count().label("periods"),
                    func.sum(Due.member_share_minor - paid_value).label("amount"),
                    func.min(Due.due_date).label("oldest"))
             .outerjoin(paid, paid.c.due_id == Due.id)
             .where(Due.cooperative_id == cooperative_id, Due.grace_until < cutoff,
                    Due.member_share_minor > paid_value))
    if agreement_id is not None:
        owing = owing.where(Due.agreement_id == agreement_id)
    owing = owing.group_by(Due.member_id).having(func.count() >= max(min_periods, 1)).subquery()
    return (select(Member.id, Member.member_number, Member.first_name, Member.last_name,
                   Member.second_last_name, Member.phone, Member.locality, owing.c.periods,
                   owing.c.amount, owing.c.oldest)
            .join(owing, owing.c.member_id == Member.id)
            .order_by(owing.c.amount.desc(), Member.id))


def arrears(cooperative_id: int, limit: int | None = None, **filters) -> list[ArrearsRow]:
    stmt = arrears_query(cooperative_id, **filters)
    if limit:
        stmt = stmt.limit(limit)
    return [ArrearsRow(r[0], r[1], " ".join(p for p in (r[2], r[3], r[4]) if p), r[5], r[6],
                       int(r[7]), int(r[8]), r[9]) for r in db.session.execute(stmt)]


def arrears_totals(cooperative_id: int, **filters) -> tuple[int, int]:
    """(members, amount) of the whole arrears list, by SQL."""
    sub = arrears_query(cooperative_id, **filters).order_by(None).subquery()
    count, amount = db.session.execute(
        select(func.count(), func.coalesce(func.sum(sub.c.amount), 0))).one()
    return int(count), int(amount)


ARREARS_PROGRESS_EVERY = 1000  # rows between two progress reports of the export job


def arrears_workbook(cooperative_id: int, currency: str, **filters) -> bytes:
    """The arrears list as xlsx bytes (see `write_arrears_workbook`)."""
    buffer = io.BytesIO()
    write_arrears_workbook(buffer, cooperative_id, currency, **filters)
    return buffer.getvalue()


def write_arrears_workbook(target, cooperative_id: int, currency: str, progress=None,
                           **filters) -> int:
    """The arrears list as xlsx for follow-up calls: phone numbers and member numbers as
    text, amounts as numbers with the currency's decimals, and a summary sheet whose total
    is the ledger's. Written to a binary stream; returns the number of members; calls
    `progress(done, total, message)` every `ARREARS_PROGRESS_EVERY` rows when given."""
    from coopreg.core.spreadsheets import DATE, INTEGER, MONEY, TEXT, Column, Sheet, write_xlsx

    decimals = currency_exponent(currency)
    count, total = arrears_totals(cooperative_id, **filters)
    if progress is not None:
        progress(0, count, _("Writing the file…"))
    rows = arrears(cooperative_id, **filters)
    columns = [Column(_("Member number"), TEXT), Column(_("Name"), TEXT, width=32),
               Column(_("Phone"), TEXT), Column(_("Locality"), TEXT),
               Column(_("Periods overdue"), INTEGER),
               Column(_("Amount overdue (%(currency)s)", currency=currency), MONEY,
                      decimals=decimals),
               Column(_("Oldest due date"), DATE), Column(_("Called on"), DATE),
               Column(_("Outcome"), TEXT, width=30)]

    def body():
        for done, r in enumerate(rows, start=1):
            yield [r.member_number, r.name, r.phone or "", r.locality or "", r.periods,
                   from_minor(r.amount_minor, currency), r.oldest_due, None, ""]
            if progress is not None and done % ARREARS_PROGRESS_EVERY == 0:
                progress(done, count, _("%(done)d of %(total)d members written",
                                        done=done, total=count))

    summary = Sheet(_("Summary"), [Column(_("Figure"), TEXT, width=30),
                                   Column(_("Value"), MONEY, decimals=decimals)],
                    [[_("Members in arrears"), Decimal(count)],
                     [_("Total overdue (%(currency)s)", currency=currency),
                      from_minor(total, currency)]])
    write_xlsx(target, [Sheet(_("Arrears"), columns, body()), summary])
    return len(rows)


# ---- cash-up --------------------------------------------------------------------------------

@dataclass
class CashUpRow:
    day: date
    collector: str
    by_method: dict[str, tuple[int, int]] = field(default_factory=dict)  # method → (n, amount)
    reversed_count: int = 0
    reversed_minor: int = 0

    @property
    def total_minor(self) -> int:
        return sum(amount for _n, amount in self.by_method.values())

    @property
    def count(self) -> int:
        return sum(n for n, _amount in self.by_method.values())


def cash_up(cooperative_id: int, start: date, end: date) -> list[CashUpRow]:
    """Receipts per day and collector, by method (reversed receipts apart): what each
    collector must hand over."""
    is_reversed = ReceiptReversal.id.is_not(None)
    rows: dict[tuple[date, str], CashUpRow] = {}
    for day, collector, method, reversed_, count, amount in db.session.execute(
            select(Receipt.received_on, Receipt.collector, Receipt.method, is_reversed,
                   func.count(), func.sum(Receipt.amount_minor))
            .outerjoin(ReceiptReversal, ReceiptReversal.receipt_id == Receipt.id)
            .where(Receipt.cooperative_id == cooperative_id, Receipt.received_on >= start,
                   Receipt.received_on <= end)
            .group_by(Receipt.received_on, Receipt.collector, Receipt.method, is_reversed)):
        collector = collector or ""
        key = (day, collector)
        row = rows.setdefault(key, CashUpRow(day, collector))
        if reversed_:
            row.reversed_count += int(count)
            row.reversed_minor += int(amount)
        else:
            method_value = getattr(method, "value", method)
            n, total = row.by_method.get(method_value, (0, 0))
            row.by_method[method_value] = (n + int(count), total + int(amount))
    return sorted(rows.values(), key=lambda r: (r.day, r.collector), reverse=True)


def receipts_on(cooperative_id: int, day: date) -> tuple[int, int]:
    """How many receipts a day counts and their total in minor units, reversed ones apart:
    the cash-up's figures for that day."""
    rows = cash_up(cooperative_id, day, day)
    return (sum(row.count for row in rows),
            sum(amount for row in rows for _n, amount in row.by_method.values()))


def cash_up_totals(rows: list[CashUpRow]) -> dict[str, tuple[int, int]]:
    totals: dict[str, tuple[int, int]] = defaultdict(lambda: (0, 0))
    for row in rows:
        for method, (n, amount) in row.by_method.items():
            tn, ta = totals[method]
            totals[method] = (tn + n, ta + amount)
    return {m.value: totals[m.value] for m in PaymentMethod if m.value in totals}


# ---- a member's statement -------------------------------------------------------------------

@dataclass
class StatementDue:
    due: Due
    paid_minor: int
    remitted: bool

    @property
    def open_minor(self) -> int:
        return self.due.member_share_minor - self.paid_minor


@dataclass
class MemberStatement:
    dues: list[StatementDue]
    receipts: list[Receipt]
    due_minor: int
    allocated_minor: int
    received_minor: int
    credit_minor: int
    months_covered: list[date]

    @property
    def balance_minor(self) -> int:
        """What the member still owes: dues − allocations."""
        return self.due_minor - self.allocated_minor


def member_statement(member: Member) -> MemberStatement:
    """A member's dues (with what was paid on each), receipts, balance, credit and the months
    fully paid."""
    from sqlalchemy.orm import selectinload

    paid = (select(func.coalesce(func.sum(Allocation.amount_minor), 0))
            .where(Allocation.due_id == Due.id).scalar_subquery())
    remitted = select(RemittanceLine.id).where(RemittanceLine.due_id == Due.id).exists()
    dues = [StatementDue(d, int(p), bool(r)) for d, p, r in db.session.execute(
        select(Due, paid, remitted).where(Due.cooperative_id == member.cooperative_id,
                                          Due.member_id == member.id)
        .options(selectinload(Due.agreement))
        .order_by(Due.period, Due.agreement_id))]
    receipts = list(db.session.scalars(
        select(Receipt).where(Receipt.cooperative_id == member.cooperative_id,
                              Receipt.member_id == member.id)
        .options(selectinload(Receipt.reversal))
        .order_by(Receipt.received_on, Receipt.number)))
    received = sum(r.amount_minor for r in receipts if r.reversal is None)
    allocated = sum(d.paid_minor for d in dues)
    covered = sorted({d.due.period for d in dues if d.open_minor <= 0})
    return MemberStatement(dues=dues, receipts=receipts,
                           due_minor=sum(d.due.member_share_minor for d in dues),
                           allocated_minor=allocated, received_minor=received,
                           credit_minor=received - allocated, months_covered=covered)
