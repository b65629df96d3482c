"""Receipts through the API: recorded with an Idempotency-Key (a retry answers the first
receipt, another body is refused with 409, and 20 identical requests at once on a database
where each commits make one receipt), read, and reversed."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from coopreg.auth import services as auth_services
from coopreg.auth import tokens
from coopreg.contributions.models import Receipt
from coopreg.cooperatives.services import create_cooperative
from coopreg.core.audit import acting_as
from coopreg.extensions import db
from tests.conftest import run_together
from tests.contributions.helpers import make_agreement, make_member, register


def _body(member_id: int, amount: str = "250.00", **more) -> dict:
    return {"member_id": member_id, "received_on": date.today().isoformat(), "amount": amount,
            "method": "cash", **more}


def test_record_replay_conflict_read_and_reverse(client, coop, make_member, token_for,
                                                  bearer):
    member = make_member(coop)
    secret, _ = token_for("treasurer", scope="write")
    key = str(uuid.uuid4())
    first = client.post("/api/v1/receipts/", json=_body(member.id),
                        headers=bearer(secret, **{"Idempotency-Key": key}))
    assert first.status_code == 201, first.get_data(as_text=True)
    receipt = first.get_json()
    assert receipt["amount"] == "250.00" and receipt["currency"] == "CRC"
    again = client.post("/api/v1/receipts/", json=_body(member.id),
                        headers=bearer(secret, **{"Idempotency-Key": key}))
    assert again.status_code == 200 and again.get_json()["id"] == receipt["id"]
    other = client.post("/api/v1/receipts/", json=_body(member.id, "300.00"),
                        headers=bearer(secret, **{"Idempotency-Key": key}))
    assert other.status_code == 409
    assert other.get_json()["type"] == "/api/v1/problems/idempotency-key-reused"
    no_key = client.post("/api/v1/receipts/", json=_body(member.id), headers=bearer(secret))
    assert no_key.status_code == 428
    listed = client.get(f"/api/v1/receipts/?member_id={member.id}", headers=bearer(secret))
    assert [r["number"] for r in listed.get_json()["items"]] == [receipt["number"]]
    reversed_ = client.post(f"/api/v1/receipts/{receipt['id']}/reversal",
                            json={"reason": "Wrong member"}, headers=bearer(secret))
    assert reversed_.status_code == 201 and reversed_.get_json()["reversed"] is True
    twice = client.post(f"/api/v1/receipts/{receipt['id']}/reversal",
                        json={"reason": "Again"}, headers=bearer(secret))
    assert twice.status_code == 409


def test_bad_receipts_are_refused_with_the_field_named(client, coop, other_coop, make_member,
                                                       token_for, bearer):
    ours = make_member(coop)
    foreign = make_member(other_coop)
    secret, _ = token_for("admin", scope="write")
    for body, field in [
        (_body(ours.id, "-5"), "amount"),
        (_body(ours.id, "abc"), "amount"),
        ({**_body(ours.id), "amount": 250.5}, "amount"),  # a number, not a decimal string
        (_body(ours.id, method="gold"), "method"),
        ({**_body(ours.id), "received_on": "2999-01-01"}, "received_on"),
        (_body(foreign.id), "member_id"),
        (_body(ours.id, method="mobile_money"), "external_reference"),
    ]:
        response = client.post("/api/v1/receipts/", json=body, headers=bearer(
            secret, **{"Idempotency-Key": str(uuid.uuid4())}))
        assert response.status_code == 422, (body, response.get_data(as_text=True))
        assert field in response.get_json()["errors"], (body, response.get_json())
    with client.application.app_context():
        assert db.session.scalar(select(func.count()).select_from(Receipt)) == 0
    secretary, _ = token_for("secretary", scope="write")
    assert client.post("/api/v1/receipts/", json=_body(ours.id), headers=bearer(
        secretary, **{"Idempotency-Key": str(uuid.uuid4())})).status_code == 403


@pytest.mark.no_transaction
def test_twenty_identical_requests_at_once_record_one_receipt(committed_app):
    app = committed_app
    with app.app_context(), acting_as(None, "tests"):
        cooperative = create_cooperative("APICONC", "API concurrency", "CR", "CRC")
        agreement = make_agreement(cooperative)
        member = make_member(cooperative, joined_on=date(2020, 1, 1))
        register(agreement, member, date(2024, 1, 1))
        user = auth_services.create_user("api-treasurer@example.org", "T",
                                         "correct horse battery staple")
        auth_services.grant_role(user, cooperative, "treasurer")
        _token, secret = tokens.create_token(user, cooperative, "conc", "write")
        db.session.commit()
        member_id = member.id
    key = str(uuid.uuid4())

    def post(_i):
        with app.test_client() as client:
            response = client.post("/api/v1/receipts/", json=_body(member_id), headers={
                "Authorization": f"Bearer {secret}", "Idempotency-Key": key})
            return response.status_code, response.get_json()["id"]

    results = run_together(20, post)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors[:3]
    assert sorted(status for status, _id in results) == [200] * 19 + [201]
    assert len({receipt_id for _status, receipt_id in results}) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Receipt).where(
            Receipt.member_id == member_id)) == 1
