"""Payment notifications from a provider: signed with the provider's secret, refused when the
signature, the timestamp window or the amount is wrong, idempotent on the transaction id, and
landed as a statement line matched to a receipt (made from the line when the payer names one
member)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import date

import pytest
from sqlalchemy import func, select

from coopreg.contributions.models import Receipt, StatementLine, StatementMatch
from coopreg.extensions import db

SECRET = "provider-secret-of-the-test-0001"


@pytest.fixture
def provider(app, coop, monkeypatch):
    monkeypatch.setitem(app.config, "PAYMENT_PROVIDERS", {"sinpe": {
        "secret": SECRET, "cooperative": coop.code, "method": "mobile_money",
        "name": "SINPE Móvil"}})
    return "sinpe"


def _send(client, provider, payload, *, secret=SECRET, timestamp=None, raw=None):
    body = raw if raw is not None else json.dumps(payload).encode()
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = hmac.new(secret.encode(), stamp.encode() + b"." + body,
                         hashlib.sha256).hexdigest()
    return client.post(f"/api/v1/payments/notify/{provider}", data=body, headers={
        "Content-Type": "application/json", "X-Coopreg-Timestamp": stamp,
        "X-Coopreg-Signature": f"sha256={signature}"})


def _payment(**more) -> dict:
    return {"transaction_id": "SINPE-000001", "amount": "2500.00", "currency": "CRC",
            "paid_at": date.today().isoformat(), **more}


def test_a_payment_naming_a_member_becomes_a_matched_receipt_once(app, client, coop,
                                                                  make_member, provider):
    member = make_member(coop)
    first = _send(client, provider, _payment(payer=member.member_number))
    assert first.status_code == 201, first.get_data(as_text=True)
    answer = first.get_json()
    assert answer["matched"] is True and answer["receipt_number"] >= 1
    again = _send(client, provider, _payment(payer=member.member_number))
    assert again.status_code == 200 and again.get_json()["status"] == "already received"
    assert again.get_json()["statement_line"] == answer["statement_line"]
    with app.app_context():
        receipt = db.session.scalar(select(Receipt))
        assert db.session.scalar(select(func.count()).select_from(Receipt)) == 1
        assert receipt.member_id == member.id and receipt.amount_minor == 250000
        assert receipt.external_reference == "SINPE-000001"
        assert db.session.scalar(select(StatementMatch.receipt_id)) == receipt.id


def test_a_payment_of_nobody_known_waits_for_the_treasurer(app, client, coop, provider):
    response = _send(client, provider, _payment(transaction_id="SINPE-7", payer="Unknown"))
    assert response.status_code == 201 and response.get_json()["matched"] is False
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StatementLine)) == 1
        assert db.session.scalar(select(func.count()).select_from(Receipt)) == 0


@pytest.mark.parametrize("change, status, kind", [
    ({"secret": "another-secret-entirely-000"}, 401, "bad-signature"),
    ({"timestamp": int(time.time()) - 3600}, 401, "stale-timestamp"),
    ({"raw": b"not json"}, 400, "bad-request"),
])
def test_forged_stale_or_unreadable_notifications_are_refused(app, client, provider, change,
                                                              status, kind):
    response = _send(client, provider, _payment(), **change)
    assert response.status_code == status
    assert response.get_json()["type"] == f"/api/v1/problems/{kind}"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StatementLine)) == 0


def test_bad_fields_are_named_and_nothing_is_kept(app, client, provider):
    response = _send(client, provider, _payment(amount=2500.0, currency="USD",
                                                paid_at="2999-01-01", transaction_id="x"))
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"amount", "currency", "paid_at",
                                                  "transaction_id"}
    assert _send(client, "nobody", _payment()).status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StatementLine)) == 0
