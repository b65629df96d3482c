"""Text folding for accent- and case-insensitive search ("nunez" finds "Núñez")."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def fold(text: str | None) -> str:
    """Lower-case, accents stripped, spaces collapsed: the form stored for searching."""
    if not text:
        return ""
    if text.isascii():  # nothing to decompose; str.split() splits on what \s matches
        return " ".join(text.lower().split())
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", stripped.casefold()).strip()


def digits_only(text: str | None) -> str:
    """The ASCII digits of a text (a superscript "²" or an Arabic-Indic digit is not one)."""
    return re.sub(r"[^0-9]", "", text or "")


def ascii_digits(text: str | None) -> bool:
    """True for a non-empty run of 0-9 only. `str.isdigit()` is also true for "²" and "١",
    which `int()` then refuses (a 500) or reads as a number nobody typed; every check of a
    person's input uses this instead."""
    return bool(text) and text.isascii() and text.isdigit()


def escape_like(text: str) -> str:
    """Escape LIKE wildcards so a person's `%` or `_` is searched literally (escape char `\\`)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


_MONTH_FORMS = (r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})", r"(?P<m>\d{1,2})[-/.](?P<y>\d{4})")


def read_month(text: str | None) -> tuple[int, int] | None:
    """(year, month) of a month as a picker sends it ("2025-03") or as people type it
    ("2025/3", "03/2025", "3-2025"); None when it is not one."""
    for form in _MONTH_FORMS:
        match = re.fullmatch(form, (text or "").strip())
        if match and 1 <= int(match["m"]) <= 12 and int(match["y"]) >= 1900:
            return int(match["y"]), int(match["m"])
    return None


def ascii_int(text: str | None, high: int = 2**63 - 1) -> int | None:
    """A whole number typed as ASCII digits that the databases can hold, or None."""
    text = (text or "").strip()
    if not ascii_digits(text) or len(text) > 19:
        return None
    number = int(text)
    return number if number <= high else None


_NON_WORD = re.compile(r"[^0-9a-z]+")


def header_key(text: str | None) -> str:
    """A column header as compared: folded, punctuation as single spaces ("Fecha de
    nacimiento:" and "FECHA DE NACIMIENTO" are the same key)."""
    return _NON_WORD.sub(" ", fold(text)).strip()[:200]
