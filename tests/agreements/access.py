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
    "agreements.coverage_brief": ALL,
    "agreements.set_family_rule": ADMIN,
    "agreements.remove_family_rule": ADMIN,
    "agreements.enrol_dependant": EDITORS,
    "agreements.transition_dependant": EDITORS,
    "agreements.record_outside_coverage": EDITORS,
    "agreements.remove_outside_coverage": EDITORS,
    "agreements.place_in_category": EDITORS,
    "agreements.declare_income": EDITORS,
}

FLAT_TERMS = {"rule_kind": "flat", "flat_amount": "500", "member_share_percent": "50",
              "schedule": "monthly", "due_day": 10, "grace_days": 5,
              "remittance_deadline_days": 15}


def make_ids(app, cooperative, factories) -> dict:
    """The ids this area's routes take (URL argument name → id), created in `cooperative`."""
    from coopreg.agreements import families, services
    from coopreg.cooperatives.models import Cooperative
    from coopreg.core.audit import acting_as
    from coopreg.extensions import db
    from coopreg.members import services as member_services
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
        member_row = db.session.get(Member, member.id)
        rule = families.set_family_rule(scheme, "child", max_age=18)
        dependant = member_services.add_dependant(member_row, "Hija", "child",
                                                  date(2015, 1, 1), None)
        enrolled = families.enrol_dependant(registration, dependant)
        outside = families.record_outside_coverage(member_row, "employer", ["sickness"])[0]
        ids = {"institution_id": institution.id, "scheme_id": scheme.id,
               "agreement_id": agreement.id, "registration_id": registration.id,
               "rule_id": rule.id, "dependant_registration_id": enrolled.id,
               "row_id": outside.id}
        db.session.commit()
    return ids
