"""Access matrix entries of the self-service area's office side (see
tests/core/test_access_matrix.py): secretaries and admins answer the members' correction
requests and print a member's new sign-in code. The members' own pages (`/me`) have their own
test (tests/selfservice/test_selfservice.py)."""

from __future__ import annotations

from coopreg.extensions import db
from coopreg.selfservice import services
from tests.access_levels import EDITORS

ACCESS: dict = {
    "selfservice_office.corrections": EDITORS,
    "selfservice_office.accept_correction": EDITORS,
    "selfservice_office.reject_correction": EDITORS,
    "selfservice_office.issue_card_code": EDITORS,
}


def make_ids(app, cooperative, factories) -> dict:
    with app.app_context():
        request = services.request_correction(factories["member_id"], cooperative.id,
                                              {"locality": "San Isidro"}, "moved")
        request_id = request.id
        db.session.commit()
    return {"request_id": request_id}
