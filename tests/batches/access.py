"""Access matrix entries of the batches area (see tests/core/test_access_matrix.py)."""

from __future__ import annotations

from tests.access_levels import ADMIN, ALL, EDITORS, MONEY, OFFICE  # noqa: F401

ACCESS: dict = {
    # "endpoint": ALL | EDITORS | MONEY | OFFICE | ADMIN,
}


def make_ids(app, cooperative, factories) -> dict:
    """The ids this area's routes take (URL argument name → id), created in `cooperative`."""
    return {}
