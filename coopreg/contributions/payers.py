"""Each payer's money of an agreement's month: what the member, the cooperative, the state and
every other third party owe, what they paid, and what is still missing — and what third
parties paid, recorded by the treasurer (when, how much, which reference), reversed like a
receipt, never edited.

Decisions:
- A due's whole amount is the member's share + each third party's share + the cooperative's
  share (`agreements.services.split_due`). The member's and the cooperative's shares stay on
  the due; third parties' shares are rows of `due_payer_shares`, one per payer share.
- Receipts collect the member's share only (as before). The cooperative's share counts as
  paid when it goes out in a remittance line. A third party pays per period: a
  `ThirdPartyPayment` for (agreement, payer, period), never more than that payer still owes
  for the period, so what is paid never exceeds what is due, per payer.
- A third party is late (a receivable) when its share of a period is still open after the
  period's grace date (the latest grace date of the period's dues).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from coopreg.agreements.models import Agreement, PayerKind, TermsPayer
from coopreg.contributions.models import (
    Due,
    DuePayerShare,
    DueTotal,
    RemittanceLine,
    ThirdPartyPayment,
    ThirdPartyPaymentReversal,
)
from coopreg.contributions.services import (
    _lock_agreement,
    amount_minor,
    check_money_date,
    month_start,
    third_shares_by_period,
)
from coopreg.cooperatives.models import Cooperative
from coopreg.core.errors import DomainError
from coopreg.core.money import format_minor
from coopreg.core.validation import clean_text
from coopreg.extensions import db


@dataclass
class PayerColumn:
    """One payer's figures for an agreement's month: whose money (`kind`, `name`), where it
    goes (through the cooperative or straight to the institution), what is due, what was
    paid, what is missing, and whether what is missing is late."""

    kind: PayerKind
    name: str | None  # None: the member(s), the cooperative
    through_cooperative: bool
    due_minor: int = 0
    paid_minor: int = 0
    late: bool = False

    @property
    def open_minor(self) -> int:
        return self.due_minor - self.paid_minor

    @property
    def receivable_minor(self) -> int:
        """What a third party owes past the grace date (zero for the member and the
        cooperative: the arrears list chases members)."""
        if self.kind in (PayerKind.MEMBER, PayerKind.COOPERATIVE) or not self.late:
            return 0
        return self.open_minor


def _period_dues(agreement: Agreement, period: date):
    return (Due.cooperative_id == agreement.cooperative_id, Due.agreement_id == agreement.id,
            Due.period == period)


def third_party_paid(agreement: Agreement, period: date) -> dict[str, int]:
    """What each third party paid (not reversed) for an agreement's month, by payer name."""
    rows = db.session.execute(
        select(ThirdPartyPayment.payer_name, func.sum(ThirdPartyPayment.amount_minor))
        .outerjoin(ThirdPartyPaymentReversal,
                   ThirdPartyPaymentReversal.payment_id == ThirdPartyPayment.id)
        .where(ThirdPartyPayment.cooperative_id == agreement.cooperative_id,
               ThirdPartyPayment.agreement_id == agreement.id,
               ThirdPartyPayment.period == period,
               ThirdPartyPaymentReversal.id.is_(None))
        .group_by(ThirdPartyPayment.payer_name))
    return {name: int(total) for name, total in rows}


def payer_columns(agreement: Agreement, period: date, today: date | None = None
                  ) -> list[PayerColumn]:
    """Every payer's column of an agreement's month, the member first and the cooperative
    last: due, paid and open. The members' paid is what receipts allocated to the month's
    dues; the cooperative's, its share of the month's dues already remitted; a third party's,
    its payments for the month. The columns' dues add up to the month's dues."""
    period = month_start(period)
    today = today or date.today()
    member_due, cooperative_due, member_paid, grace = db.session.execute(
        select(func.coalesce(func.sum(Due.member_share_minor), 0),
               func.coalesce(func.sum(Due.cooperative_share_minor), 0),
               func.coalesce(func.sum(DueTotal.paid_minor), 0), func.max(Due.grace_until))
        .outerjoin(DueTotal, DueTotal.due_id == Due.id)
        .where(*_period_dues(agreement, period))).one()
    cooperative_paid = db.session.scalar(
        select(func.coalesce(func.sum(RemittanceLine.cooperative_share_minor), 0))
        .join(Due, Due.id == RemittanceLine.due_id)
        .where(RemittanceLine.cooperative_id == agreement.cooperative_id,
               *_period_dues(agreement, period)))
    late = grace is not None and today > grace
    columns = [PayerColumn(PayerKind.MEMBER, None, True, int(member_due), int(member_paid),
                           late)]
    paid = third_party_paid(agreement, period)
    shares = db.session.execute(
        select(TermsPayer.name, TermsPayer.kind, TermsPayer.through_cooperative,
               func.sum(DuePayerShare.amount_minor))
        .join(TermsPayer, TermsPayer.id == DuePayerShare.payer_id)
        .join(Due, Due.id == DuePayerShare.due_id)
        .where(DuePayerShare.cooperative_id == agreement.cooperative_id,
               TermsPayer.cooperative_id == agreement.cooperative_id,
               *_period_dues(agreement, period))
        .group_by(TermsPayer.name, TermsPayer.kind, TermsPayer.through_cooperative)
        .order_by(TermsPayer.name))
    by_name: dict[str, PayerColumn] = {}
    for name, kind, through, due in shares:
        column = by_name.get(name)
        if column is None:
            column = by_name[name] = PayerColumn(kind, name, through, 0, paid.get(name, 0),
                                                 late)
        column.due_minor += int(due)
    columns += list(by_name.values())
    columns.append(PayerColumn(PayerKind.COOPERATIVE, None, True, int(cooperative_due),
                               int(cooperative_paid or 0), late))
    return columns


