"""Administrative divisions of an address (province, canton, district) with their official
codes, for the countries whose divisions coopreg ships as data (`members/data/divisions_<cc>.csv`).

Institutions' forms ask for the codes (the CCSS writes province 2, canton 210, district
21001); people pick the names. A member's three codes must belong to one another.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from flask_babel import gettext as _

from coopreg.core.errors import DomainError

_DATA = Path(__file__).with_name("data")
LEVELS = ("province", "canton", "district")


@dataclass(frozen=True)
class Division:
    level: str
    code: str
    name: str
    parent: str | None


@cache
def divisions_of(country: str) -> dict[str, Division]:
    """Every division of the country by code (empty when coopreg ships none for it)."""
    path = _DATA / f"divisions_{(country or '').lower()}.csv"
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as stream:
        lines = [line for line in stream if not line.startswith("#")]
    return {row["code"]: Division(row["level"], row["code"], row["name"], row["parent"] or None)
            for row in csv.DictReader(lines)}


def has_divisions(country: str) -> bool:
    return bool(divisions_of(country))


def choices_of(country: str, level: str, parent: str | None = None) -> list[tuple[str, str]]:
    """(code, name) of one level, under `parent` when given, in code order."""
    return [(d.code, d.name) for d in divisions_of(country).values()
            if d.level == level and (parent is None or d.parent == parent)]


def division_name(country: str, code: str | None) -> str:
    division = divisions_of(country).get(code or "")
    return division.name if division else ""


def clean_divisions(country: str, province: str | None, canton: str | None,
                    district: str | None) -> dict[str, str | None]:
    """The three codes checked against the country's data: each known, of its level, inside
    the one above; a district alone gives its canton and province. A name ("San Carlos") is
    taken for its code when it names one division of that level. Raises `DomainError` on the
    field that is wrong."""
    known = divisions_of(country)
    values = {"province": province, "canton": canton, "district": district}
    if not known:
        if any(v for v in values.values()):
            raise DomainError(_("This cooperative's country has no list of provinces and "
                                "districts: write the place in the address."),
                              field="province_code")
        return {"province_code": None, "canton_code": None, "district_code": None}
    codes: dict[str, str | None] = {}
    for level in LEVELS:
        text = " ".join(str(values[level] or "").split())
        if not text:
            codes[level] = None
            continue
        division = known.get(text)
        if division is None:
            named = [d for d in known.values() if d.level == level
                     and d.name.casefold() == text.casefold()]
            division = named[0] if len(named) == 1 else None
        if division is None or division.level != level:
            raise DomainError(_("“%(text)s” is not in the country's list of %(levels)s.",
                                text=text, levels=_levels_word(level)),
                              field=f"{level}_code")
        codes[level] = division.code
    # complete from below: a district knows its canton, a canton its province; a mismatch is
    # said of the lowest division given
    given = [level for level in LEVELS if codes[level]]
    for lower, upper in (("district", "canton"), ("canton", "province")):
        if codes[lower]:
            parent = known[codes[lower]].parent
            if codes[upper] and codes[upper] != parent:
                lowest = given[-1]
                raise DomainError(_("“%(name)s” is not in “%(upper_name)s”.",
                                    name=known[codes[lowest]].name,
                                    upper_name=known[codes[upper]].name),
                                  field=f"{lowest}_code")
            codes[upper] = parent
    return {f"{level}_code": codes[level] for level in LEVELS}


def _levels_word(level: str) -> str:
    return {"province": _("provinces"), "canton": _("cantons"),
            "district": _("districts")}[level]
