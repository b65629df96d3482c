"""Demo contributions for the demo agreements (CCSS-DEMO, PHIC-DEMO): every due since the
agreement began (no month left unbilled),
receipts (most on time, some partial, some late, one reversed), monthly remittances (all but
the latest acknowledged, one acknowledged short), what the state paid of its shares (up to
three months ago, one month short), closed periods, and one imported
mobile-money statement with a line nobody can match. Idempotent: a cooperative that already
has receipts is left as it is; without agreements there is nothing to do."""

from __future__ import annotations

import random
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from coopreg.agreements.models import Agreement
from coopreg.contributions import payers, services, statements
from coopreg.contributions.models import Due, PaymentMethod, Receipt
from coopreg.cooperatives.models import Cooperative
from coopreg.core.money import from_minor
from coopreg.extensions import db

COLLECTORS = ("Tesorería", "Reunión de socios", "Field officer")


def _months_back(day: date, months: int) -> date:
    month = services.month_start(day)
    for _step in range(months):
        month = services.previous_month(month)
    return month


def load_demo_contributions(cooperative: Cooperative, seed: int,
                            today: date | None = None) -> str:
    today = today or date.today()
    if db.session.scalar(select(func.count()).select_from(Receipt).where(
            Receipt.cooperative_id == cooperative.id)):
        return f"{cooperative.code}: contributions already there; kept."
    agreements = db.session.scalars(select(Agreement).where(
        Agreement.cooperative_id == cooperative.id).order_by(Agreement.id)).all()
    if not agreements:
        return f"{cooperative.code}: no agreement, no contributions."
    rng = random.Random(seed * 104729)
    this_month = today.replace(day=1)
    counts = {"dues": 0, "receipts": 0, "remittances": 0}
    mobile_receipts: list[Receipt] = []
    for agreement in agreements:
        # every month since the agreement began: the demo is in a steady state, and pressing
        # Generate on it (this month, or reaching back) creates nothing unexpected
        counts["dues"] += services.generate_dues(agreement, agreement.valid_from,
                                                 this_month).created
        counts["receipts"] += _pay(cooperative, agreement, rng, today, mobile_receipts)
    _reverse_one(cooperative, rng)
    for agreement in agreements:
        counts["remittances"] += _remit(agreement, today)
        _third_parties(agreement, today)
    _statement(cooperative, mobile_receipts, today)
    db.session.flush()
    return (f"{cooperative.code}: {counts['dues']} dues, {counts['receipts']} receipts, "
            f"{counts['remittances']} remittances, 1 statement.")


def _pay(cooperative: Cooperative, agreement: Agreement, rng: random.Random, today: date,
         mobile_receipts: list[Receipt]) -> int:
    """Each member pays their dues in a few instalments: most in full around the due date,
    some partly, a few not at all."""
    rows = db.session.execute(select(Due.member_id, Due.due_date, Due.member_share_minor)
                              .where(Due.cooperative_id == cooperative.id,
                                     Due.agreement_id == agreement.id, Due.due_date <= today)
                              .order_by(Due.member_id, Due.due_date)).all()
    by_member: dict[int, list[tuple[date, int]]] = {}
    for member_id, due_date, share in rows:
        by_member.setdefault(member_id, []).append((due_date, share))
    made = 0
    for member_id, dues in by_member.items():
        habit = rng.random()
        if habit < 0.12:
            continue  # never paid: arrears
        step = 1 if habit < 0.35 else rng.choice((3, 6))  # monthly, or a few months at once
        for index in range(0, len(dues), step):
            group = dues[index:index + step]
            amount = sum(share for _d, share in group)
            if rng.random() < 0.15:
                amount = amount * rng.choice((30, 50, 70)) // 100  # a partial payment
            if amount <= 0:
                continue
            late = rng.random() < 0.1
            received = min(today, group[-1][0] + timedelta(days=rng.randint(-5, 40 if late
                                                                                  else 8)))
            method = rng.choices(("cash", "mobile_money", "bank_transfer",
                                  "produce_deduction"), (60, 20, 10, 10))[0]
            reference = (f"DEMO-{cooperative.code}-{member_id}-{index}"
                         if method in ("mobile_money", "bank_transfer") else None)
            receipt, _created = services.record_receipt(cooperative, services.ReceiptInput(
                member_id=member_id, received_on=received,
                amount=from_minor(amount, cooperative.currency), method=method,
                external_reference=reference, collector=rng.choice(COLLECTORS),
                idempotency_key=f"demo-{cooperative.code}-{agreement.id}-{member_id}-{index}"),
                None, today=today)
            made += 1
            if method == "mobile_money":
                mobile_receipts.append(receipt)
    return made


