"""Phone numbers: stored in E.164 (`+50688881234`), read in the cooperative's country, shown
in the country's national form, and written in the form a file layout asks for.

The phonenumbers library (Google's libphonenumber) knows each country's numbering plan, so a
secretary types the number as people say it ("8888-1234", "0917 123 4567") and the register
keeps one form that every search, message and institution file can rely on.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from flask_babel import gettext as _

from coopreg.core.errors import DomainError

# What a person may type in a phone number: digits and the usual separators, + only first.
_PHONE_TYPED = re.compile(r"\+?[0-9\s().\-/]+")
_E164 = re.compile(r"\+[1-9][0-9]{5,14}")

# The forms a layout can write a phone number in.
E164, NATIONAL, DIGITS = "e164", "national", "digits"
PHONE_FORMS = (E164, NATIONAL, DIGITS)


def parse_phone(text: str | None, country: str) -> str | None:
    """The number in E.164, read as dialled in `country` (ISO 3166 alpha-2) unless it starts
    with + (or 00). Raises `DomainError` on the `phone` field when it is not a number that
    country's plan allows."""
    text = (text or "").strip()
    if not text:
        return None
    if not _PHONE_TYPED.fullmatch(text):
        raise DomainError(_("A phone number holds digits, spaces, dashes, dots or brackets, "
                            "and + only at the start."), field="phone")
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, (country or "").upper() or None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_possible_number(number):
        raise DomainError(_("“%(phone)s” is not a phone number of %(country)s: check the "
                            "number of digits, or write it with + and the country code.",
                            phone=text, country=(country or "").upper()), field="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_e164(stored: str | None) -> bool:
    """True when the stored text is an E.164 number (old, unchecked phones are kept as typed)."""
    return bool(stored) and _E164.fullmatch(stored) is not None


@lru_cache(maxsize=65_536)
def phone_as(stored: str | None, form: str = NATIONAL, country: str | None = None) -> str:
    """A stored phone written in `form`: E.164, the national form ("8888 1234", "0917 123
    4567") or its digits only ("88881234", "09171234567"). With `country`, a number of
    another country is written in the international form ("+54 11 2345-6789"; digits:
    "00541123456789"), since its national form would be read as the cooperative's. A phone
    kept as typed (from before phones were checked) is written as it was."""
    if not stored:
        return ""
    if not is_e164(stored):
        return stored
    if form == E164:
        return stored
    try:
        number = phonenumbers.parse(stored, None)
    except phonenumbers.NumberParseException:
        return stored
    abroad = bool(country) and (phonenumbers.region_code_for_number(number)
                                != (country or "").upper())
    if abroad:
        if form == DIGITS:
            return "00" + stored[1:]
        return phonenumbers.format_number(number,
                                          phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    if form == DIGITS:
        return re.sub(r"[^0-9]", "", national)
    return national
