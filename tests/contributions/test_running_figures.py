"""The arrears and the open dues read each due's running figures (`due_totals`, issue 25),
not every payment applied to it; the figures themselves are held equal to the recomputed
sums by the money property test and by the known-data tests of test_figures.py."""

from __future__ import annotations

from datetime import date

from coopreg.contributions import reports, services
from coopreg.extensions import db
from tests.contributions.helpers import make_agreement, make_member, receipt_input, register
from tests.sql_log import statements_run


def test_arrears_do_not_read_the_payments(cr):
    sql = str(reports.arrears_query(cr.id, today=date(2025, 1, 1)))
    assert "due_totals" in sql and "allocations" not in sql and "due_write_offs" not in sql


def test_allocating_reads_no_payment_rows(cr):
    agreement = make_agreement(cr, valid_from=date(2024, 1, 1))
    member = make_member(cr, joined_on=date(2020, 1, 1))
    register(agreement, member, date(2024, 1, 1))
    services.generate_dues(agreement, date(2024, 1, 1), date(2024, 3, 1))
    services.record_receipt(cr, receipt_input(member, "700"), None, today=date(2024, 6, 2))
    db.session.flush()
    with statements_run() as ran:
        dues = services.open_dues(member.id)
    statements = [r.sql for r in ran]
    assert [open_minor for _due, open_minor in dues] == [50000, 60000]
    assert not [s for s in statements if "FROM allocations" in s]
