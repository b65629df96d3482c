"""Money, shares and figures in the reader's language, through Babel: the sign people of the
currency's country write (₡, ₱, F CFA), never the ISO code, and the locale's own separators."""

from __future__ import annotations

from decimal import Decimal

import pytest

from coopreg.core.money import currency_symbol, format_money, format_share

NBSP, NNBSP = "\u00a0", "\u202f"


@pytest.mark.parametrize("currency,symbol", [("CRC", "₡"), ("PHP", "₱"), ("XOF", f"F{NNBSP}CFA"),
                                             ("BRL", "R$")])
def test_each_currency_has_the_sign_of_its_country(currency, symbol):
    assert currency_symbol(currency) == symbol


@pytest.mark.parametrize("locale,expected", [
    ("en", "₡955,810.80"), ("es", f"955.810,80{NBSP}₡"), ("fr", f"955{NNBSP}810,80{NBSP}₡"),
    ("pt", f"₡{NBSP}955.810,80")])
def test_money_is_written_as_the_language_writes_it(locale, expected):
    assert format_money(Decimal("955810.80"), "CRC", locale) == expected


def test_money_keeps_the_currencys_decimals_and_refuses_floats():
    assert format_money(Decimal("15000"), "XOF", "fr") == f"15{NNBSP}000{NBSP}F{NNBSP}CFA"
    assert format_money(Decimal("1234.5"), "PHP", "en") == "₱1,234.50"
    with pytest.raises(TypeError):
        format_money(1.5, "CRC", "en")


@pytest.mark.parametrize("locale,expected", [("en", "23.2%"), ("es", f"23,2{NBSP}%"),
                                             ("fr", f"23,2{NBSP}%"), ("pt", "23,2%")])
def test_shares_are_percentages_of_the_language(locale, expected):
    assert format_share(Decimal("0.232"), locale) == expected


def test_pages_show_money_with_the_sign_in_the_readers_language(app, client, coop,
                                                                make_user, make_member):
    from coopreg.auth.models import User
    from coopreg.extensions import db
    from tests.conftest import login

    member = make_member(coop, declared_income="1500.50")
    user_id, email = make_user(coop, "secretary")
    with app.app_context():
        db.session.get(User, user_id).locale = "es"
        db.session.commit()
    login(client, email, cooperative=coop)
    page = client.get(f"/members/{member.id}").get_data(as_text=True)
    assert f"1.500,50{NBSP}₡" in page and "CRC" not in page.split("<main", 1)[-1]
