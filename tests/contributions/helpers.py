"""Building blocks for the contributions tests: an agreement, members registered under it,
and a receipt form's data. Call inside an app context (the `ctx` fixture, or your own)."""

from __future__ import annotations

import uuid
from datetime import date

from coopreg.agreements.models import Agreement, Registration, RegistrationStatus
from coopreg.contributions.services import ReceiptInput
from coopreg.cooperatives.models import Cooperative
from coopreg.core.models import utcnow
from coopreg.extensions import db
from coopreg.members import services as member_services
from coopreg.members.models import Member
from tests.conftest import member_data
from tests.factories import FLAT, make_agreement  # noqa: F401 - the tests import them here

SEASONAL_RATE = {"rule_kind": "rate", "rate_percent": "10", "floor": "300000",
                 "ceiling": "2500000", "member_share_percent": "60", "schedule": "seasonal",
                 "due_months": [11, 12, 1, 2], "due_day": 15, "grace_days": 10,
                 "remittance_deadline_days": 20}

def make_member(cooperative: Cooperative, **overrides) -> Member:
    cooperative = db.session.get(Cooperative, cooperative.id)
    return member_services.create_member(cooperative, member_data(**overrides),
                                         confirm_duplicate=True)


def register(agreement: Agreement, member: Member, coverage_start: date,
             coverage_end: date | None = None,
             status: RegistrationStatus = RegistrationStatus.REGISTERED) -> Registration:
    registration = Registration(cooperative_id=agreement.cooperative_id, member_id=member.id,
                                agreement_id=agreement.id, status=status,
                                coverage_start=coverage_start, coverage_end=coverage_end,
                                status_changed_at=utcnow())
    db.session.add(registration)
    db.session.flush()
    return registration


def receipt_input(member: Member, amount, received_on: date = date(2024, 6, 1),
                  method: str = "cash", **extra) -> ReceiptInput:
    return ReceiptInput(member_id=member.id, received_on=received_on, amount=amount,
                        method=method, idempotency_key=extra.pop("key", str(uuid.uuid4())),
                        **extra)
