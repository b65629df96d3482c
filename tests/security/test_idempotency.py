"""Issue 15, item 5: a form's one-time key sent again with other content is refused with a
clear message and 409, never matched to what the key recorded first, never a 500 — on
every form that takes a key (receipt, collection sheet, receipt from a statement line).
No CLI command takes a key."""

from __future__ import annotations

import re
import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from coopreg.contributions import services, statements
from coopreg.contributions.models import CollectionSheet, Receipt, StatementLine, StatementMatch
from coopreg.cooperatives.models import Cooperative
from coopreg.core.audit import acting_as
from coopreg.core.errors import KeyReused
from coopreg.extensions import db
from coopreg.members.models import Member
from tests.contributions.helpers import receipt_input
from tests.contributions.test_views import _count, _generate
from tests.contributions.test_views import world as world  # noqa: F401 - fixture

KEY = str(uuid.uuid4())
REFUSED = "already sent once with other content"


def _key(page: str) -> str:
    return re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page).group(1)


def test_a_key_with_other_content_is_refused_by_the_service(ctx, coop, world):
    cooperative = db.session.get(Cooperative, coop.id)
    ana = db.session.get(Member, world["ana"])
    beto = db.session.get(Member, world["beto"])
    first, created = services.record_receipt(cooperative, receipt_input(ana, "100", key=KEY),
                                             None)
    assert created
    again, created = services.record_receipt(cooperative, receipt_input(ana, "100", key=KEY),
                                             None)
    assert again.id == first.id and not created  # the same form twice: one receipt
    for other in (receipt_input(ana, "200", key=KEY), receipt_input(beto, "100", key=KEY),
                  receipt_input(ana, "100", key=KEY, received_on=date(2024, 6, 2)),
                  receipt_input(ana, "100", key=KEY, method="bank_transfer",
                                external_reference="T-1")):
        with pytest.raises(KeyReused) as refused:
            services.record_receipt(cooperative, other, None)
        assert refused.value.status_code == 409
    assert db.session.scalar(select(func.count()).select_from(Receipt)) == 1


def _line_of(app, amount: str) -> tuple[int, str, int]:
    """A statement line of `amount`, and the key of an earlier 1.00 receipt (the attack)."""
    today = date.today()
    with app.app_context(), acting_as(None, "tests"):
        coop = db.session.scalar(select(Cooperative))
        member = db.session.scalar(select(Member).order_by(Member.id))
        key = str(uuid.uuid4())
        receipt, _ = services.record_receipt(coop, receipt_input(
            member, "1.00", received_on=today, key=key), None)
        source = statements.find_or_create_source(coop, "Bank", "bank_transfer")
        statements.save_mapping(source, ["d", "a", "r"], {
            "date_column": "d", "amount_column": "a", "reference_column": "r"}, "ymd")
        statements.import_statement(coop, source, f"d,a,r\n{today},{amount},BIG-1\n".encode(),
                                    "bank.csv", None)
        line_id = db.session.scalar(select(StatementLine.id).where(
            StatementLine.reference == "BIG-1"))
        db.session.commit()
        return line_id, key, member.id


def test_replaying_a_receipts_key_on_a_statement_line_is_refused(app, as_role, world):
    line_id, key, member_id = _line_of(app, "1234.00")
    client = as_role("treasurer")
    for _attempt in range(2):  # the second replay gave a 500
        response = client.post(f"/contributions/statement-lines/{line_id}/receipt",
                               data={"member_id": member_id, "idempotency_key": key})
        assert response.status_code == 409
        page = response.get_data(as_text=True)
        assert REFUSED in page and _key(page) != key  # a fresh key to send it on purpose
    assert _count(app, StatementMatch) == 0
    assert _count(app, Receipt) == 1


def test_the_same_line_form_sent_twice_records_one_receipt(app, as_role, world):
    line_id, _key_used, member_id = _line_of(app, "1234.00")
    client = as_role("treasurer")
    key = _key(client.get(f"/contributions/statement-lines/{line_id}/receipt")
               .get_data(as_text=True))
    for _attempt in range(2):
        response = client.post(f"/contributions/statement-lines/{line_id}/receipt",
                               data={"member_id": member_id, "idempotency_key": key})
        assert response.status_code == 302
    assert _count(app, StatementMatch) == 1 and _count(app, Receipt) == 2


def test_the_receipt_form_refuses_its_key_with_another_amount(app, as_role, world):
    client = as_role("treasurer")
    key = _key(client.get("/contributions/receipts/new").get_data(as_text=True))
    data = {"member_id": world["ana"], "received_on": date.today().isoformat(),
            "amount": "100", "method": "cash", "idempotency_key": key}
    assert client.post("/contributions/receipts/new", data=data).status_code == 302
    assert client.post("/contributions/receipts/new", data=data).status_code == 302  # twice
    response = client.post("/contributions/receipts/new", data={**data, "amount": "5000"})
    assert response.status_code == 409 and REFUSED in response.get_data(as_text=True)
    assert _count(app, Receipt) == 1


def test_the_collection_sheet_refuses_its_key_with_other_lines(app, as_role, world):
    _generate(app, world)
    client = as_role("treasurer")
    sheet = client.get(f"/contributions/collection?agreement_id={world['agreement_id']}"
                       f"&collected_on={date.today()}").get_data(as_text=True)
    data = {"agreement_id": world["agreement_id"], "collected_on": date.today().isoformat(),
            "locality": "", "collector": "Meeting", "method": "cash",
            "member": [world["ana"], world["beto"]],
            f"amount-{world['ana']}": "1200.00", f"amount-{world['beto']}": "500",
            "idempotency_key": _key(sheet), "control_count": "2", "control_total": "1700"}
    assert client.post("/contributions/collection", data=data).status_code == 302
    assert client.post("/contributions/collection", data=data).status_code == 302
    other = {**data, f"amount-{world['beto']}": "900", "control_total": "2100"}
    response = client.post("/contributions/collection", data=other)
    assert response.status_code == 409 and REFUSED in response.get_data(as_text=True)
    assert _count(app, Receipt) == 2 and _count(app, CollectionSheet) == 1
