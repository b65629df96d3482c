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
    CreditTotal,
    Due,
    DueTotal,
    DueWriteOff,
    PaymentMethod,
    PeriodClose,
    PeriodTotal,
    Receipt,
    ReceiptReversal,
    Remittance,
    RemittanceAcknowledgement,
    RemittanceLine,
    StatementLine,
)
from coopreg.contributions.services import month_end, month_start
from coopreg.core.money import currency_exponent, format_minor, from_minor
from coopreg.core.phones import phone_as
from coopreg.core.sorting import Sorted, Sorts
from coopreg.core.templating import show_month
from coopreg.extensions import db
from coopreg.members.models import Member, MemberStatus

LINES_PER_PAGE = 200


def _dues_totals(cooperative_id: int, agreement_id: int | None, column, label: str):
    # a plain projection both databases fold into the outer query: the readers outer-join it
    # on the due's key from their own (cooperative, agreement) selection of dues
    del cooperative_id, agreement_id
    return select(DueTotal.due_id.label("due_id"), column.label(label)).subquery()


def _paid_per_due(cooperative_id: int, agreement_id: int | None = None):
    """Subquery: (due_id, paid) — net allocations per due, from the dues' running figures
    (`DueTotal`, one row per due kept by the database with every allocation), so a page
    reads one row per due instead of every payment applied to it. A due without a row has
    had nothing paid nor written off (the readers outer-join it and count 0)."""
    return _dues_totals(cooperative_id, agreement_id, DueTotal.paid_minor, "paid")


def _written_off_per_due(cooperative_id: int, agreement_id: int | None = None):
    """Subquery: (due_id, written_off) — what was written off of each due (`DueTotal`)."""
    return _dues_totals(cooperative_id, agreement_id, DueTotal.written_off_minor,
                        "written_off")


# ---- reconciliation -------------------------------------------------------------------------

@dataclass
class PeriodFigures:
    """One period of an agreement: what was due, paid, remitted and acknowledged.

    Each figure says whose money it counts. The members' share: `due_minor`,
    `allocated_minor`, `collected_minor`, `written_off_minor`, `open_minor` (members owe it and
    pay it). The cooperative's share: `cooperative_share_minor`. Both shares:
    `due_total_minor`, `paid_total_minor`, `unremitted_minor`, `remitted_minor`, the
    remittance and what was acknowledged (a fully paid due is passed on with both shares), so
    remitted is compared with the due's total, never with the members' share alone."""

    period: date
    dues: int = 0
    due_minor: int = 0  # members' share
    cooperative_share_minor: int = 0  # the cooperative's share
    allocated_minor: int = 0  # members' share paid towards this period's dues (whenever)
    collected_minor: int = 0  # members' money received in this month, applied to the agreement
    written_off_minor: int = 0  # members' share written off (will never be paid)
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
    def due_total_minor(self) -> int:
        """Both shares of the period's dues: what the institution is owed in the end."""
        return self.due_minor + self.cooperative_share_minor

    @property
    def open_minor(self) -> int:
        """Members' share neither paid nor written off."""
        return self.due_minor - self.allocated_minor - self.written_off_minor

    @property
    def unremitted_minor(self) -> int:
        return self.paid_total_minor - self.remitted_minor


def reconciliation(agreement: Agreement, today: date | None = None) -> list[PeriodFigures]:
    """Per period of the agreement (newest first): due, collected, allocated, remitted and
    acknowledged, each difference flagged. The figures are the agreement's running totals
    (`PeriodTotal`, one row per period kept by the database with every due and money row),
    so the page reads as many rows as the agreement has periods, whatever the register's
    size; the remittances, their acknowledgements and the closed periods are read as they
    are (one row per period at most)."""
    today = today or date.today()
    coop_id = agreement.cooperative_id
    figures: dict[date, PeriodFigures] = {}

    def row(period: date) -> PeriodFigures:
        if period not in figures:
            figures[period] = PeriodFigures(period)
        return figures[period]

    for total in db.session.scalars(select(PeriodTotal).where(
            PeriodTotal.cooperative_id == coop_id, PeriodTotal.agreement_id == agreement.id)):
        # a row exists once the period has a due or a month's receipt paid a due of the
        # agreement (even if reversed since): the periods the page listed when it added up
        # the money rows
        figure = row(total.period)
        figure.dues, figure.due_minor = total.dues, total.due_minor
        figure.cooperative_share_minor = total.cooperative_minor
        figure.allocated_minor, figure.paid_dues = total.paid_minor, total.full_dues
        figure.paid_total_minor, figure.grace_until = total.full_minor, total.grace_until
        figure.written_off_minor = total.written_off_minor
        figure.remitted_minor = total.remitted_minor
        figure.remitted_unpaid = total.remitted_unpaid
        figure.collected_minor = total.collected_minor

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


