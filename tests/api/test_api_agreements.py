"""Agreements, registrations and money through the API: terms read, registrations moved only
along the allowed transitions, dues filtered, remittances read, and the reconciliation and
coverage figures as JSON — the very numbers the pages show."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest

from coopreg.agreements.coverage import coverage_report
from coopreg.agreements.models import Registration
from coopreg.contributions import services
from coopreg.cooperatives.models import Cooperative
from coopreg.core.audit import acting_as
from coopreg.extensions import db
from tests.batches.helpers import make_agreement as make_batch_agreement
from tests.batches.helpers import ready_member
from tests.contributions.helpers import make_agreement, make_member, receipt_input, register

THIS_MONTH = date.today().replace(day=1)
START = (THIS_MONTH - timedelta(days=70)).replace(day=1)
LAST_MONTH = (THIS_MONTH - timedelta(days=1)).replace(day=1)


@pytest.fixture
def ledger(app, coop):
    """Three members registered since START with monthly dues of 1000 (600 the member's);
    Ana paid everything, Beto one month; the first month is remitted."""
    with app.test_request_context(), acting_as(None, "tests"):
        cooperative = db.session.get(Cooperative, coop.id)
        agreement = make_agreement(cooperative, valid_from=START, reference="API-REC")
        people = {name: make_member(cooperative, first_name=name, joined_on=date(2020, 1, 1))
                  for name in ("Ana", "Beto", "Caro")}
        for member in people.values():
            register(agreement, member, START)
        services.generate_dues(agreement, START, LAST_MONTH)
        services.record_receipt(cooperative, receipt_input(
            people["Ana"], "1800", received_on=START + timedelta(days=20)), None)
        services.record_receipt(cooperative, receipt_input(
            people["Beto"], "600", received_on=START + timedelta(days=20)), None)
        services.record_remittance(agreement, START, START + timedelta(days=25), "2000",
                                   "R-1", None)
        db.session.commit()
        return {"agreement_id": agreement.id, **{n: m.id for n, m in people.items()}}


def _plain(text: str) -> Decimal:
    """An amount as the page shows it ("4,000.00") as a number."""
    return Decimal(re.sub(r"<[^>]+>", "", text).strip().replace(",", ""))


def test_the_reconciliation_gives_the_pages_numbers(client, as_role, ledger, token_for,
                                                    bearer):
    secret, _ = token_for("viewer")
    agreement_id = ledger["agreement_id"]
    data = client.get(f"/api/v1/agreements/{agreement_id}/reconciliation",
                      headers=bearer(secret)).get_json()
    assert data["currency"] == "CRC" and data["periods"]
    page = as_role("viewer").get(
        f"/contributions/reconciliation?agreement_id={agreement_id}").get_data(as_text=True)
    compared = 0
    for period in data["periods"]:
        row = page.split(f'data-period="{period["period"][:7]}"', 1)[1].split("</tr>", 1)[0]
        for figure in ("due", "cooperative_share", "due_total", "allocated", "collected",
                       "written_off", "open", "unremitted", "remitted"):
            cell = row.split(f'data-figure="{figure}"', 1)[1].split(">", 1)[1]
            cell = cell.split("</td>", 1)[0]
            assert _plain(cell) == Decimal(period[figure]), (period["period"], figure)
            compared += 1
    assert compared >= 27
    first = next(p for p in data["periods"] if p["period"] == START.isoformat())
    assert (first["due_total"], first["remitted"], first["remittance"]) == (
        "3000.00", "2000.00", "2000.00")


def test_the_coverage_figures_are_the_reports(app, client, coop, token_for, bearer, as_role):
    with app.test_request_context(), acting_as(None, "tests"):
        cooperative = db.session.get(Cooperative, coop.id)
        agreement = make_batch_agreement(cooperative, "COV-1")
        _member, registration = ready_member(cooperative, agreement)
        make_member(cooperative, first_name="Sin")  # not covered
        registration.status = registration.status.__class__("registered")
        registration.coverage_start = date(2024, 1, 1)
        db.session.commit()
        report = coverage_report(cooperative.id)
    secret, _ = token_for("treasurer")
    data = client.get("/api/v1/coverage", headers=bearer(secret)).get_json()
    assert (data["total_active"], data["covered_any"]) == (report.total_active,
                                                           report.covered_any) == (2, 1)
    assert {b["branch"]: (b["covered"], b["total"], b["gap"]) for b in data["branches"]} == {
        c.branch.value: (c.covered, c.total, c.gap) for c in report.branches}
    assert set(data["breakdowns"]) == {"sector", "sex", "age_band", "locality"}
    lead = as_role("viewer").get("/agreements/coverage").get_data(as_text=True)
    assert f"{data['total_active']} active members. {data['covered_any']} are covered" in lead


def test_dues_are_filtered_by_member_period_and_status(client, ledger, token_for, bearer):
    secret, _ = token_for("viewer")

    def dues(query: str) -> list[dict]:
        response = client.get(f"/api/v1/dues/?limit=500&{query}", headers=bearer(secret))
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()["items"]

    everything = dues("")
    months = len({d["period"] for d in everything})
    assert len(everything) == 3 * months
    ana = dues(f"member_id={ledger['Ana']}")
    assert {d["status"] for d in ana} == {"paid"} and all(d["open"] == "0.00" for d in ana)
    assert len(dues("status=paid")) == months + 1  # Ana's and Beto's first
    first = dues(f"period={START:%Y-%m}")
    assert {d["member_id"] for d in first} == {ledger["Ana"], ledger["Beto"], ledger["Caro"]}
    caro_open = dues(f"member_id={ledger['Caro']}&status=open")
    assert len(caro_open) == months and caro_open[0]["member_share"] == "600.00"
    bad = client.get("/api/v1/dues/?period=2024-13", headers=bearer(secret))
    assert bad.status_code == 422 and "period" in bad.get_json()["errors"]


def test_remittances_and_agreements_with_their_terms(client, ledger, token_for, bearer):
    secret, _ = token_for("viewer")
    remittances = client.get("/api/v1/remittances/", headers=bearer(secret)).get_json()["items"]
    assert [r["amount"] for r in remittances] == ["2000.00"]
    one = client.get(f"/api/v1/remittances/{remittances[0]['id']}", headers=bearer(secret))
    assert one.get_json()["period"] == START.isoformat()
    agreements = client.get("/api/v1/agreements/", headers=bearer(secret)).get_json()["items"]
    assert [a["reference"] for a in agreements] == ["API-REC"]
    detail = client.get(f"/api/v1/agreements/{ledger['agreement_id']}",
                        headers=bearer(secret)).get_json()
    terms = detail["terms"][0]
    assert (terms["rule_kind"], terms["flat_amount"], terms["member_share_percent"]) == (
        "flat", "1000.00", "60.00")


def test_registrations_move_only_along_the_allowed_transitions(app, client, coop, token_for,
                                                               bearer):
    with app.test_request_context(), acting_as(None, "tests"):
        cooperative = db.session.get(Cooperative, coop.id)
        agreement = make_batch_agreement(cooperative, "TR-1")
        member, registration = ready_member(cooperative, agreement)
        db.session.commit()
        agreement_id, registration_id = agreement.id, registration.id
    secret, email = token_for("secretary", scope="write")
    listed = client.get(f"/api/v1/agreements/{agreement_id}/registrations?status=ready",
                        headers=bearer(secret)).get_json()["items"]
    assert [r["id"] for r in listed] == [registration_id]
    assert set(listed[0]["allowed_transitions"]) == {"submitted", "pending", "terminated"}
    url = f"/api/v1/registrations/{registration_id}/transition"
    skipped = client.post(url, json={"to_status": "registered"}, headers=bearer(secret))
    assert skipped.status_code == 422
    assert skipped.get_json()["type"] == "/api/v1/problems/transition-refused"
    assert "to_status" in skipped.get_json()["errors"]
    sent = client.post(url, json={"to_status": "submitted"}, headers=bearer(secret))
    assert sent.status_code == 200 and sent.get_json()["status"] == "submitted"
    bad_number = client.post(url, json={"to_status": "registered", "coverage_start":
                                        "2025-01-01", "institution_member_number": "X1"},
                             headers=bearer(secret))
    assert bad_number.status_code == 422
    assert "institution_member_number" in bad_number.get_json()["errors"]
    done = client.post(url, json={"to_status": "registered", "coverage_start": "2025-01-01",
                                  "institution_member_number": "CC-0000001"},
                       headers=bearer(secret))
    assert done.status_code == 200 and done.get_json()["coverage_start"] == "2025-01-01"
    with app.app_context():
        registration = db.session.get(Registration, registration_id)
        assert registration.status.value == "registered"
        assert registration.events[-1].actor_id is not None
    reader, _ = token_for("secretary", scope="read")
    assert client.post(url, json={"to_status": "suspended", "reason": "x"},
                       headers=bearer(reader)).status_code == 403
