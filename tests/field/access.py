"""Access matrix entries of the field mode (see tests/core/test_access_matrix.py).

The roles that go out use it: the secretary (members) and the treasurer (receipts), and the
admin; viewers do not. The manifest and the service worker hold no data (any logged-in user);
photos of members' documents are for the roles that keep members' documents."""

from __future__ import annotations

from tests.access_levels import EDITORS, LOGIN, OFFICE

ACCESS: dict = {
    "field.index": OFFICE,
    "field.manifest": LOGIN,
    "field.service_worker": LOGIN,
    "field.field_session": OFFICE,
    "field.download": OFFICE,
    "field.sync": OFFICE,
    "field.photo": EDITORS,
    "field.view_photo": EDITORS,
}


def make_ids(app, cooperative, factories) -> dict:
    """A field photo of the matrix's member."""
    from coopreg.cooperatives.models import Cooperative
    from coopreg.core.audit import acting_as
    from coopreg.extensions import db
    from coopreg.field import services
    from tests.field.helpers import png

    with app.test_request_context(), acting_as(None, "tests"):
        coop = db.session.get(Cooperative, cooperative.id)
        made = services.save_photo(coop, None, factories["member_id"], "id_document", None,
                                   png())
        db.session.commit()
    return {"photo_id": made["photo_id"]}
