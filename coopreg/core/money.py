"""Money: Decimal in Python, integer minor units in the database.

SQLite stores NUMERIC as a float underneath, so sums of 0.10 drift there; integers never do.
The exponent follows the currency (2 for CRC and PHP, 0 for XOF), from Babel's CLDR data.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from babel.numbers import get_currency_precision

from coopreg.core.errors import DomainError


def currency_exponent(currency: str) -> int:
    return get_currency_precision(currency.upper())


def parse_amount(text: str | Decimal | int, currency: str) -> Decimal:
    """Read an amount typed by a person; refuse floats' cousins: more decimals than the
    currency has, negative amounts, or anything that is not a number."""
    if isinstance(text, float):
        raise TypeError("money is never a float")
    try:
        amount = Decimal(str(text).strip().replace(" ", ""))
    except InvalidOperation:
        raise DomainError(f"“{text}” is not an amount") from None
    if not amount.is_finite():
        raise DomainError(f"“{text}” is not an amount")
    if amount < 0:
        raise DomainError("the amount cannot be negative")
    exponent = currency_exponent(currency)
    if amount != amount.quantize(Decimal(1).scaleb(-exponent)):
        raise DomainError(f"{currency} amounts have at most {exponent} decimals")
    return amount


def to_minor(amount: Decimal, currency: str) -> int:
    """Decimal → integer minor units, exactly (raises if it would round)."""
    if isinstance(amount, float):
        raise TypeError("money is never a float")
    scaled = Decimal(amount).scaleb(currency_exponent(currency))
    if scaled != scaled.to_integral_value():
        raise DomainError(f"{amount} has more decimals than {currency} allows")
    return int(scaled)


def from_minor(minor: int | None, currency: str) -> Decimal | None:
    """Integer minor units → Decimal with the currency's exponent."""
    if minor is None:
        return None
    exponent = currency_exponent(currency)
    return (Decimal(minor).scaleb(-exponent)).quantize(Decimal(1).scaleb(-exponent))