def payers_of_period(agreement: Agreement, period: date) -> dict[str, bool]:
    """The third parties that owe a share of an agreement's month: name → whether their money
    passes through the cooperative."""
    rows = db.session.execute(
        select(TermsPayer.name, TermsPayer.through_cooperative).distinct()
        .join(DuePayerShare, DuePayerShare.payer_id == TermsPayer.id)
        .join(Due, Due.id == DuePayerShare.due_id)
        .where(DuePayerShare.cooperative_id == agreement.cooperative_id,
               TermsPayer.cooperative_id == agreement.cooperative_id,
               *_period_dues(agreement, month_start(period))))
    return dict(rows.all())


def record_third_party_payment(agreement: Agreement, payer_name: str, period: date,
                               paid_on: date | None, amount: Any, reference: Any,
                               note: Any, actor_id: int | None,
                               today: date | None = None) -> ThirdPartyPayment:
    """Record what a third party paid of its shares of an agreement's month. Refused: a payer
    that owes nothing that month, an amount above what it still owes for the month, a date in
    the future or before the cooperative's founding, a missing reference."""
    period = month_start(period)
    cooperative = db.session.get(Cooperative, agreement.cooperative_id)
    payers = payers_of_period(agreement, period)
    if payer_name not in payers:
        raise DomainError(_("%(payer)s owes no share of %(month)s under this agreement.",
                            payer=payer_name, month=f"{period:%Y-%m}"), field="payer_name")
    if paid_on is None:
        raise DomainError(_("Give the date of the payment."), field="paid_on")
    check_money_date(cooperative, paid_on, "paid_on", today or date.today())
    minor = amount_minor(amount, cooperative.currency)
    reference = clean_text(reference, 80, "reference", _("The reference"), required=True)
    note = clean_text(note, 300, "note", _("The note"), required=False)
    _lock_agreement(agreement.id)  # two treasurers at once cannot overpay the same share
    column = next(c for c in payer_columns(agreement, period) if c.name == payer_name)
    if minor > column.open_minor:
        raise DomainError(_("%(payer)s owes %(open)s for %(month)s; a payment cannot be more.",
                            payer=payer_name, open=_money(column.open_minor, cooperative),
                            month=f"{period:%Y-%m}"), field="amount")
    payment = ThirdPartyPayment(cooperative_id=agreement.cooperative_id,
                                agreement_id=agreement.id, payer_name=payer_name,
                                period=period, paid_on=paid_on, amount_minor=minor,
                                reference=reference, note=note,
                                through_cooperative=payers[payer_name],
                                recorded_by_id=actor_id)
    db.session.add(payment)
    db.session.flush()
    return payment


def _money(minor: int, cooperative: Cooperative) -> str:
    return format_minor(minor, cooperative.currency)


def reverse_third_party_payment(payment: ThirdPartyPayment, reason: Any,
                                actor_id: int | None) -> ThirdPartyPaymentReversal:
    """Reverse a wrong third-party payment with a reason: it stays on record and stops
    counting, so the payer owes again exactly what it owed before. Once only."""
    reason = clean_text(reason, 300, "reason", _("The reason"), required=True)
    if payment.reversal is not None:
        raise DomainError(_("This payment is already reversed."))
    _lock_agreement(payment.agreement_id)
    reversal = ThirdPartyPaymentReversal(cooperative_id=payment.cooperative_id,
                                         payment_id=payment.id, reason=reason,
                                         reversed_by_id=actor_id)
    db.session.add(reversal)
    db.session.flush()
    db.session.expire(payment, ["reversal"])
    return reversal


def third_party_payments(agreement: Agreement, period: date | None = None
                         ) -> list[ThirdPartyPayment]:
    """An agreement's third-party payments, newest period first (of one month if given)."""
    stmt = (select(ThirdPartyPayment)
            .where(ThirdPartyPayment.cooperative_id == agreement.cooperative_id,
                   ThirdPartyPayment.agreement_id == agreement.id)
            .order_by(ThirdPartyPayment.period.desc(), ThirdPartyPayment.id.desc()))
    if period is not None:
        stmt = stmt.where(ThirdPartyPayment.period == month_start(period))
    return list(db.session.scalars(stmt))


def third_parties_by_period(agreement: Agreement) -> tuple[list[str], dict]:
    """For the reconciliation: (the third parties' names, {period: {name: (due, paid)}}) of
    every month of an agreement, in two grouped queries."""
    due_rows = third_shares_by_period(agreement)
    paid_rows = db.session.execute(
        select(ThirdPartyPayment.period, ThirdPartyPayment.payer_name,
               func.sum(ThirdPartyPayment.amount_minor))
        .outerjoin(ThirdPartyPaymentReversal,
                   ThirdPartyPaymentReversal.payment_id == ThirdPartyPayment.id)
        .where(ThirdPartyPayment.cooperative_id == agreement.cooperative_id,
               ThirdPartyPayment.agreement_id == agreement.id,
               ThirdPartyPaymentReversal.id.is_(None))
        .group_by(ThirdPartyPayment.period, ThirdPartyPayment.payer_name))
    paid = {(period, name): int(total) for period, name, total in paid_rows}
    names: dict[str, None] = {}
    out: dict = {}
    for period, name, due in due_rows:
        names[name] = None
        out.setdefault(period, {})[name] = (due, paid.get((period, name), 0))
    return sorted(names), out
