"""Fixtures for the agreements area: a cooperative bound to the test's session, an institution
with schemes, an agreement requiring one document, and members ready (or not) to register."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from coopreg.agreements import services
from coopreg.agreements.models import Registration, RegistrationStatus
from coopreg.cooperatives.models import DocumentType
from coopreg.extensions import db
from coopreg.members import services as member_services
from tests.conftest import member_data

# valid Costa Rican cédulas (python-stdnum cr.cpf)
CEDULAS = [f"1-{1000 + i:04d}-{2000 + i:04d}" for i in range(200)]

FLAT = {"rule_kind": "flat", "flat_amount": "500", "member_share_percent": "50",
        "schedule": "monthly", "due_day": 10, "grace_days": 5, "remittance_deadline_days": 15}


@pytest.fixture
def id_copy(cr) -> DocumentType:
    return db.session.scalar(select(DocumentType).where(
        DocumentType.cooperative_id == cr.id, DocumentType.name == "Copy of national ID"))


@pytest.fixture
def institution(cr):
    return services.create_institution(cr, "Caja Costarricense de Seguro Social", "CCSS", "CR")


@pytest.fixture
def health(institution):
    return services.create_scheme(institution, "Seguro de Salud",
                                  ["medical_care", "sickness", "maternity"])


@pytest.fixture
def pensions(institution):
    return services.create_scheme(institution, "Invalidez, Vejez y Muerte",
                                  ["invalidity", "old_age", "survivors"])


@pytest.fixture
def make_agreement(cr, institution, health, id_copy):
    def factory(reference: str = "CCSS-1", terms: dict | None = None, schemes=None,
                documents=None, **data):
        values = {"institution_id": institution.id, "reference": reference,
                  "valid_from": date(2024, 1, 1),
                  "scheme_ids": [s.id for s in (schemes or [health])],
                  "document_type_ids": [d.id for d in (documents if documents is not None
                                                       else [id_copy])],
                  "member_number_pattern": r"CC-[0-9]{7}"}
        values.update(data)
        return services.create_agreement(cr, values, terms or FLAT, None)
    return factory


@pytest.fixture
def agreement(make_agreement):
    return make_agreement()


_ids = iter(CEDULAS)


@pytest.fixture
def new_member(cr, id_copy):
    """`new_member(ready=True, **fields)`: a member; ready ones have a valid ID, consent and
    the ID copy."""
    def factory(ready: bool = True, **overrides):
        data = member_data(id_number=next(_ids) if ready else "",
                           consent_given=ready,
                           consent_date=date(2020, 1, 15) if ready else None,
                           consent_method="signed_form" if ready else "", **overrides)
        member = member_services.create_member(cr, data, confirm_duplicate=True)
        if ready:
            member_services.set_documents(member, {id_copy.id: date(2020, 1, 15)})
        return member
    return factory


def force_status(registration: Registration, status: RegistrationStatus, **fields) -> None:
    """Put a registration in a status directly (to test what can follow from it)."""
    registration.status = status
    for key, value in fields.items():
        setattr(registration, key, value)
    db.session.flush()
