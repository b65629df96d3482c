"""Migration 0025 (the dues' running figures): on a database that holds allocations, a
reversal and a write-off, down to 0014 and up again backfills each due's paid and written-off
amounts equal to the sums of its money rows, and the triggers keep them from then on."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from coopreg.contributions import services
from coopreg.contributions.models import Due
from coopreg.cooperatives.services import create_cooperative
from coopreg.core.audit import acting_as
from coopreg.extensions import db
from tests.conftest import drop_database, fresh_database_url, make_test_app
from tests.contributions.helpers import make_agreement, make_member, receipt_input, register

RECOMPUTED = """
SELECT d.id,
       coalesce((SELECT sum(a.amount_minor) FROM allocations a WHERE a.due_id = d.id), 0),
       coalesce((SELECT sum(w.amount_minor) FROM due_write_offs w WHERE w.due_id = d.id), 0)
FROM dues d ORDER BY d.id"""
RUNNING = """
SELECT d.id, coalesce(t.paid_minor, 0), coalesce(t.written_off_minor, 0)
FROM dues d LEFT JOIN due_totals t ON t.due_id = d.id ORDER BY d.id"""


def _rows(sql: str) -> list[tuple]:
    return [tuple(r) for r in db.session.execute(sa.text(sql))]


@pytest.fixture
def fresh_app():
    url = fresh_database_url(f"due_totals_{uuid.uuid4().hex[:8]}")
    app = make_test_app(url)
    try:
        with app.test_request_context(), acting_as(None, "tests"):
            yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        drop_database(url)


@pytest.mark.no_transaction
def test_down_to_0014_and_up_again_backfills_the_running_figures(fresh_app):
    upgrade()
    cooperative = create_cooperative("MIG25", "Migration", "CR", "CRC")
    agreement = make_agreement(cooperative)
    members = [make_member(cooperative) for _ in range(3)]
    for member in members:
        register(agreement, member, date(2024, 1, 1))
    services.generate_dues(agreement, date(2024, 1, 1), date(2024, 4, 1))
    services.record_receipt(cooperative, receipt_input(members[0], "1500"), None,
                            today=date(2024, 6, 2))
    wrong, _created = services.record_receipt(cooperative, receipt_input(members[1], "700"),
                                              None, today=date(2024, 6, 2))
    services.reverse_receipt(wrong, "Typed twice", None)
    services.record_receipt(cooperative, receipt_input(members[1], "300"), None,
                            today=date(2024, 6, 2))
    due = db.session.scalar(sa.select(Due).where(Due.member_id == members[2].id)
                            .order_by(Due.period))
    services.write_off_due(due, "Beyond collection", None)
    db.session.commit()
    cooperative_id, member_id = cooperative.id, members[2].id
    recomputed = _rows(RECOMPUTED)
    assert _rows(RUNNING) == recomputed
    assert sum(r[1] for r in recomputed) == 150000 + 30000 and sum(r[2] for r in recomputed)
    db.session.close()

    downgrade(revision="0014")
    assert "due_totals" not in sa.inspect(db.session.connection()).get_table_names()
    db.session.close()

    upgrade()
    assert _rows(RUNNING) == recomputed  # backfilled
    from coopreg.cooperatives.models import Cooperative
    from coopreg.members.models import Member

    services.record_receipt(db.session.get(Cooperative, cooperative_id),
                            receipt_input(db.session.get(Member, member_id), "900"), None,
                            today=date(2024, 6, 3))
    db.session.commit()
    assert _rows(RUNNING) == _rows(RECOMPUTED) != recomputed  # kept by the triggers
