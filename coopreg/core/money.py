"""Money: Decimal in Python, integer minor units in the database.

SQLite stores NUMERIC as a float underneath, so sums of 0.10 drift there; integers never do.
The exponent follows the currency (2 for CRC and PHP, 0 for XOF), from Babel's CLDR data.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.languages import get_official_languages
from babel.numbers import format_currency as babel_format_currency
from babel.numbers import format_percent as babel_format_percent
from babel.numbers import get_currency_precision, get_currency_symbol
from flask_babel import get_locale
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
        raise DomainError(f"{amount} has more decimals than {currency} allows")
    return int(scaled)


def from_minor(minor: int | None, currency: str) -> Decimal | None:
    """Integer minor units → Decimal with the currency's exponent."""
    if minor is None:
        return None
    exponent = currency_exponent(currency)
    return (Decimal(minor).scaleb(-exponent)).quantize(Decimal(1).scaleb(-exponent))


# Currencies of several countries: the country whose locales give their sign.
_HOME = {"XOF": "SN", "XAF": "CM", "XCD": "AG", "XPF": "PF", "EUR": "FR"}


@lru_cache(maxsize=64)
def currency_symbol(currency: str) -> str:
    """The sign people of the currency's country write (₡ for CRC, ₱ for PHP, F CFA for XOF),
    whatever the language of the page: CLDR gives "CRC" in Spanish and French, and nobody in
    Costa Rica writes that. The ISO code when the country's own locales have no sign."""
    currency = currency.upper()
    territory = _HOME.get(currency, currency[:2])
    for language in get_official_languages(territory, de_facto=True) + ("en", "es", "fr"):
        try:
            symbol = get_currency_symbol(currency, locale=Locale(language, territory))
        except (UnknownLocaleError, ValueError):
            continue
        if symbol and symbol != currency:
            return symbol
    return currency


def format_money(amount: Decimal | None, currency: str, locale: str | Locale | None = None
                 ) -> str:
    """An amount as people of the page's language write it, with the sign of the currency's
    country: "₡955,810.80", "955.810,80 ₡", exact (Decimal, the currency's decimals)."""
    if amount is None:
        return ""
    if isinstance(amount, float):
        raise TypeError("money is never a float")
    currency = currency.upper()
    locale = locale or get_locale() or "en"
    digits = currency_exponent(currency)
    text = babel_format_currency(Decimal(amount), currency, locale=locale,
                                 format=_pattern(str(locale), "currency", digits, "0"),
                                 currency_digits=False)
    return text.replace(currency, currency_symbol(currency))


@lru_cache(maxsize=64)
def _pattern(locale: str, kind: str, digits: int, fill: str) -> str:
    """The locale's own currency or percent pattern (where the sign goes, its spacing) with
    `digits` decimals ("0": always written, "#": only when not zero)."""
    parsed = Locale.parse(locale)
    formats = parsed.currency_formats if kind == "currency" else parsed.percent_formats
    pattern = formats["standard" if kind == "currency" else None].pattern.split(";")[0]
    number = re.search(r"[#0,.]+", pattern).group(0)
    whole = number.split(".")[0]
    return pattern.replace(number, f"{whole}.{fill * digits}" if digits else whole, 1)


def format_share(value: Decimal | int | None, locale: str | Locale | None = None,
                 digits: int = 1) -> str:
    """A share (0.232) as a percentage in the page's language: "23.2%", "23,2 %"."""
    if value is None:
        return ""
    if isinstance(value, float):
        raise TypeError("figures are never floats")
    locale = locale or get_locale() or "en"
    return babel_format_percent(Decimal(value), locale=locale,
                                format=_pattern(str(locale), "percent", digits, "#"))
