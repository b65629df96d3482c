"""Access matrix entries of the agreements area (see tests/core/test_access_matrix.py)."""

from __future__ import annotations

from datetime import date

from tests.access_levels import ADMIN, ALL, EDITORS, MONEY, OFFICE  # noqa: F401

ACCESS: dict = {
    "agreements.list_agreements": ALL,
    "agreements.institutions": ALL,
    "agreements.new_institution": ADMIN,
    "agreements.edit_institution": ADMIN,
    "agreements.new_scheme": ADMIN,
    "agreements.edit_scheme": ADMIN,
    "agreements.new_agreement": ADMIN,
    "agreements.edit_agreement": ADMIN,
    "agreements.amend_terms": ADMIN,
    "agreements.view_agreement": ALL,
    "agreements.campaign": ALL,
    "agreements.not_enrolled": ALL,
    "agreements.enrol": EDITORS,
    "agreements.mark_ready": EDITORS,
    "agreements.enrol_member": EDITORS,
    "agreements.view_registration": ALL,
    "agreements.transition": EDITORS,
    "agreements.coverage": ALL,
    "agreements.coverage_xlsx": ALL,
    "agreements.registration_summary": ALL,
    "agreements.awareness_sheet": ALL,
    "agreements.member_awareness_sheet": ALL,
}

FLAT_TERMS = {"rule_kind": "flat", "flat_amount": "500", "member_share_percent": "50",
              "schedule": "monthly", "due_day": 10, "grace_days": 5,
              "remittance_deadline_days": 15}


def make_ids(app, cooperative, factories) -> dict:
    """The ids this area's routes take (URL argument name → id), created in `cooperative`."""
    from coopreg.agreements import services
    from coopreg.cooperatives.models import Cooperative
    from coopreg.core.audit import acting_as
    from coopreg.extensions import db
    from coopreg.members.models import Member

    member = factories["make_member"](cooperative)
    with app.app_context(), acting_as(None, "tests"):
        coop = db.session.get(Cooperative, cooperative.id)
        institution = services.create_institution(coop, "Institution", "INST", coop.country)
        scheme = services.create_scheme(institution, "Health", ["medical_care"])
        agreement = services.create_agreement(
            coop, {"institution_id": institution.id, "reference": "ACCESS-1",
                   "valid_from": date(2024, 1, 1), "scheme_ids": [scheme.id]},
            FLAT_TERMS, None)
        registration = services.enrol_member(agreement, db.session.get(Member, member.id),
                                             None)
        ids = {"institution_id": institution.id, "scheme_id": scheme.id,
               "agreement_id": agreement.id, "registration_id": registration.id}
        db.session.commit()
    return ids