def _flag(figure: PeriodFigures, today: date, currency: str) -> None:
    def amount(minor: int) -> str:
        return format_minor(minor, currency)  # as every amount of the page

    if figure.open_minor > 0 and figure.grace_until and figure.grace_until < today:
        figure.flags.append(_("%(amount)s of the members' share still unpaid after the grace "
                              "period.", amount=amount(figure.open_minor)))
    if figure.unremitted_minor > 0:
        figure.flags.append(_("%(amount)s (both shares) paid but not remitted yet.",
                              amount=amount(figure.unremitted_minor)))
    if figure.remitted_unpaid:
        figure.flags.append(_("%(n)d remitted due(s) are no longer fully paid.",
                              n=figure.remitted_unpaid))
    if figure.remittance is not None:
        if figure.acknowledged_minor is None:
            figure.flags.append(_("The institution has not acknowledged the remittance."))
        elif figure.acknowledged_minor != figure.remittance.amount_minor:
            figure.flags.append(_("The institution acknowledged %(ack)s for a remittance of "
                                  "%(sent)s.", ack=amount(figure.acknowledged_minor),
                                  sent=amount(figure.remittance.amount_minor)))


def reconciliation_explanation() -> str:
    """The one line that says whose money each column of the reconciliation counts (on the
    page and in its spreadsheet)."""
    return _("Members' share columns count what members owe, pay and what was written off; "
             "the cooperative adds its share when a due is fully paid, so the both-shares "
             "columns (to remit, remitted, acknowledged) compare with the total due, never "
             "with the members' share alone.")


def reconciliation_workbook(agreement: Agreement, figures: list[PeriodFigures],
                            third_parties: tuple[list[str], dict] = ([], {})) -> bytes:
    """The reconciliation as xlsx (rows in, file out): one row per period, every money
    column named with whose money it counts (two per third party: its share due and what it
    paid, from `payers.third_parties_by_period`), the differences as text, and a sheet with
    the explanation line."""
    from coopreg.core.spreadsheets import INTEGER, MONEY, TEXT, Column, Sheet, write_xlsx

    currency = agreement.cooperative.currency
    decimals = currency_exponent(currency)

    def money_column(header: str) -> Column:
        return Column(f"{header} ({currency})", MONEY, decimals=decimals)

    columns = [Column(_("Period"), TEXT, width=10), Column(_("Dues"), INTEGER),
               money_column(_("Due, members' share")),
               money_column(_("Collected in the month, members' share")),
               money_column(_("Paid, members' share")),
               money_column(_("Written off, members' share")),
               money_column(_("Still to pay, members' share")),
               money_column(_("Due, cooperative's share")),
               *(money_column(header) for name in third_parties[0]
                 for header in (_("Due, %(payer)s's share", payer=name),
                                _("Paid, %(payer)s's share", payer=name))),
               money_column(_("Due, both shares")),
               money_column(_("To remit, both shares")),
               money_column(_("Remitted, both shares")),
               money_column(_("Remittance, both shares")),
               money_column(_("Acknowledged, both shares")),
               Column(_("Closed"), TEXT, width=8), Column(_("Differences"), TEXT, width=60)]

    def amount(minor: int | None):
        return None if minor is None else from_minor(minor, currency)

    rows = [[show_month(f.period), f.dues, amount(f.due_minor), amount(f.collected_minor),
             amount(f.allocated_minor), amount(f.written_off_minor), amount(f.open_minor),
             amount(f.cooperative_share_minor),
             *(amount(figure) for name in third_parties[0]
               for figure in third_parties[1].get(f.period, {}).get(name, (0, 0))),
             amount(f.due_total_minor),
             amount(f.unremitted_minor), amount(f.remitted_minor),
             amount(f.remittance.amount_minor if f.remittance else None),
             amount(f.acknowledged_minor), _("yes") if f.closed else "", " ".join(f.flags)]
            for f in figures]
    about = Sheet(_("How to read"), [Column(agreement.reference, TEXT, width=120)],
                  [[reconciliation_explanation()]], autofilter=False)
    buffer = io.BytesIO()
    write_xlsx(buffer, [Sheet(_("Reconciliation"), columns, rows), about])
    return buffer.getvalue()


