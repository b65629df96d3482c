"""Seeding for the batches tests: an agreement and members whose registrations are ready."""

from __future__ import annotations

from coopreg.agreements import services as agreement_services
from coopreg.agreements.models import Agreement, RegistrationStatus
from coopreg.cooperatives.models import Cooperative
from coopreg.members import services as member_services
from tests import factories
from tests.conftest import member_data
from tests.factories import cedula

FLAT_TERMS = {"rule_kind": "flat", "flat_amount": "500", "member_share_percent": "50",
              "schedule": "monthly", "due_day": 10, "grace_days": 5,
              "remittance_deadline_days": 15}


def make_agreement(cooperative: Cooperative, reference: str = "CCSS-T",
                   pattern: str | None = r"CC-[0-9]{7}") -> Agreement:
    """The batches tests' agreement: flat 500 shared half and half, CCSS-like numbers."""
    return factories.make_agreement(cooperative, FLAT_TERMS, reference=reference,
                                    pattern=pattern, scheme="Salud")


def ready_member(cooperative: Cooperative, agreement: Agreement, **overrides):
    """A member with a valid ID and consent, enrolled and marked ready."""
    if cooperative.country == "CR":
        overrides.setdefault("id_type", "cr_cedula")
        overrides.setdefault("id_number", cedula())
    else:
        overrides.setdefault("id_type", "local")
        overrides.setdefault("id_number", f"{int(cedula().replace('-', '')):012d}")
    member = member_services.create_member(cooperative, member_data(**overrides),
                                           confirm_duplicate=True)
    registration = agreement_services.enrol_member(agreement, member, None)
    agreement_services.transition_registration(registration, RegistrationStatus.READY, None)
    return member, registration
