"""Access matrix entries of the federations area (see tests/core/test_access_matrix.py).

The federation's pages take no id: the federation is the one where the user holds a role;
the cooperative admin's sharing page is a cooperative page like the settings."""

from __future__ import annotations

from tests.access_levels import ADMIN, FEDERATION, FEDERATION_ADMIN, INSTITUTION

ACCESS: dict = {
    "federations.home": FEDERATION,
    "federations.add_cooperative": FEDERATION_ADMIN,
    "federations.add_desk_account": FEDERATION_ADMIN,
    "federations.rollup": FEDERATION,
    "federations.brief": FEDERATION,
    "federations.duplicates": FEDERATION,
    "federations.sharing": ADMIN,
    "federations.catalogue_page": FEDERATION,
    "federations.add_catalogue_institution": FEDERATION_ADMIN,
    "federations.edit_catalogue_institution": FEDERATION_ADMIN,
    "federations.set_catalogue_scheme": FEDERATION_ADMIN,
    "federations.set_catalogue_template": FEDERATION_ADMIN,
    "federations.adopt_template": ADMIN,
    "federations.follow_template": ADMIN,
    "federations.cooperative_catalogue": ADMIN,
    "federations.adopt": ADMIN,
    "federations.update_copy": ADMIN,
    "federations.publish_layout": ADMIN,
    "federations.adopt_layout": ADMIN,
    "federations.update_layout_copies": ADMIN,
    "desk.home": INSTITUTION,
    "desk.view_batch": INSTITUTION,
    "desk.download": INSTITUTION,
    "desk.upload_answer": INSTITUTION,
    "desk.settings": ADMIN,
    "desk.set_mode": ADMIN,
}


def make_ids(app, cooperative, factories) -> dict:
    return {}
