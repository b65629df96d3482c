"""Seeding for the batches tests: an agreement and members whose registrations are ready."""

from __future__ import annotations

import itertools
from datetime import date

from coopreg.agreements import services as agreement_services
from coopreg.agreements.models import Agreement, RegistrationStatus
from coopreg.cooperatives.models import Cooperative
from coopreg.members import services as member_services
from tests.conftest import member_data

FLAT_TERMS = {"rule_kind": "flat", "flat_amount": "500", "member_share_percent": "50",
              "schedule": "monthly", "due_day": 10, "grace_days": 5,
              "remittance_deadline_days": 15}
_ids = itertools.count(1)


def cedula() -> str:
    """A valid, unused Costa Rican cédula (province 1-9, tomo, asiento)."""
    n = next(_ids)
    return f"{1 + n % 9}-{n // 9 % 10000:04d}-{n % 10000:04d}"


def make_agreement(cooperative: Cooperative, reference: str = "CCSS-T",
                   pattern: str | None = r"CC-[0-9]{7}") -> Agreement:
    institution = agreement_services.create_institution(
        cooperative, "Caja Costarricense de Seguro Social", f"I{next(_ids)}",
        cooperative.country)
    scheme = agreement_services.create_scheme(institution, "Salud", ["medical_care"])
    return agreement_services.create_agreement(
        cooperative, {"institution_id": institution.id, "reference": reference,
                      "valid_from": date(2024, 1, 1), "member_number_pattern": pattern,
                      "scheme_ids": [scheme.id]}, FLAT_TERMS, None)


def ready_member(cooperative: Cooperative, agreement: Agreement, **overrides):
    """A member with a valid ID and consent, enrolled and marked ready."""
    if cooperative.country == "CR":
        overrides.setdefault("id_type", "cr_cedula")
        overrides.setdefault("id_number", cedula())
    else:
        overrides.setdefault("id_type", "local")
        overrides.setdefault("id_number", f"{next(_ids):012d}")
    member = member_services.create_member(cooperative, member_data(**overrides),
                                           confirm_duplicate=True)
    registration = agreement_services.enrol_member(agreement, member, None)
    agreement_services.transition_registration(registration, RegistrationStatus.READY, None)
    return member, registration
