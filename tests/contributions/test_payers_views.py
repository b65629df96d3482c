"""The payers page: each payer's column of a month, recording what a third party paid (a bad
amount lands on the form and nothing is written) and reversing it after confirmation."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from coopreg.agreements.models import Agreement
from coopreg.contributions import services
from coopreg.contributions.models import ThirdPartyPayment, ThirdPartyPaymentReversal
from coopreg.core.audit import acting_as
from coopreg.core.templating import show_month
from coopreg.extensions import db
from tests.contributions.helpers import FLAT, make_agreement, make_member, register

LAST_MONTH = (date.today().replace(day=1) - timedelta(days=1)).replace(day=1)
STATE = {**FLAT, "payers": [{"kind": "state", "name": "Estado", "share_percent": "25",
                             "through_cooperative": False}]}


@pytest.fixture
def world(app, coop):
    with app.app_context(), acting_as(None, "tests"):
        agreement = make_agreement(coop, STATE, valid_from=LAST_MONTH, reference="PAYERS-1")
        for _ in range(2):
            register(agreement, make_member(coop, joined_on=date(2020, 1, 1)), LAST_MONTH)
        services.generate_dues(agreement, LAST_MONTH, LAST_MONTH)
        db.session.commit()
        return agreement.id


def _count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_the_treasurer_records_and_reverses_what_the_state_paid(app, as_role, world):
    client = as_role("treasurer")
    url = f"/contributions/agreements/{world}/payers?period={LAST_MONTH:%Y-%m}"
    page = client.get(url).get_data(as_text=True)
    # 2 × 1,000: members 600 each, the state 250 each, the cooperative 150 each
    for figure in ("1,200.00", "500.00", "300.00", "2,000.00"):
        assert figure in page
    assert "Straight to the institution" in page
    too_much = client.post(url, data={"payer_name": "Estado", "paid_on": date.today(),
                                      "amount": "500.01", "reference": "RES-9"})
    assert too_much.status_code == 422
    assert "cannot be more" in too_much.get_data(as_text=True)
    assert _count(app, ThirdPartyPayment) == 0
    done = client.post(url, data={"payer_name": "Estado", "paid_on": date.today(),
                                  "amount": "300", "reference": "RES-9"},
                       follow_redirects=True)
    assert "recorded" in done.get_data(as_text=True)
    with app.app_context():
        payment = db.session.scalar(select(ThirdPartyPayment))
        assert (payment.amount_minor, payment.reference, payment.through_cooperative) == (
            30000, "RES-9", False)
        payment_id = payment.id
    asked = client.post(f"/contributions/third-party-payments/{payment_id}/reverse",
                        data={"reason": "Wrong month"})
    assert asked.status_code == 409  # the confirmation first
    assert _count(app, ThirdPartyPaymentReversal) == 0
    client.post(f"/contributions/third-party-payments/{payment_id}/reverse",
                data={"reason": "Wrong month", "confirmed": "y"})
    assert _count(app, ThirdPartyPaymentReversal) == 1


def test_a_viewer_reads_the_payers_but_cannot_record(app, as_role, world):
    client = as_role("viewer")
    url = f"/contributions/agreements/{world}/payers?period={LAST_MONTH:%Y-%m}"
    page = client.get(url).get_data(as_text=True)
    assert "Estado" in page and "Record what a third party paid" not in page
    assert client.post(url, data={"payer_name": "Estado", "paid_on": date.today(),
                                  "amount": "1", "reference": "X"}).status_code == 403
    with app.app_context():
        assert db.session.get(Agreement, world) is not None


def test_an_amendment_names_the_state_as_a_payer_and_keeps_the_earlier_terms(app, as_role,
                                                                            world):
    client = as_role("admin")
    amend = {"effective_from": f"{date.today() + timedelta(days=40):%Y-%m-%d}",
             "rule_kind": "flat", "flat_amount": "1200", "member_share_percent": "50",
             "schedule": "monthly", "due_day": "10", "grace_days": "5",
             "remittance_deadline_days": "15", "note": "The state joins",
             "payer1_kind": "state", "payer1_name": "Estado", "payer1_share_percent": "60",
             "payer1_direct": "y", "suspended_no_dues": "y"}
    refused = client.post(f"/agreements/{world}/terms/new", data=amend)
    assert refused.status_code == 422
    assert "more than 100" in refused.get_data(as_text=True)
    # the form as the page fills it: the earlier payer comes pre-filled
    assert 'value="Estado"' in client.get(f"/agreements/{world}/terms/new").get_data(
        as_text=True)
    response = client.post(f"/agreements/{world}/terms/new",
                           data={**amend, "payer1_share_percent": "30"})
    assert response.status_code == 302
    with app.app_context():
        agreement = db.session.get(Agreement, world)
        first, latest = agreement.terms
        assert [(p.name, p.share_bp, p.through_cooperative) for p in first.third_payers] == [
            ("Estado", 2500, False)]
        assert [(p.name, p.share_bp, p.through_cooperative) for p in latest.third_payers] == [
            ("Estado", 3000, False)]
        assert (first.suspended_accrue, latest.suspended_accrue) == (True, False)
    page = client.get(f"/agreements/{world}").get_data(as_text=True)
    assert "Estado 30 %" in page and "Suspended registrations owe no dues." in page


def test_the_reconciliation_and_the_remittance_show_each_payers_column(app, as_role, world):
    with app.app_context(), acting_as(None, "tests"):
        from coopreg.contributions import payers
        from coopreg.cooperatives.models import Cooperative
        from coopreg.members.models import Member
        from tests.contributions.helpers import receipt_input

        agreement = db.session.get(Agreement, world)
        coop = db.session.get(Cooperative, agreement.cooperative_id)
        for member in db.session.scalars(select(Member).where(
                Member.cooperative_id == coop.id)):
            services.record_receipt(coop, receipt_input(member, "600",
                                                        received_on=date.today()), None)
        payers.record_third_party_payment(agreement, "Estado", LAST_MONTH, date.today(),
                                          "400", "RES-1", None, None)
        remittance = services.record_remittance(agreement, LAST_MONTH, date.today(), "1500",
                                                "TR-1", None)
        db.session.commit()
        remittance_id = remittance.id
    client = as_role("viewer")
    page = client.get(f"/contributions/reconciliation?agreement_id={world}").get_data(
        as_text=True)
    assert "Estado&#39;s share" in page or "Estado's share" in page
    third = page[page.index("Third parties&#39;") if "Third parties&#39;" in page
                 else page.index("Third parties'"):]
    for figure in ("500.00", "400.00", "100.00"):  # the state's due, paid, missing
        assert figure in third
    sheet = load_workbook(io.BytesIO(client.get(
        f"/contributions/agreements/{world}/reconciliation.xlsx").data)).worksheets[0]
    header = [c.value for c in sheet[1]]
    with app.test_request_context():
        shown = show_month(LAST_MONTH)  # the month as people write it, as on the page
    month = next(row for row in sheet.iter_rows(min_row=2, values_only=True)
                 if row[0] == shown)
    assert month[header.index("Due, Estado's share (CRC)")] == 500
    assert month[header.index("Paid, Estado's share (CRC)")] == 400
    remitted = client.get(f"/contributions/remittances/{remittance_id}").get_data(as_text=True)
    assert "Straight to the institution" in remitted
    for figure in ("1,200.00", "300.00", "100.00"):  # members', cooperative's, state missing
        assert figure in remitted