def _reverse_one(cooperative: Cooperative, rng: random.Random) -> None:
    candidates = db.session.scalars(select(Receipt).where(
        Receipt.cooperative_id == cooperative.id, Receipt.method == PaymentMethod.CASH)
        .order_by(Receipt.number.desc()).limit(20)).all()
    for receipt in candidates:
        if not services.reversal_blockers(receipt):
            services.reverse_receipt(receipt, _("Recorded for the wrong member (demo)"),
                                         None)
            return


def _remit(agreement: Agreement, today: date) -> int:
    """Remit every month since the agreement began up to two months ago; acknowledge all but
    the latest (one short); close the months up to four months ago."""
    month, last = agreement.valid_from.replace(day=1), _months_back(today, 2)
    made = []
    while month <= last:
        total = services.remittable_total(agreement, month)
        if total:
            made.append(services.record_remittance(
                agreement, month, services.month_end(month) + timedelta(days=10),
                from_minor(total, agreement.cooperative.currency),
                f"TRF-{agreement.reference}-{month:%Y%m}", None, today=today))
        month = services.next_month(month)
    for index, remittance in enumerate(made[:-1]):
        short = 100 if index == len(made) - 3 else 0  # one acknowledged short
        services.acknowledge_remittance(
            remittance, min(today, remittance.remitted_on + timedelta(days=12)),
            from_minor(remittance.amount_minor - short, agreement.cooperative.currency),
            f"ACK-{remittance.period:%Y%m}", None, today=today)
    month, last_closed = agreement.valid_from.replace(day=1), _months_back(today, 4)
    while month <= last_closed:
        services.close_period(agreement, month, None, today=today)
        month = services.next_month(month)
    return len(made)


def _third_parties(agreement: Agreement, today: date) -> None:
    """What third parties (the state) paid: every month in full up to three months ago but
    one paid short, so the latest months and the short one are late (a receivable)."""
    month, last = agreement.valid_from.replace(day=1), _months_back(today, 3)
    index = 0
    while month <= last:
        for column in payers.payer_columns(agreement, month, today=today):
            if column.name is None or column.open_minor <= 0:
                continue
            short = column.open_minor // 10 if index == 1 else 0
            payers.record_third_party_payment(
                agreement, column.name, month,
                min(today, services.month_end(month) + timedelta(days=25)),
                from_minor(column.open_minor - short, agreement.cooperative.currency),
                f"{agreement.reference}-{month:%Y%m}", None, None, today=today)
            index += 1
        month = services.next_month(month)


def _statement(cooperative: Cooperative, receipts: list[Receipt], today: date) -> None:
    source = statements.find_or_create_source(cooperative, _("Mobile wallet (demo)"),
                                              "mobile_money")
    headers = ["Date", "Amount", "Transaction ID", "Sender", "Details"]
    statements.save_mapping(source, headers, {
        "date_column": "Date", "amount_column": "Amount", "reference_column": "Transaction ID",
        "member_column": "Sender", "description_column": "Details"}, "ymd")
    lines = [",".join(headers)]
    for receipt in receipts[-15:]:
        amount = from_minor(receipt.amount_minor, cooperative.currency)
        lines.append(f"{receipt.received_on.isoformat()},{amount},{receipt.external_reference},"
                     f",Contribution")
    lines.append(f"{(today - timedelta(days=3)).isoformat()},1234.00,,0000000,"
                 "Unknown sender")
    lines.append(f"{(today - timedelta(days=2)).isoformat()},-25.00,,,Wallet fee")
    statements.import_statement(cooperative, source, ("\n".join(lines) + "\n").encode(),
                                "wallet-demo.csv", None)
