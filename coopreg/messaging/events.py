"""What the areas below tell, turned into messages: the listeners of their signals (a receipt
recorded, a registration registered or rejected) and the day's reminders (a due coming up,
arrears past grace), which `coopreg reminders send` and the worker queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import case, select

from coopreg.agreements.models import Agreement, AgreementTerms, Registration, Schedule
from coopreg.agreements.models import RegistrationStatus as R
from coopreg.agreements.signals import registration_moved
from coopreg.contributions.models import Due, Receipt
from coopreg.contributions.reports import arrears_query
from coopreg.contributions.services import due_open_minor
from coopreg.contributions.signals import receipt_recorded
from coopreg.cooperatives.models import Cooperative
from coopreg.core.money import format_minor
from coopreg.core.tenancy import get_scoped
from coopreg.extensions import db
from coopreg.members.models import Member, MemberStatus
from coopreg.messaging.models import MessageEvent, OutboxMessage
from coopreg.messaging.services import member_language, queue_message


def _money(minor: int, cooperative: Cooperative, member: Member) -> str:
    return format_minor(minor, cooperative.currency, member_language(member, cooperative))


def _schemes(agreement: Agreement) -> str:
    return ", ".join(scheme.name for scheme in agreement.schemes) or agreement.reference


@receipt_recorded.connect
def _receipt_recorded(receipt: Receipt, **_kw) -> None:
    member = get_scoped(Member, receipt.member_id, receipt.cooperative_id)
    cooperative = db.session.get(Cooperative, receipt.cooperative_id)
    queue_message(member, MessageEvent.RECEIPT_RECORDED, {
        "number": str(receipt.number), "amount": _money(receipt.amount_minor, cooperative, member),
        "date": receipt.received_on.isoformat()}, dedup_key=f"receipt:{receipt.id}")


@registration_moved.connect
def _registration_moved(registration: Registration, from_status=None, to_status=None,
                        **_kw) -> None:
    if to_status not in (R.REGISTERED, R.REJECTED) or from_status != R.SUBMITTED:
        return
    member = get_scoped(Member, registration.member_id, registration.cooperative_id)
    scheme = _schemes(registration.agreement)
    stamp = int(registration.status_changed_at.timestamp()) if registration.status_changed_at else 0
    key = f"registration:{registration.id}:{to_status.value}:{stamp}"
    if to_status == R.REGISTERED:
        queue_message(member, MessageEvent.REGISTRATION_REGISTERED, {
            "scheme": scheme, "number": registration.institution_member_number or "",
            "date": registration.coverage_start.isoformat()
            if registration.coverage_start else ""}, dedup_key=key)
    else:
        queue_message(member, MessageEvent.REGISTRATION_REJECTED, {
            "scheme": scheme, "reason": registration.rejection_reason or ""}, dedup_key=key)


@dataclass
class Reminder:
    member: Member
    event: MessageEvent
    parameters: dict
    dedup_key: str

    @property
    def label(self) -> str:
        return f"{self.member.member_number} {self.event.value} {self.parameters.get('amount')}"


def reminders_due(cooperative: Cooperative, today: date) -> list[Reminder]:
    """The reminders of the day: each open due falling in MESSAGES_DUE_REMINDER_DAYS days
    (seasonal agreements first: a harvest-month due is the one members miss), and each member
    in arrears past grace (once a month)."""
    days = current_app.config["MESSAGES_DUE_REMINDER_DAYS"]
    found: list[Reminder] = []
    dues = db.session.execute(
        select(Due, Member).join(Member, Member.id == Due.member_id)
        .join(AgreementTerms, AgreementTerms.id == Due.terms_id)
        .where(Due.cooperative_id == cooperative.id, Member.cooperative_id == cooperative.id,
               AgreementTerms.cooperative_id == cooperative.id,
               Due.due_date == today + timedelta(days=days),
               Member.status == MemberStatus.ACTIVE)
        .order_by(case((AgreementTerms.schedule == Schedule.SEASONAL, 0), else_=1), Due.id)
    ).all()
    for due, member in dues:
        left = due_open_minor(due)
        if left <= 0:
            continue
        found.append(Reminder(member, MessageEvent.DUE_SOON, {
            "amount": _money(left, cooperative, member), "date": due.due_date.isoformat(),
            "scheme": _schemes(due.agreement)}, f"due:{due.id}"))
    for row in db.session.execute(arrears_query(cooperative.id, today=today)).all():
        member = get_scoped(Member, row[0], cooperative.id)
        found.append(Reminder(member, MessageEvent.ARREARS, {
            "amount": _money(int(row[8]), cooperative, member)},
            f"arrears:{member.id}:{today:%Y-%m}"))
    return found


def queue_reminders(cooperative: Cooperative, today: date) -> list[OutboxMessage]:
    """Queue the day's reminders (idempotent: a reminder queued already is not queued again);
    returns the messages made or found."""
    return [queue_message(r.member, r.event, r.parameters, dedup_key=r.dedup_key)
            for r in reminders_due(cooperative, today)]
