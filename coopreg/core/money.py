"""Money: Decimal in Python, integer minor units in the database.

SQLite stores NUMERIC as a float underneath, so sums of 0.10 drift there; integers never do.
The exponent follows the currency (2 for CRC and PHP, 0 for XOF), from Babel's CLDR data.
"""

from __future__ import annotations

import re
import unicodedata
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
from coopreg.core.text import ascii_digits


def currency_exponent(currency: str) -> int:
    return get_currency_precision(currency.upper())


# The largest amount accepted anywhere (in major units): far above any real contribution or
# income, far below what a BIGINT of minor units holds.
MAX_AMOUNT = Decimal("999999999999")


# Characters people and spreadsheets put between groups of thousands besides "." and ",":
# the space, the no-break space (fr, pt) and the narrow no-break space (fr in recent CLDR).
_SPACES = "\u0020\u00a0\u202f\u2009"


def _locale():
    """The user's locale (for the examples in messages), or None outside a request."""
    try:
        from flask_babel import get_locale
        return get_locale()
    except Exception:  # noqa: BLE001 - no app or request: English examples
        return None


def _example(amount: Decimal, exponent: int) -> str:
    from babel.numbers import format_decimal

    pattern = "#,##0." + "0" * exponent if exponent else "#,##0"
    return format_decimal(amount, format=pattern, locale=_locale() or "en")


def parse_amount(text: str | Decimal | int, currency: str) -> Decimal:
    """Read an amount typed by a person as the app shows it in any of its languages: es
    "6.268.125,00", fr "6 268 125,00" (spaces, no-break or narrow no-break spaces), en
    "6,268,125.00", or plain "6268125.00" / "6268125,00". The rule:
    - with both "." and ",", the last one is the decimal mark and the other groups thousands;
    - a mark used more than once, or beside spaces that group thousands, groups thousands;
    - a single mark followed by one or two digits (up to the currency's decimals) is the
      decimal mark;
    - a single mark followed by exactly three digits ("1.234", "1,234") is refused as
      ambiguous — it is 1234 to a Costa Rican and 1.234 to an American — unless the currency
      has three decimals; write it with its decimals ("1.234,00") or without separator;
    - groups after the first have exactly three digits.
    Refused too: digits other than 0-9 (Arabic-Indic, full-width…), negative amounts, more
    decimals than the currency has, and absurdly large amounts."""
    if isinstance(text, float):
        raise TypeError("money is never a float")
    raw = str(text).strip()
    exponent = currency_exponent(currency)
    if any(unicodedata.digit(ch, None) is not None and ch not in "0123456789" for ch in raw):
        raise DomainError(_("Write the amount with the digits 0 to 9 (“%(text)s” has other "
                            "digits).", text=text))
    if raw.startswith("-"):
        raise DomainError(_("The amount cannot be negative."))
    not_amount = DomainError(_("“%(text)s” is not an amount.", text=text))
    spaced = "".join(" " if ch in _SPACES else ch for ch in raw)
    if not _AMOUNT_CHARS.fullmatch(spaced) or not ascii_digits(spaced[:1]):
        raise not_amount
    marks = [ch for ch in spaced if ch in ".,"]
    kinds = set(marks)
    decimal_mark = group_mark = None
    if len(kinds) == 2:
        decimal_mark = marks[-1]
        group_mark = "," if decimal_mark == "." else "."
        if marks.count(decimal_mark) > 1 or " " in spaced:
            raise not_amount
    elif kinds:
        mark = marks[0]
        if len(marks) > 1:
            group_mark = mark
            if " " in spaced:
                raise not_amount
        elif " " in spaced:
            decimal_mark, group_mark = mark, " "
        else:
            after = spaced.rsplit(mark, 1)[1]
            if len(after) == 3 and exponent < 3:
                whole = Decimal(spaced.replace(mark, ""))
                if not exponent:
                    raise DomainError(_("“%(text)s” is ambiguous: write %(plain)s.", text=text,
                                        plain=whole))
                raise DomainError(_("“%(text)s” is ambiguous: write %(plain)s, or %(example)s "
                                    "with the decimals.", text=text, plain=whole,
                                    example=_example(whole, exponent)))
            decimal_mark = mark
    elif " " in spaced:
        group_mark = " "
    whole, _mark, fraction = (spaced.partition(decimal_mark) if decimal_mark
                              else (spaced, "", ""))
    if group_mark:
        groups = whole.split(group_mark)
        if not (1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])):
            raise DomainError(_("“%(text)s” is not an amount: thousands are grouped by three "
                                "digits.", text=text))
        whole = "".join(groups)
    if not ascii_digits(whole) or (fraction and not ascii_digits(fraction)) or (
            decimal_mark and not fraction):
        raise not_amount
    if len(fraction.rstrip("0")) > exponent:
        raise DomainError(_("%(currency)s amounts have at most %(n)d decimals.",
                            currency=currency, n=exponent))
    amount = Decimal(f"{whole}.{fraction}" if fraction else whole)
    if amount > MAX_AMOUNT:
        raise DomainError(_("The amount is too large."))
    return amount


def amount_for_typing(minor: int | None, currency: str) -> str:
    """Minor units as the user would type them in their language ("955.810,80" in es,
    "955 810,80" in fr, "955,810.80" in en): what a form pre-fills, read back by
    `parse_amount`."""
    if minor is None:
        return ""
    return _example(from_minor(minor, currency), currency_exponent(currency))


_AMOUNT_CHARS = re.compile(r"[0-9., ]+")


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


def amount_in_words(amount: Decimal, currency: str, language: str) -> str:
    """An amount spelt out in `language` (num2words) as on a cheque or receipt: the whole
    units in words, the currency's name, and the cents as a fraction ("seis mil colones con
    50/100"); currencies without decimals have no fraction."""
    from babel.numbers import get_currency_name
    from flask_babel import force_locale
    from num2words import num2words

    if isinstance(amount, float):
        raise TypeError("money is never a float")
    exponent = currency_exponent(currency)
    whole = int(amount)
    cents = int((Decimal(amount) - whole).scaleb(exponent))
    lang = (language or "en").replace("-", "_")
    try:
        words = num2words(whole, lang=lang)
    except NotImplementedError:
        words, lang = num2words(whole, lang="en"), "en"
    name = get_currency_name(currency, count=whole, locale=lang).lower()
    if not exponent:
        return f"{words} {name}"
    with force_locale(lang):
        return _("%(words)s %(currency)s and %(cents)s/%(unit)s", words=words, currency=name,
                 cents=f"{cents:0{exponent}d}", unit=10 ** exponent)


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



def format_minor(minor: int | None, currency: str, locale: str | Locale | None = None) -> str:
    """Integer minor units, as the database keeps money, written as `format_money` does."""
    if minor is None:
        return ""
    return format_money(from_minor(minor, currency), currency, locale)

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
