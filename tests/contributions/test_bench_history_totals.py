"""The benchmark's year of history (bench/generate.py) loads its allocations in one statement,
with PostgreSQL's row triggers off, and adds up the running totals itself: they must equal the
money rows, or the bench would time pages showing wrong figures."""

from __future__ import annotations

from datetime import date

import pytest

from bench.generate import load_history, load_members
from coopreg.agreements.models import Agreement
from coopreg.cooperatives.services import create_cooperative
from coopreg.core.audit import acting_as
from coopreg.extensions import db
from tests.contributions.recompute import assert_totals_hold


@pytest.mark.no_transaction
def test_the_benchmark_history_keeps_the_running_totals(committed_app):
    with committed_app.test_request_context(), acting_as(None, "tests"):
        cooperative_id = create_cooperative("BENCHT", "Bench", "CR", "CRC").id
        db.session.commit()
        db.session.close()
        with db.engine.begin() as conn:
            load_members(conn, cooperative_id, "CR", 60)
        history = load_history(cooperative_id, "BENCHT")
        agreement = db.session.get(Agreement, history["ids"]["agreement_id"])
        assert_totals_hold(cooperative_id, [agreement], date(2026, 1, 20),
                           [date(2025, 8, 1), date(2025, 12, 1)])
