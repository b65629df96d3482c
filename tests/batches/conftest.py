"""Fixtures of the batches tests: the test cooperative, an agreement, ready registrations."""

from __future__ import annotations

import pytest

from tests.batches.helpers import make_agreement, ready_member


@pytest.fixture
def agreement(cr):
    return make_agreement(cr)


@pytest.fixture
def ready(cr, agreement):
    """`ready(n, **fields)`: n members whose registrations are ready."""
    def factory(n: int = 1, **overrides):
        return [ready_member(cr, agreement, **overrides) for _ in range(n)]
    return factory


@pytest.fixture
def export_dir(app):
    return app.config["EXPORT_DIR"]
