"""Seeding for the federations tests: a federation of two Costa Rican cooperatives, each with
an agreement with the same institution (same code, kept by each cooperative)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from coopreg.agreements import services as agreement_services
from coopreg.agreements.models import Institution
from coopreg.auth import services as auth_services
from coopreg.cooperatives.models import Cooperative
from coopreg.core.audit import acting_as
from coopreg.extensions import db
from coopreg.federations import services
from tests.batches.helpers import FLAT_TERMS
from tests.conftest import PASSWORD


def agreement_with(cooperative: Cooperative, short_name: str = "CCSS", reference: str = "AG"):
    """An agreement of the cooperative with the institution `short_name` (made if missing)."""
    cooperative = db.session.get(Cooperative, cooperative.id)
    institution = db.session.scalar(select(Institution).where(
        Institution.cooperative_id == cooperative.id, Institution.short_name == short_name))
    if institution is None:
        institution = agreement_services.create_institution(
            cooperative, f"Institution {short_name}", short_name, cooperative.country)
    scheme = agreement_services.create_scheme(institution, f"Salud {reference}",
                                              ["medical_care"])
    return agreement_services.create_agreement(
        cooperative, {"institution_id": institution.id, "reference": reference,
                      "valid_from": date(2024, 1, 1), "member_number_pattern": None,
                      "scheme_ids": [scheme.id]}, FLAT_TERMS, None)


def federation_of(app, *cooperatives, code: str = "FEDCR"):
    """A federation holding the cooperatives; returns its id."""
    with app.app_context(), acting_as(None, "tests"):
        federation = services.create_federation(code, "Federación de Prueba")
        for cooperative in cooperatives:
            services.add_cooperative(federation, db.session.get(Cooperative, cooperative.id))
        db.session.commit()
        return federation.id


def federation_user(app, federation_id: int, role: str, email: str | None = None):
    """A user holding only a federation role; returns their email."""
    from coopreg.federations.models import Federation

    with app.app_context(), acting_as(None, "tests"):
        user = auth_services.create_user(email or f"{role}{federation_id}@example.org",
                                         "Federation Person", PASSWORD)
        services.grant_federation_role(user, db.session.get(Federation, federation_id), role)
        db.session.commit()
        return user.email