def members_credit_total(cooperative_id: int) -> int:
    """Money received and not yet applied to any due (all members' credit), from the
    cooperative's running totals (`CreditTotal`, one row kept by the database with every
    receipt, reversal and allocation)."""
    total = db.session.execute(
        select(CreditTotal.received_minor, CreditTotal.allocated_minor)
        .where(CreditTotal.cooperative_id == cooperative_id)).first()
    return 0 if total is None else int(total[0]) - int(total[1])


LINE_KINDS = ("due", "allocated", "open", "paid", "written_off", "unremitted", "remitted",
              "collected", "remittance")


@dataclass
class Line:
    due: Due
    member: Member
    paid_minor: int
    remitted: bool
    amount_minor: int | None = None  # for "collected": what the month's receipts paid
    written_off_minor: int = 0

    @property
    def open_minor(self) -> int:
        return self.due.member_share_minor - self.paid_minor - self.written_off_minor


# the dues of one agreement and month (or of one remittance): a sort of those rows
LINE_SORTS = Sorts({"added": Due.id, "member": Member.search_name,
                    "due": Due.member_share_minor},
                   default="added", tiebreak=Due.id, descending_first=("due",))


def reconciliation_lines(agreement: Agreement, period: date, kind: str,
                         after: str | int | None = None, per_page: int | None = None,
                         order: Sorted | None = None) -> tuple[list[Line], str | None]:
    """The dues behind one figure of the reconciliation (keyset-paginated, in the order
    chosen: by default as they were generated)."""
    period = month_start(period)
    coop_id = agreement.cooperative_id
    paid = _paid_per_due(coop_id, agreement.id)
    paid_value = func.coalesce(paid.c.paid, 0)
    gone = _written_off_per_due(coop_id, agreement.id)
    gone_value = func.coalesce(gone.c.written_off, 0)
    remitted = select(RemittanceLine.id).where(RemittanceLine.due_id == Due.id).exists()
    amount = None
    stmt = (select(Due, Member, paid_value, remitted, gone_value)
            .join(Member, Member.id == Due.member_id)
            .outerjoin(paid, paid.c.due_id == Due.id)
            .outerjoin(gone, gone.c.due_id == Due.id)
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
            stmt = stmt.where(paid_value + gone_value < Due.member_share_minor)
        elif kind == "allocated":
            # every due something was paid towards: their payments add up to "paid"
            stmt = stmt.where(paid_value != 0)
        elif kind == "written_off":
            stmt = stmt.where(gone_value > 0)
        elif kind == "paid":
            stmt = stmt.where(paid_value >= Due.member_share_minor)
        elif kind == "unremitted":
            stmt = stmt.where(paid_value >= Due.member_share_minor, ~remitted)
        elif kind == "remitted":
            stmt = stmt.where(remitted)
    rows, cursor = LINE_SORTS.page(stmt, order or LINE_SORTS.default,
                                   None if after is None else str(after),
                                   per_page or LINES_PER_PAGE,
                                   cursor_of=lambda row: row[0].id)
    lines = [Line(r[0], r[1], int(r[2] or 0), bool(r[3]),
                  int(r[5]) if amount is not None else None, int(r[4] or 0))
             for r in rows]
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
    status: MemberStatus = MemberStatus.ACTIVE


# Whose arrears a list shows: members still in the cooperative (to call), those who left
# (listed apart: their debts are settled differently), the deceased (left out of the call
# list unless asked for; their dues are for the write-off), or everyone.
ARREARS_GROUPS = {
    "current": (MemberStatus.ACTIVE, MemberStatus.SUSPENDED),
    "departed": (MemberStatus.LEFT,),
    "deceased": (MemberStatus.DECEASED,),
    "all": tuple(MemberStatus),
}


def default_arrears_days() -> int:
    """The one definition of "in arrears": a due still open more than this many days after
    its grace period (the setting ARREARS_DAYS_PAST_GRACE)."""
    from flask import current_app

    return int(current_app.config.get("ARREARS_DAYS_PAST_GRACE", 30))


# the arrears are one GROUP BY over the open dues (at most 500 rows shown): each order sorts
# those groups in SQL; the expressions are the query's own (arrears_query)
ARREARS_SORTS = Sorts({"amount": None, "periods": None, "oldest": None, "number": None},
                      default="amount", default_descending=True, tiebreak=Member.id,
                      descending_first=("amount", "periods"))


def arrears_query(cooperative_id: int, *, agreement_id: int | None = None,
                  min_days: int | None = None, min_periods: int = 1,
                  today: date | None = None, group: str = "current",
                  order: Sorted | None = None):
    """Members with dues still open (neither paid nor written off) more than `min_days`
    after their grace period (by default the setting ARREARS_DAYS_PAST_GRACE), at least
    `min_periods` of them, among the members of `group` (ARREARS_GROUPS): one GROUP BY over
    the dues, largest amounts first."""
    today = today or date.today()
    if min_days is None:
        min_days = default_arrears_days()
    paid = _paid_per_due(cooperative_id, agreement_id)
    gone = _written_off_per_due(cooperative_id, agreement_id)
    settled = func.coalesce(paid.c.paid, 0) + func.coalesce(gone.c.written_off, 0)
    cutoff = today - timedelta(days=max(min_days, 0))
    owing = (select(Due.member_id.label("member_id"), func.count().label("periods"),
                    func.sum(Due.member_share_minor - settled).label("amount"),
                    func.min(Due.due_date).label("oldest"))
             .outerjoin(paid, paid.c.due_id == Due.id)
             .outerjoin(gone, gone.c.due_id == Due.id)
             .where(Due.cooperative_id == cooperative_id, Due.grace_until < cutoff,
                    Due.member_share_minor > settled))
    if agreement_id is not None:
        owing = owing.where(Due.agreement_id == agreement_id)
    owing = owing.group_by(Due.member_id).having(func.count() >= max(min_periods, 1)).subquery()
    return (select(Member.id, Member.member_number, Member.first_name, Member.last_name,
                   Member.second_last_name, Member.phone, Member.locality, owing.c.periods,
                   owing.c.amount, owing.c.oldest, Member.status)
            .join(owing, owing.c.member_id == Member.id)
            .where(Member.status.in_(ARREARS_GROUPS.get(group, ARREARS_GROUPS["current"])))
            .order_by(*ARREARS_SORTS.order_by(order or ARREARS_SORTS.default, {
                "amount": owing.c.amount, "periods": owing.c.periods,
                "oldest": owing.c.oldest, "number": Member.number_key})))


def arrears(cooperative_id: int, limit: int | None = None, **filters) -> list[ArrearsRow]:
    stmt = arrears_query(cooperative_id, **filters)
    if limit:
        stmt = stmt.limit(limit)
    return [ArrearsRow(r[0], r[1], " ".join(p for p in (r[2], r[3], r[4]) if p), r[5], r[6],
                       int(r[7]), int(r[8]), r[9], r[10]) for r in db.session.execute(stmt)]


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
                           include_deceased: bool = False, **filters) -> int:
    """The arrears list as xlsx for follow-up calls: the members to call on the first sheet,
    those who left on a sheet of their own (and the deceased on another, only when asked
    for), each row with the member's status; phone numbers and member numbers as text,
    amounts as numbers with the currency's decimals, and a summary sheet whose totals are the
    ledger's. Written to a binary stream; returns the number of members on the call list;
    calls `progress(done, total, message)` every `ARREARS_PROGRESS_EVERY` rows when given."""
    from coopreg.core.spreadsheets import DATE, INTEGER, MONEY, TEXT, Column, Sheet, write_xlsx
    from coopreg.members.forms import STATUS_LABELS

    filters.pop("group", None)
    decimals = currency_exponent(currency)
    count, total = arrears_totals(cooperative_id, **filters)
    if progress is not None:
        progress(0, count, _("Writing the file…"))
    rows = arrears(cooperative_id, **filters)
    groups = [("departed", _("Departed members"))]
    if include_deceased:
        groups.append(("deceased", _("Deceased members")))
    apart = [(name, title, arrears(cooperative_id, group=name, **filters),
              arrears_totals(cooperative_id, group=name, **filters)) for name, title in groups]
    columns = [Column(_("Member number"), TEXT), Column(_("Name"), TEXT, width=32),
               Column(_("Member status"), TEXT),
               Column(_("Phone"), TEXT), Column(_("Locality"), TEXT),
               Column(_("Periods overdue"), INTEGER),
               Column(_("Amount overdue, members' share (%(currency)s)", currency=currency),
                      MONEY, decimals=decimals),
               Column(_("Oldest due date"), DATE), Column(_("Called on"), DATE),
               Column(_("Outcome"), TEXT, width=30)]

    def line(r: ArrearsRow) -> list:
        return [r.member_number, r.name, str(STATUS_LABELS[r.status]), phone_as(r.phone),
                r.locality or "", r.periods, from_minor(r.amount_minor, currency), r.oldest_due,
                None, ""]

    def body():
        for done, r in enumerate(rows, start=1):
            yield line(r)
            if progress is not None and done % ARREARS_PROGRESS_EVERY == 0:
                progress(done, count, _("%(done)d of %(total)d members written",
                                        done=done, total=count))

    summary_rows = [[_("Members in arrears"), Decimal(count)],
                    [_("Total overdue (%(currency)s)", currency=currency),
                     from_minor(total, currency)]]
    for _name, title, _rows, (n, amount) in apart:
        summary_rows += [[_("%(group)s: members", group=title), Decimal(n)],
                         [_("%(group)s: total overdue (%(currency)s)", group=title,
                            currency=currency), from_minor(amount, currency)]]
    summary = Sheet(_("Summary"), [Column(_("Figure"), TEXT, width=40),
                                   Column(_("Value"), MONEY, decimals=decimals)], summary_rows)
    sheets = [Sheet(_("Arrears"), columns, body())]
    sheets += [Sheet(title, columns, (line(r) for r in group_rows))
               for _name, title, group_rows, _totals in apart]
    write_xlsx(target, [*sheets, summary])
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


