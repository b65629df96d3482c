"""Factories shared by every test folder: an agreement with its institution and scheme, and
valid Costa Rican cédulas. Call inside an app context (the `ctx` fixture, or your own)."""

from __future__ import annotations

import itertools
from datetime import date

from coopreg.agreements import services as agreement_services
from coopreg.agreements.models import Agreement
from coopreg.cooperatives.models import Cooperative
from coopreg.extensions import db

# flat 1,000 a month, the member pays 60 %
FLAT = {"rule_kind": "flat", "flat_amount": "1000", "member_share_percent": "60",
        "schedule": "monthly", "due_day": 10, "grace_days": 5, "remittance_deadline_days": 15}

_numbers = itertools.count(1)


def cedula() -> str:
    """A valid, unused Costa Rican cédula (province 1-9, tomo, asiento)."""
    n = next(_numbers)
    return f"{1 + n % 9}-{n // 9 % 10000:04d}-{n % 10000:04d}"


def make_agreement(cooperative: Cooperative, terms: dict | None = None, *,
                   reference: str | None = None, valid_from: date = date(2024, 1, 1),
                   pattern: str | None = None, scheme: str = "Health",
                   branches: tuple[str, ...] = ("medical_care",)) -> Agreement:
    """An agreement of `cooperative` with a new institution and one scheme: `terms` (FLAT by
    default), an institution member-number `pattern` if given."""
    cooperative = db.session.get(Cooperative, cooperative.id)
    n = next(_numbers)
    institution = agreement_services.create_institution(
        cooperative, f"Institution {n}", f"INS{n}", cooperative.country)
    created = agreement_services.create_scheme(institution, scheme, list(branches))
    return agreement_services.create_agreement(
        cooperative, {"institution_id": institution.id, "reference": reference or f"AG-{n}",
                      "valid_from": valid_from, "member_number_pattern": pattern,
                      "scheme_ids": [created.id]}, terms or FLAT, None)
