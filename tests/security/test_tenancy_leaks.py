"""Issue 15, item 1: one cooperative's rows must never show in another's pages, and the
suite-wide guard (tests/tenancy_guard.py) catches any unscoped read of cooperative data."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from coopreg.core.audit import acting_as
from coopreg.core.tenancy import cross_cooperative, get_scoped, unscoped
from coopreg.extensions import db
from coopreg.members.models import Member
from tests import tenancy_guard
from tests.contributions.helpers import make_agreement, make_member, register
from tests.contributions.test_views import LAST_MONTH, _generate


@pytest.fixture
def world(app, coop, other_coop):
    """PHCOOP-like `coop` with an agreement and a member owing dues; `other_coop` with a
    member whose name must never show in `coop`'s pages."""
    with app.app_context(), acting_as(None, "tests"):
        agreement = make_agreement(coop, valid_from=LAST_MONTH, reference="LEAK-1")
        ana = make_member(coop, first_name="Ana", joined_on=date(2020, 1, 1))
        register(agreement, ana, LAST_MONTH)
        stranger = make_member(other_coop, first_name="Secreta", last_name="Forastera")
        db.session.commit()
        return {"agreement_id": agreement.id, "ana": ana.id, "stranger": stranger.id,
                "stranger_number": stranger.member_number}


def test_collection_sheet_never_names_another_cooperatives_member(app, as_role, world):
    _generate(app, world)
    client = as_role("treasurer")
    sheet = client.get(f"/contributions/collection?agreement_id={world['agreement_id']}"
                       f"&collected_on={date.today()}").get_data(as_text=True)
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', sheet).group(1)
    stranger = world["stranger"]
    response = client.post("/contributions/collection", data={
        "agreement_id": world["agreement_id"], "collected_on": date.today().isoformat(),
        "locality": "", "collector": "Meeting", "method": "cash", "member": [stranger],
        f"amount-{stranger}": "100", "idempotency_key": key, "control_count": "1",
        "control_total": "100"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Choose the member who paid." in page
    assert "Secreta" not in page and "Forastera" not in page


def test_get_scoped_never_returns_another_cooperatives_row(ctx, world, coop, other_coop):
    assert get_scoped(Member, world["stranger"], coop.id) is None
    assert get_scoped(Member, world["stranger"], other_coop.id).first_name == "Secreta"
    assert get_scoped(Member, "²", coop.id) is None
    assert get_scoped(Member, "١", coop.id) is None  # an Arabic-Indic 1 is not id 1
    assert get_scoped(Member, f" {world['ana']} ", coop.id).first_name == "Ana"


@pytest.fixture
def judged(monkeypatch):
    """The guard judging the test's own statements too (it normally judges coopreg's)."""
    monkeypatch.setattr(tenancy_guard, "exempt_tests", False)
    tenancy_guard.take()
    yield
    tenancy_guard.take()


@pytest.mark.tenancy_unguarded
def test_guard_flags_unscoped_reads_and_accepts_scoped_and_allowlisted(ctx, world, coop,
                                                                       judged):
    db.session.expunge_all()
    db.session.get(Member, world["stranger"])  # the attack's shape: an unscoped get
    found = tenancy_guard.take()
    assert found and "unscoped SELECT of members" in found[0]
    assert "tests/security/test_tenancy_leaks.py" in found[0]
    db.session.expunge_all()
    db.session.scalar(select(Member).where(Member.cooperative_id == coop.id))
    get_scoped(Member, world["ana"], coop.id)
    db.session.get(Member, world["stranger"],
                   execution_options=unscoped("test: a deliberate cross-cooperative read"))
    db.session.expunge_all()
    with cross_cooperative("test: a block of deliberate cross-cooperative reads"):
        db.session.get(Member, world["stranger"])
    assert tenancy_guard.take() == []
    with pytest.raises(ValueError):
        unscoped("")


@pytest.mark.tenancy_unguarded
def test_guard_also_sees_core_selects_on_the_raw_connection(ctx, world, coop, judged):
    members = Member.__table__
    connection = db.session.connection()
    connection.execute(select(members.c.first_name).where(members.c.id == world["stranger"]))
    assert "unscoped SELECT of members" in tenancy_guard.take()[0]
    connection.execute(select(members.c.first_name).where(members.c.cooperative_id == coop.id))
    assert tenancy_guard.take() == []


def test_guard_sees_through_aliases_and_counts():
    from sqlalchemy import func
    from sqlalchemy.orm import aliased

    from coopreg.contributions.models import Allocation, Receipt
    alias = aliased(Member)
    assert tenancy_guard.unscoped_tables(select(alias).where(alias.id == 1)) == ["members"]
    assert tenancy_guard.unscoped_tables(select(func.count()).select_from(Member)) == ["members"]
    assert tenancy_guard.unscoped_tables(select(alias).where(alias.cooperative_id == 1)) == []
    assert tenancy_guard.unscoped_tables(
        select(Allocation).join(Receipt, Receipt.id == Allocation.receipt_id)
        .where(Receipt.cooperative_id == 2)) == []