# ---- the lists: their orders and totals -------------------------------------------------------

# a statement's lines (one bank file: hundreds of rows) and the queue of unmatched ones:
# sorts of those rows (the lines carry the statement_id index)
STATEMENT_LINE_SORTS = Sorts({"row": StatementLine.row_number, "date": StatementLine.booked_on,
                              "amount": StatementLine.amount_minor},
                             default="row", tiebreak=StatementLine.id,
                             descending_first=("amount",))
QUEUE_SORTS = Sorts({"date": StatementLine.booked_on, "amount": StatementLine.amount_minor},
                    default="date", tiebreak=StatementLine.id, descending_first=("amount",))

# number: the (cooperative_id, number) unique index; date: (cooperative_id, received_on, …);
# amount: no index, a top-N sort of the rows the search matched
RECEIPT_SORTS = Sorts({"number": Receipt.number, "date": Receipt.received_on,
                       "amount": Receipt.amount_minor},
                      default="number", default_descending=True, tiebreak=Receipt.id,
                      descending_first=("number", "date", "amount"))
REMITTANCE_SORTS = Sorts({"period": Remittance.period, "sent": Remittance.remitted_on,
                          "amount": Remittance.amount_minor},
                         default="period", default_descending=True, tiebreak=Remittance.id,
                         descending_first=("period", "sent", "amount"))


