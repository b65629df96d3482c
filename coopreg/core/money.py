"""Money: Decimal in Python, integer minor units in the database.

SQLite stores NUMERIC as a float underneath, so sums of 0.10 drift there; integers never do.
The exponent follows the currency (2 for CRC and PHP, 0 for XOF), from Babel's CLDR data.
"""

from __future__ import annotations

import re
from decimal import Decimal

from babel.numbers import get_currency_precision
from flask_babel import gettext as _

from coopreg.core.errors import DomainError


def currency_exponent(currency: str) -> int:
    return get_currency_precision(currency.upper())


# The largest amount accepted anywhere (in major units): far above any real contribution or
# income, far below what a BIGINT of minor units holds.
MAX_AMOUNT = Decimal("999999999999")


def parse_amount(text: str | Decimal | int, currency: str) -> Decimal:
    """Read an amount typed by a person: digits with at most one decimal mark (dot or comma)
    and no more decimals than the currency has. Refused: negative or absurdly large amounts,
    and thousands separators — "250.000" is 250 to Python but 250,000 to a Costa Rican."""
    if isinstance(text, float):
        raise TypeError("money is never a float")
    if isinstance(text, Decimal | int):
        raw = str(text)
    else:
        raw = str(text).strip().replace(" ", "").replace("\u00a0", "")
    if raw.startswith("-"):
        raise DomainError(_("The amount cannot be negative."))
    match = _AMOUNT.fullmatch(raw)
    if not match:
        raise DomainError(_("“%(text)s” is not an amount.", text=text))
    whole, fraction = match.group(1), match.group(2) or ""
    exponent = currency_exponent(currency)
    if len(fraction.rstrip("0")) > exponent or (len(fraction) == 3 and exponent < 3):
        if len(fraction) == 3:
            raise DomainError(_("Write the amount without thousands separators "
                                "(for example 250000 or 250000.50)."))
        raise DomainError(_("%(currency)s amounts have at most %(n)d decimals.",
                            currency=currency, n=exponent))
    amount = Decimal(f"{whole}.{fraction}" if fraction else whole)
    if amount > MAX_AMOUNT:
        raise DomainError(_("The amount is too large."))
    return amount


_AMOUNT = re.compile(r"(\d+)(?:[.,](\d+))?")


def to_minor(amount: Decimal, currency: str) -> int:
    """Decimal → integer minor units, exactly (raises if it would round)."""
    if isinstance(amount, float):
        raise TypeError("money is never a float")
    scaled = Decimal(amount).scaleb(currency_exponent(currency))
    if scaled != scaled.to_integral_value():
        raise DomainError(_("%(amount)s has more decimals than %(currency)s allows.",
                            amount=amount, currency=currency))
    return int(scaled)


def from_minor(minor: int | None, currency: str) -> Decimal | None:
    """Integer minor units → Decimal with the currency's exponent."""
    if minor is None:
        return None
    exponent = currency_exponent(currency)
    return (Decimal(minor).scaleb(-exponent)).quantize(Decimal(1).scaleb(-exponent))
