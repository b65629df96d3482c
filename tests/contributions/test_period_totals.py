"""The running totals of each agreement's periods and of each cooperative's credit
(`period_totals`, `credit_totals`, kept by triggers, migration 0040) equal what the money rows
add up to after every kind of money event: dues generated (with and without a members'
share), receipts paying several months, a receipt dated in another month, reversals (before
a receipt kept as credit), write-offs, remittances and their
acknowledgements. The reconciliation, the remittance form's figures and first lines and the
credit read from them equal the figures computed from the money rows, as before (both
databases: the triggers are SQLite's row triggers or PostgreSQL's statement triggers)."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from coopreg.contributions import reports, services
from coopreg.contributions.models import Due
from coopreg.cooperatives.services import create_cooperative
from coopreg.core.audit import acting_as
from coopreg.extensions import db
from tests.conftest import drop_database, fresh_database_url, make_test_app
from tests.contributions.helpers import (
    FLAT,
    make_agreement,
    make_member,
    receipt_input,
    register,
)
from tests.contributions.recompute import (
    assert_totals_hold,
    recomputed_credit,
    recomputed_period_totals,
    recomputed_receipt_totals,
    running_credit,
    running_period_totals,
)

TODAY = date(2024, 9, 20)
MONTHS = [date(2024, m, 1) for m in range(1, 7)]
# the cooperative pays the whole due: fully paid (and to remit) as soon as it exists
COOPERATIVE_PAYS = {**FLAT, "member_share_percent": "0"}


def _ledger(cooperative):
    """Two agreements, four members, six months of dues and every kind of money event;
    returns the agreements."""
    paying = make_agreement(cooperative)
    free = make_agreement(cooperative, COOPERATIVE_PAYS)
    members = [make_member(cooperative, joined_on=date(2020, 1, 1)) for _ in range(4)]
    for member in members:
        register(paying, member, date(2024, 1, 1))
    register(free, members[0], date(2024, 1, 1))
    services.generate_dues(paying, MONTHS[0], MONTHS[-1])
    services.generate_dues(free, MONTHS[0], MONTHS[-1])
    assert_totals_hold(cooperative.id, [paying, free], TODAY, MONTHS[:2])
    # three months paid in June, one in July (the month collected is the receipt's)
    services.record_receipt(cooperative, receipt_input(members[0], "1800"), None, today=TODAY)
    services.record_receipt(cooperative, receipt_input(members[1], "900",
                                                       received_on=date(2024, 7, 3)),
                            None, today=TODAY)
    wrong, _ = services.record_receipt(cooperative, receipt_input(members[2], "1200"), None,
                                       today=TODAY)
    assert_totals_hold(cooperative.id, [paying, free], TODAY, MONTHS[:3])
    services.reverse_receipt(wrong, "Typed twice", None)
    due = db.session.scalar(sa.select(Due).where(Due.member_id == members[3].id,
                                                 Due.agreement_id == paying.id)
                            .order_by(Due.period))
    services.write_off_due(due, "Beyond collection", None)
    assert_totals_hold(cooperative.id, [paying, free], TODAY, MONTHS[:3])
    # February remitted (January's dues as adjustments), then acknowledged short
    total = services.remittable_total(paying, MONTHS[1])
    assert total == 2 * 100000 + 100000  # members 0 and 1 paid January and February
    remittance = services.record_remittance(paying, MONTHS[1], date(2024, 8, 1),
                                            str(total / 100), None, None, today=TODAY)
    services.acknowledge_remittance(remittance, date(2024, 8, 5), "2000", None, None,
                                    today=TODAY)
    free_total = services.remittable_total(free, MONTHS[2])
    services.record_remittance(free, MONTHS[2], date(2024, 8, 1), str(free_total / 100),
                               None, None, today=TODAY)
    assert_totals_hold(cooperative.id, [paying, free], TODAY, MONTHS)
    # money kept as credit, then applied
    services.record_receipt(cooperative, receipt_input(members[3], "350",
                                                       received_on=date(2024, 8, 2)),
                            None, today=TODAY)
    services.record_receipt(cooperative, receipt_input(members[0], "3000",
                                                       received_on=date(2024, 8, 2)),
                            None, today=TODAY)  # three months, and 1,200 of credit
    return paying, free


def test_the_totals_equal_the_money_rows_after_every_kind_of_event(cr):
    paying, free = _ledger(cr)
    assert_totals_hold(cr.id, [paying, free], TODAY, MONTHS)
    figures = {f.period: f for f in reports.reconciliation(paying, TODAY)}
    assert figures[MONTHS[0]].remitted_minor == 2 * 100000  # adjustments: January's dues
    assert figures[date(2024, 7, 1)].collected_minor == 90000
    assert any("acknowledged" in flag for flag in figures[MONTHS[1]].flags)
    count, total = services.remittable_summary(free, MONTHS[-1])
    assert (count, total) == (3, 300000)  # April to June, the cooperative's whole due
    received, allocated = recomputed_credit(cr.id)
    assert reports.members_credit_total(cr.id) == received - allocated == 120000


def test_the_remittance_form_shows_the_totals_and_the_first_lines(app, as_role, coop):
    from coopreg.cooperatives.models import Cooperative

    with app.test_request_context(), acting_as(None, "tests"):
        cooperative = db.session.get(Cooperative, coop.id)
        paying, _free = _ledger(cooperative)
        count, total = services.remittable_summary(paying, MONTHS[-1])
        agreement_id = paying.id
        db.session.commit()
    assert count
    client = as_role("treasurer")
    page = client.get(f"/contributions/agreements/{agreement_id}/remittances/new"
                      f"?period=2024-06").get_data(as_text=True)
    assert f"{count} fully paid due(s) not remitted before" in page


RUNNING = "SELECT * FROM period_totals ORDER BY agreement_id, period"


@pytest.fixture
def fresh_app():
    url = fresh_database_url(f"period_totals_{uuid.uuid4().hex[:8]}")
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
def test_down_to_0039_and_up_again_backfills_the_totals(fresh_app):
    upgrade()
    cooperative = create_cooperative("MIG40", "Migration", "CR", "CRC")
    paying, free = _ledger(cooperative)
    db.session.commit()
    cooperative_id = cooperative.id
    running = running_period_totals(cooperative_id)
    assert running == recomputed_period_totals(cooperative_id)
    credit = running_credit(cooperative_id)
    db.session.close()

    downgrade(revision="0039")
    tables = sa.inspect(db.session.connection()).get_table_names()
    assert "period_totals" not in tables and "credit_totals" not in tables
    db.session.close()

    upgrade()
    assert running_period_totals(cooperative_id) == running  # backfilled
    assert running_credit(cooperative_id) == credit
    receipts = reports.cooperative_receipt_totals(cooperative_id)
    assert receipts == recomputed_receipt_totals(cooperative_id)  # backfilled (0041)
    assert receipts.count > 0 and receipts.reversed > 0
    from coopreg.cooperatives.models import Cooperative
    from coopreg.members.models import Member

    member = db.session.scalar(sa.select(Member).where(Member.cooperative_id == cooperative_id)
                               .order_by(Member.id.desc()))
    services.record_receipt(db.session.get(Cooperative, cooperative_id),
                            receipt_input(member, "600", received_on=date(2024, 9, 1)), None,
                            today=TODAY)
    db.session.commit()
    after = running_period_totals(cooperative_id)
    assert after == recomputed_period_totals(cooperative_id) != running  # kept by triggers
    assert running_credit(cooperative_id) == recomputed_credit(cooperative_id) != credit
    assert reports.cooperative_receipt_totals(cooperative_id) == recomputed_receipt_totals(
        cooperative_id) != receipts  # one more receipt, counted by the trigger
