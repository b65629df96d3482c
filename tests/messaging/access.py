"""Access matrix entries of the messaging area (see tests/core/test_access_matrix.py): the
office reads what was sent to members; the admin words the messages; the secretary records a
member's consent to be contacted."""

from __future__ import annotations

from tests.access_levels import ADMIN, EDITORS, OFFICE

ACCESS: dict = {
    "messaging.outbox": OFFICE,
    "messaging.templates": ADMIN,
    "messaging.edit_template": ADMIN,
    "messaging.member_contact": EDITORS,
}


def make_ids(app, cooperative, factories) -> dict:
    return {}  # the member's page takes `member_id`, made by the matrix itself
