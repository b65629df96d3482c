"""Fixtures for the member register's service tests: cooperatives bound to the test's session
and a quick way to enrol members without going through the factories' own app contexts."""

from __future__ import annotations

import pytest

from coopreg.cooperatives.models import Cooperative
from coopreg.extensions import db
from coopreg.members import services
from tests.conftest import member_data


@pytest.fixture
def ph(ctx, other_coop) -> Cooperative:
    """The Philippine cooperative (PhilSys number, pattern [0-9]{12})."""
    return db.session.get(Cooperative, other_coop.id)


@pytest.fixture
def br(ctx, make_cooperative) -> Cooperative:
    cooperative = make_cooperative(country="BR", currency="BRL", name="Cooperativa do Brasil")
    return db.session.get(Cooperative, cooperative.id)


@pytest.fixture
def enrol(ctx):
    """`enrol(cooperative, **fields)`: create a member through the service (duplicates
    confirmed unless told otherwise)."""
    def factory(cooperative, confirm_duplicate: bool = True, **overrides):
        return services.create_member(cooperative, member_data(**overrides),
                                      confirm_duplicate=confirm_duplicate)
    return factory