@dataclass
class ReceiptTotals:
    """The receipts a search matched, every page: how many, the members' money they hold
    (reversed receipts not counted) and how many were reversed."""

    count: int
    paid_minor: int
    reversed: int


def receipt_totals(stmt) -> ReceiptTotals:
    """The totals of the receipts `stmt` (scoped and filtered) selects, in one SQL query."""
    matched = stmt.with_only_columns(Receipt.id, Receipt.amount_minor).order_by(None).subquery()
    count, paid, reversed_count = db.session.execute(select(
        func.count(matched.c.id),
        func.coalesce(func.sum(case((ReceiptReversal.id.is_(None), matched.c.amount_minor))), 0),
        func.count(ReceiptReversal.id))
        .select_from(matched).outerjoin(ReceiptReversal,
                                        ReceiptReversal.receipt_id == matched.c.id)).one()
    return ReceiptTotals(count, int(paid), reversed_count)


def cooperative_receipt_totals(cooperative_id: int) -> ReceiptTotals:
    """The totals of all the cooperative's receipts, from its running totals (`CreditTotal`,
    one row kept by the database with every receipt and reversal): the same figures as
    `receipt_totals` over the unfiltered list, without reading every receipt."""
    row = db.session.execute(
        select(CreditTotal.receipts, CreditTotal.received_minor, CreditTotal.reversed_receipts)
        .where(CreditTotal.cooperative_id == cooperative_id)).first()
    return ReceiptTotals(0, 0, 0) if row is None else ReceiptTotals(*(int(v) for v in row))


