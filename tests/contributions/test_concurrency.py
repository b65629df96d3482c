"""Receipts under concurrent treasurers, on a database where each thread commits for real
(PostgreSQL row locks; SQLite serialises writers)."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from coopreg.contributions import services
from coopreg.contributions.models import Allocation, Due, Receipt
from coopreg.cooperatives.models import Cooperative
from coopreg.cooperatives.services import create_cooperative
from coopreg.core.audit import acting_as
from coopreg.core.sequences import NumberSequence
from coopreg.extensions import db
from coopreg.members.models import Member
from tests.conftest import run_together
from tests.contributions.helpers import make_agreement, make_member, receipt_input, register

pytestmark = pytest.mark.no_transaction
TODAY = date(2025, 1, 20)


@pytest.fixture(scope="module")
def world(committed_app):
    """A cooperative with one agreement and three members owing Jan–Jun 2024."""
    app = committed_app
    with app.app_context(), acting_as(None, "tests"):
        cooperative = create_cooperative("CONC", "Concurrency coop", "CR", "CRC")
        agreement = make_agreement(cooperative)
        members = [make_member(cooperative, joined_on=date(2020, 1, 1)) for _ in range(3)]
        for member in members:
            register(agreement, member, date(2024, 1, 1))
        services.generate_dues(agreement, date(2024, 1, 1), date(2024, 6, 1))
        db.session.commit()
        return app, cooperative.id, [m.id for m in members]


def _record(app, cooperative_id, member_id, amount, key):
    with app.app_context(), acting_as(None, "tests"):
        cooperative = db.session.get(Cooperative, cooperative_id)
        member = db.session.get(Member, member_id)
        receipt, created = services.record_receipt(cooperative, receipt_input(
            member, amount, key=key), None, today=TODAY)
        db.session.commit()
        return receipt.id, receipt.number, created


def test_hundred_submissions_with_one_key_record_one_receipt(world):
    app, cooperative_id, member_ids = world
    key = str(uuid.uuid4())
    results = run_together(100, lambda i: _record(app, cooperative_id, member_ids[0], "250",
                                                  key))
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors[:3]
    assert len({r[0] for r in results}) == 1, "every submission gets the same receipt back"
    assert sum(1 for r in results if r[2]) == 1, "exactly one created it"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Receipt).where(
            Receipt.idempotency_key == key)) == 1
        number = results[0][1]
        last = db.session.scalar(select(NumberSequence.last_value).where(
            NumberSequence.cooperative_id == cooperative_id, NumberSequence.name == "receipt"))
        assert last == number, "the losers took no number"


def test_eight_writers_get_gap_free_numbers_and_never_over_pay(world):
    app, cooperative_id, member_ids = world

    def writer(i: int) -> list[int]:
        numbers = []
        for n in range(6):
            member_id = member_ids[(i + n) % len(member_ids)]
            numbers.append(_record(app, cooperative_id, member_id, "350",
                                   str(uuid.uuid4()))[1])
        return numbers

    results = run_together(8, writer)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors[:3]
    with app.app_context():
        numbers = sorted(db.session.scalars(select(Receipt.number).where(
            Receipt.cooperative_id == cooperative_id)))
        assert numbers == list(range(1, len(numbers) + 1))
        assert len(numbers) == 1 + 8 * 6
        over_paid = db.session.execute(
            select(Due.id).join(Allocation, Allocation.due_id == Due.id)
            .group_by(Due.id, Due.member_share_minor)
            .having(func.sum(Allocation.amount_minor) > Due.member_share_minor)).all()
        assert over_paid == []
        over_allocated = db.session.execute(
            select(Receipt.id).join(Allocation, Allocation.receipt_id == Receipt.id)
            .group_by(Receipt.id, Receipt.amount_minor)
            .having(func.sum(Allocation.amount_minor) > Receipt.amount_minor)).all()
        assert over_allocated == []
        # every member's money is on the dues, oldest first, or in credit: none went missing
        for member_id in member_ids:
            received = db.session.scalar(select(func.sum(Receipt.amount_minor)).where(
                Receipt.member_id == member_id))
            allocated = db.session.scalar(
                select(func.coalesce(func.sum(Allocation.amount_minor), 0))
                .join(Receipt, Receipt.id == Allocation.receipt_id)
                .where(Receipt.member_id == member_id))
            assert received - allocated == services.member_credit(member_id)
