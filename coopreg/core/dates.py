"""Dates as other people's files write them, read without asking for a pattern.

An institution's answer file may carry "2025-02-01", "01/02/2025", "02/01/2025" (PhilHealth
writes the month first), "20250201", "1 de febrero de 2025", "01-FEB-2025", "Feb 1, 2025", a
spreadsheet's own date or an Excel serial. Which of day and month comes first in "01/02/2025"
cannot be told from one value: it is decided for the whole column (`column_order`) from the
values that can only be read one way ("13/02/2025"), else from the country's habit, and a
column that says both ways is refused rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime

from coopreg.core.spreadsheets import excel_serial_to_date
from coopreg.core.text import fold

DAY_FIRST, MONTH_FIRST = "dmy", "mdy"
ORDERS = (DAY_FIRST, MONTH_FIRST)
# Where people write the month first; everywhere else the day comes first.
MONTH_FIRST_COUNTRIES = frozenset({"PH", "US"})

_MONTHS = {
    1: ("january", "jan", "enero", "ene", "janvier", "janv", "janeiro"),
    2: ("february", "feb", "febrero", "fevrier", "fev", "fevereiro", "fevr"),
    3: ("march", "mar", "marzo", "mars", "marco"),
    4: ("april", "apr", "abril", "abr", "avril", "avr"),
    5: ("may", "mayo", "mai", "maio"),
    6: ("june", "jun", "junio", "juin", "junho"),
    7: ("july", "jul", "julio", "juillet", "juil", "julho"),
    8: ("august", "aug", "agosto", "ago", "aout"),
    9: ("september", "sep", "sept", "septiembre", "setiembre", "set", "septembre", "setembro"),
    10: ("october", "oct", "octubre", "octobre", "outubro", "out"),
    11: ("november", "nov", "noviembre", "novembre", "novembro"),
    12: ("december", "dec", "diciembre", "dic", "decembre", "dezembro", "dez"),
}
MONTH_NAMES = {name: number for number, names in _MONTHS.items() for name in names}

_TIME = r"(?:[ t]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})" + _TIME)
_NUMERIC = re.compile(r"(\d{1,2})([-/. ])(\d{1,2})\2(\d{4})" + _TIME)
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_SERIAL = re.compile(r"\d{5}(?:\.\d+)?")
# day, month name, year: "1 de febrero de 2025", "01-FEB-2025", "1er mars 2025"
_DAY_NAME_YEAR = re.compile(r"(\d{1,2})(?:er|o|º)?[-/. ]+(?:de )?([a-z]+)\.?[-/. ]+(?:de )?(\d{4})")
# month name, day, year: "Feb 1, 2025", "February 01 2025"
_NAME_DAY_YEAR = re.compile(r"([a-z]+)\.? (\d{1,2}),? (\d{4})")


class NotADate(ValueError):
    """The text is not a date in any form this module reads."""


class MixedOrders(ValueError):
    """The column writes some dates day first and others month first."""


def _plain(value) -> str:
    return fold(str(value)).replace(",", ", ").replace("  ", " ").strip()


def _first_two(text: str) -> tuple[int, int] | None:
    match = _NUMERIC.fullmatch(text)
    return (int(match.group(1)), int(match.group(3))) if match else None


def column_order(values: Iterable, country: str | None = None) -> str:
    """Day first or month first for a whole column: what its unambiguous values say, else the
    country's habit. Raises MixedOrders when the column says both."""
    seen = set()
    for value in values:
        pair = _first_two(_plain(value)) if isinstance(value, str) else None
        if pair is None:
            continue
        first, second = pair
        if first > 12 >= second:
            seen.add(DAY_FIRST)
        elif second > 12 >= first:
            seen.add(MONTH_FIRST)
    if len(seen) > 1:
        raise MixedOrders("day first and month first in the same column")
    if seen:
        return seen.pop()
    return MONTH_FIRST if (country or "").upper() in MONTH_FIRST_COUNTRIES else DAY_FIRST


def date_cell(value) -> date | None:
    """The day a spreadsheet cell holds as a real date (a datetime's day); None for any other
    cell, which is text or a number to read."""
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def read_date(value, order: str = DAY_FIRST) -> date | None:
    """The date a cell holds, None for an empty one; NotADate when it holds something else.
    `order` says which of day and month comes first in "01/02/2025"."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if (held := date_cell(value)) is not None:
        return held
    if isinstance(value, bool):
        raise NotADate(str(value))
    if isinstance(value, int | float):
        if 10_000 <= value <= 2_958_465:
            return excel_serial_to_date(value)
        raise NotADate(str(value))
    text = _plain(value)
    try:
        return _read_text(text, order)
    except ValueError:  # a form that matched, with a day or a month out of range
        raise NotADate(str(value)) from None


def _read_text(text: str, order: str) -> date:
    if match := _ISO.fullmatch(text):
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    if match := _NUMERIC.fullmatch(text):
        first, second, year = int(match.group(1)), int(match.group(3)), int(match.group(4))
        day, month = (second, first) if order == MONTH_FIRST else (first, second)
        return date(year, month, day)
    if (match := _COMPACT.fullmatch(text)) and 1900 <= int(match.group(1)) <= 2199:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    if _SERIAL.fullmatch(text):
        return excel_serial_to_date(float(text))
    if (match := _DAY_NAME_YEAR.fullmatch(text)) and match.group(2) in MONTH_NAMES:
        return date(int(match.group(3)), MONTH_NAMES[match.group(2)], int(match.group(1)))
    if (match := _NAME_DAY_YEAR.fullmatch(text)) and match.group(1) in MONTH_NAMES:
        return date(int(match.group(3)), MONTH_NAMES[match.group(1)], int(match.group(2)))
    raise NotADate(text)
