"""Access matrix entries of the federations area (see tests/core/test_access_matrix.py),
with the platform admin's pages (coopreg/federations/platform_views.py).

The federation's pages take no id: the federation is the one where the user holds a role;
the cooperative admin's sharing page is a cooperative page like the settings."""

from __future__ import annotations

from tests.access_levels import ADMIN, FEDERATION, FEDERATION_ADMIN, INSTITUTION, PLATFORM

ACCESS: dict = {
    "federations.home": FEDERATION,
    "federations.add_cooperative": FEDERATION_ADMIN,
    "federations.add_desk_account": FEDERATION_ADMIN,
    "federations.disable_desk_account": FEDERATION_ADMIN,
    "federations.enable_desk_account": FEDERATION_ADMIN,
    "federations.grant_role": FEDERATION_ADMIN,
    "federations.revoke_role": FEDERATION_ADMIN,
    "platform.home": PLATFORM,
    "platform.create_federation": PLATFORM,
    "platform.federation": PLATFORM,
    "platform.add_cooperative": PLATFORM,
    "platform.grant_role": PLATFORM,
    "platform.revoke_role": PLATFORM,
    "platform.add_desk_account": PLATFORM,
    "platform.disable_desk_account": PLATFORM,
    "platform.enable_desk_account": PLATFORM,
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
    """A federation of its own (without the cooperative, which the tests may put in another),
    a person holding a role in it and a desk account within it: for a federation admin of
    another federation, each answers 404."""
    from coopreg.auth import services as auth_services
    from coopreg.core.audit import acting_as
    from coopreg.extensions import db
    from coopreg.federations import desk, services
    from tests.conftest import PASSWORD

    with app.app_context(), acting_as(None, "tests"):
        federation = services.create_federation(f"MX{cooperative.id}", "Matrix federation")
        user = auth_services.create_user(f"matrix-fed{cooperative.id}@example.org",
                                         "Matrix Analyst", PASSWORD)
        membership = services.grant_federation_role(user, federation, "federation_analyst")
        account = desk.create_account_for(f"matrix-desk{cooperative.id}@example.org",
                                          "Matrix Desk", PASSWORD, "CCSS", federation)
        ids = {"federation_id": federation.id, "federation_membership_id": membership.id,
               "desk_account_id": account.id}
        db.session.commit()
    return ids
