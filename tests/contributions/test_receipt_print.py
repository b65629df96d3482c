"""The printed receipt is what a member keeps: the cooperative's name and contact, the
member's number and masked ID, the periods paid and the balance left, the amount in figures
and in words in the member's language, the collector and a signature line — and nothing
interactive (no action heading, button, form, link or script)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from babel.dates import format_date

from coopreg.contributions import services
from coopreg.cooperatives.models import Cooperative
from coopreg.core.audit import acting_as
from coopreg.core.money import amount_in_words
from coopreg.extensions import db
from tests.conftest import login
from tests.contributions.helpers import make_agreement, make_member, register

THIS_MONTH = date.today().replace(day=1)
TWO_BACK = ((THIS_MONTH - timedelta(days=1)).replace(day=1) - timedelta(days=1)).replace(day=1)


@pytest.mark.parametrize("language,amount,words", [
    ("es", Decimal("1500.50"), "mil quinientos colones costarricenses con 50/100"),
    ("fr", Decimal("1500.00"), "mille cinq cents colóns costaricains et 00/100"),
    ("pt", Decimal("2.00"), "dois colóns costarriquenhos e 00/100"),
    ("en", Decimal("21.05"), "twenty-one costa rican colóns and 05/100"),
])
def test_amount_in_words_in_the_members_language(ctx, language, amount, words):
    assert amount_in_words(amount, "CRC", language) == words


def test_amount_in_words_without_decimals(ctx):
    assert amount_in_words(Decimal("2500"), "XOF", "fr").startswith("deux mille cinq cents")
    assert "/" not in amount_in_words(Decimal("2500"), "XOF", "fr")


@pytest.fixture
def paid(app, coop):
    """A Spanish-reading member with three monthly dues of 600 (member share), who paid 1500
    on one receipt: two periods paid, 300 on the third, 300 still owed."""
    with app.app_context(), acting_as(None, "tests"):
        cooperative = db.session.get(Cooperative, coop.id)
        cooperative.contact = "Calle 5, San Isidro · Tel. 2771-0000"
        agreement = make_agreement(cooperative, valid_from=TWO_BACK, reference="SLIP-1")
        member = make_member(cooperative, joined_on=date(2020, 1, 1), language="es",
                             first_name="Rosa", id_type="cr_cedula", id_number="0102340371")
        register(agreement, member, TWO_BACK)
        services.generate_dues(agreement, TWO_BACK, THIS_MONTH)
        receipt, _created = services.record_receipt(cooperative, services.ReceiptInput(
            member_id=member.id, received_on=date.today(), amount="1500", method="cash",
            collector="Lucía Vargas", idempotency_key="slip-test-0001"), None)
        db.session.commit()
        return {"receipt": receipt.id, "number": receipt.number,
                "member_number": member.member_number, "id_number": member.id_number}


def test_the_printed_receipt_has_what_a_member_keeps_and_nothing_to_click(
        app, client, coop, make_user, paid):
    _uid, email = make_user(coop, "treasurer")
    login(client, email, cooperative=coop)
    response = client.get(f"/contributions/receipts/{paid['receipt']}/print")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Cooperativa de Prueba" in page and "Calle 5, San Isidro · Tel. 2771-0000" in page
    assert paid["member_number"] in page
    assert paid["id_number"] not in page and "371" in page and "•" in page  # masked ID
    assert format_date(TWO_BACK, "MMM y", locale="es") in page
    assert "mil quinientos colones costarricenses con 00/100" in page  # words, in Spanish
    assert "Lucía Vargas" in page
    assert "Firma" in page and "Recibo" in page  # the member's language
    still_owed = re.search(r"Saldo pendiente tras este pago</dt><dd><strong>([^<]+)<", page)
    assert still_owed and "300" in still_owed.group(1)
    for interactive in ("<form", "<button", "<script", "<a ", "<input", "<nav"):
        assert interactive not in page, interactive
    assert "Anular" not in page and "Reverse" not in page
    # the receipt page sends "Print" to this slip, and its reversal card never prints
    screen = client.get(f"/contributions/receipts/{paid['receipt']}").get_data(as_text=True)
    assert f"/contributions/receipts/{paid['receipt']}/print" in screen
    assert 'class="card narrow no-print"' in screen


def test_the_balance_after_a_receipt_stays_the_same_on_a_later_reprint(app, paid):
    with app.app_context(), acting_as(None, "tests"):
        from coopreg.contributions.models import Receipt

        receipt = db.session.get(Receipt, paid["receipt"])
        cooperative = db.session.get(Cooperative, receipt.cooperative_id)
        before = services.balance_after(receipt)
        assert before == 30000
        services.record_receipt(cooperative, services.ReceiptInput(
            member_id=receipt.member_id, received_on=date.today(), amount="300",
            method="cash", idempotency_key="slip-test-0002"), None)
        assert services.balance_after(receipt) == before