@dataclass
class RemittanceTotals:
    """An agreement's remittances: how many, the money passed on to the institution, of it the
    members' share and the cooperative's share (the dues' lines), and what it acknowledged."""

    count: int
    remitted_minor: int
    members_minor: int
    cooperative_minor: int
    acknowledged_minor: int


def remittance_totals(stmt) -> RemittanceTotals:
    """The totals of the remittances `stmt` (scoped and filtered) selects, in SQL."""
    matched = stmt.with_only_columns(Remittance.id, Remittance.amount_minor) \
        .order_by(None).subquery()
    count, remitted, acknowledged = db.session.execute(select(
        func.count(matched.c.id), func.coalesce(func.sum(matched.c.amount_minor), 0),
        func.coalesce(func.sum(RemittanceAcknowledgement.amount_minor), 0))
        .select_from(matched).outerjoin(
            RemittanceAcknowledgement,
            RemittanceAcknowledgement.remittance_id == matched.c.id)).one()
    members, cooperative = db.session.execute(select(
        func.coalesce(func.sum(RemittanceLine.member_share_minor), 0),
        func.coalesce(func.sum(RemittanceLine.cooperative_share_minor), 0))
        .where(RemittanceLine.remittance_id.in_(select(matched.c.id)))).one()
    return RemittanceTotals(count, int(remitted), int(members), int(cooperative),
                            int(acknowledged))


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
    written_off_minor: int = 0

    @property
    def open_minor(self) -> int:
        return self.due.member_share_minor - self.paid_minor - self.written_off_minor


@dataclass
class MemberStatement:
    dues: list[StatementDue]
    receipts: list[Receipt]
    due_minor: int
    allocated_minor: int
    received_minor: int
    credit_minor: int
    months_covered: list[date]
    written_off_minor: int = 0

    @property
    def balance_minor(self) -> int:
        """What the member still owes: dues − allocations − what was written off."""
        return self.due_minor - self.allocated_minor - self.written_off_minor


def member_statement(member: Member) -> MemberStatement:
    """A member's dues (with what was paid on each), receipts, balance, credit and the months
    fully paid."""
    from sqlalchemy.orm import selectinload

    paid = (select(func.coalesce(func.sum(Allocation.amount_minor), 0))
            .where(Allocation.due_id == Due.id).scalar_subquery())
    remitted = select(RemittanceLine.id).where(RemittanceLine.due_id == Due.id).exists()
    gone = (select(func.coalesce(func.sum(DueWriteOff.amount_minor), 0))
            .where(DueWriteOff.due_id == Due.id).scalar_subquery())
    dues = [StatementDue(d, int(p), bool(r), int(w)) for d, p, r, w in db.session.execute(
        select(Due, paid, remitted, gone).where(Due.cooperative_id == member.cooperative_id,
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
    # a month is covered when its due is paid; a written-off one was not paid
    covered = sorted({d.due.period for d in dues
                      if d.paid_minor >= d.due.member_share_minor})
    return MemberStatement(dues=dues, receipts=receipts,
                           due_minor=sum(d.due.member_share_minor for d in dues),
                           allocated_minor=allocated, received_minor=received,
                           credit_minor=received - allocated, months_covered=covered,
                           written_off_minor=sum(d.written_off_minor for d in dues))
