"""Access matrix entries of the batches area (see tests/core/test_access_matrix.py).

Batch actions are open to the office roles; the kind decides further (the service and the
view send a treasurer back from an enrolment file and a secretary from a remittance file,
with a message, changing nothing) — see tests/batches/test_views.py."""

from __future__ import annotations

from tests.access_levels import ADMIN, ALL, EDITORS, MONEY, OFFICE  # noqa: F401

ACCESS: dict = {
    "batches.list_batches": ALL,
    "batches.new_batch": OFFICE,
    "batches.view_batch": ALL,
    "batches.set_policy": OFFICE,
    "batches.refresh": OFFICE,
    "batches.seal": OFFICE,
    "batches.discard": OFFICE,
    "batches.download": OFFICE,
    "batches.mark_sent": OFFICE,
    "batches.supersede": OFFICE,
    "batches.upload_ack": EDITORS,
    "batches.ack_mapping": EDITORS,
    "batches.view_ack": ALL,
    "batches.apply_ack": EDITORS,
    "batches.discard_ack": EDITORS,
    "batches.layouts": ADMIN,
    "batches.new_layout": ADMIN,
    "batches.edit_layout": ADMIN,
    "batches.add_column": ADMIN,
    "batches.edit_column": ADMIN,
    "batches.move_column": ADMIN,
    "batches.remove_column": ADMIN,
    "batches.copy_layout": ADMIN,
    "batches.delete_layout": ADMIN,
}


def make_ids(app, cooperative, factories) -> dict:
    """A sealed enrolment batch with an uploaded answer, and its layout and a column."""
    from coopreg.batches import acks, services
    from coopreg.cooperatives.models import Cooperative
    from coopreg.core.audit import acting_as
    from coopreg.extensions import db
    from tests.batches.helpers import make_agreement, ready_member

    with app.app_context(), acting_as(None, "tests"):
        coop = db.session.get(Cooperative, cooperative.id)
        agreement = make_agreement(coop, "ACCESS-B", pattern=None)
        member, _registration = ready_member(coop, agreement)
        batch = services.create_batch(coop, agreement, "enrolment", None)
        services.seal_batch(batch, None, app.config["EXPORT_DIR"])
        csv = f"ID;Result\r\n{member.id_number};A\r\n".encode()
        ack = acks.upload_acknowledgement(batch, csv, "answer.csv", None)
        layout = services.layout_for(agreement, "enrolment")
        ids = {"batch_id": batch.id, "ack_id": ack.id, "layout_id": layout.id,
               "column_id": layout.columns[0].id}
        db.session.commit()
    return ids
