"""National ID numbers: which types a country has, how to check and normalise them.

Where python-stdnum has a module for the number, it does the checking and normalising. Other
countries use the pattern the cooperative configured (`Cooperative.id_pattern`). Messages say what
is wrong in words a secretary understands.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from types import ModuleType

from flask_babel import lazy_gettext as _l
from stdnum import exceptions as stdnum_errors

from coopreg.core.errors import DomainError

PATTERN_TYPE = "local"  # the cooperative's configured pattern


@dataclass(frozen=True)
class IdType:
    code: str
    label: str
    module: str | None  # python-stdnum module path, or None for the cooperative's pattern

    def stdnum(self) -> ModuleType | None:
        return _stdnum_module(self.module) if self.module else None


@cache
def _stdnum_module(name: str) -> ModuleType:
    return importlib.import_module(f"stdnum.{name}")


@lru_cache(maxsize=4096)
def _stdnum_validate(name: str, number: str) -> str:
    """python-stdnum's check of one number, its normal form cached: a spreadsheet import checks
    each ID twice in a row (restoring lost leading zeros, then the member rules). A refused
    number raises and is not cached."""
    return _stdnum_module(name).validate(number)


# The types offered per country, the usual one first.
ID_TYPES_BY_COUNTRY: dict[str, tuple[IdType, ...]] = {
    "CR": (IdType("cr_cedula", "Cédula de identidad", "cr.cpf"),
           IdType("cr_dimex", "DIMEX", "cr.cr")),
    "AR": (IdType("ar_cuil", "CUIL / CUIT", "ar.cuit"), IdType("ar_dni", "DNI", "ar.dni")),
    "BR": (IdType("br_cpf", "CPF", "br.cpf"),),
    "DO": (IdType("do_cedula", "Cédula", "do.cedula"),),
    "UY": (IdType("uy_rut", "RUT", "uy.rut"),),
    "BE": (IdType("be_nn", "National number", "be.nn"),),
    "FR": (IdType("fr_nir", "NIR", "fr.nir"),),
    "CL": (IdType("cl_rut", "RUT", "cl.rut"),),
    "CO": (IdType("co_nit", "NIT", "co.nit"),),
    "EC": (IdType("ec_ci", "Cédula", "ec.ci"),),
    "MX": (IdType("mx_curp", "CURP", "mx.curp"),),
    "PE": (IdType("pe_cui", "CUI / DNI", "pe.cui"),),
    "ES": (IdType("es_dni", "DNI", "es.dni"), IdType("es_nie", "NIE", "es.nie")),
    "PT": (IdType("pt_cc", "Cartão de Cidadão", "pt.cc"),),
}


@lru_cache(maxsize=1024)
def id_types_for(country: str, local_label: str | None = None) -> tuple[IdType, ...]:
    """The ID types a cooperative in this country can record (an immutable tuple: cached)."""
    types = ID_TYPES_BY_COUNTRY.get(country.upper(), ())
    if not types or local_label:
        types = types + (IdType(PATTERN_TYPE, local_label or "National ID", None),)
    return types


def id_type_label(country: str, code: str | None, local_label: str | None = None) -> str:
    for id_type in id_types_for(country, local_label):
        if id_type.code == code:
            return id_type.label
    return code or ""


_MESSAGES = {
    stdnum_errors.InvalidChecksum: _l("the check digit does not match: a digit was probably "
                                      "mistyped"),
    stdnum_errors.InvalidLength: _l("it has the wrong number of digits"),
    stdnum_errors.InvalidFormat: _l("it contains characters that do not belong in this number"),
    stdnum_errors.InvalidComponent: _l("a part of it is not possible (for example the province "
                                       "or the date coded in it)"),
}


def normalise_id(country: str, id_type: str, number: str, *, pattern: str | None = None,
                 local_label: str | None = None) -> str:
    """Check a national ID and return its normal (compact) form, or raise `DomainError`
    with a reason on the `id_number` field."""
    number = (number or "").strip()
    if not number:
        raise DomainError(str(_l("Enter the ID number.")), field="id_number")
    types = {t.code: t for t in id_types_for(country, local_label)}
    if id_type not in types:
        raise DomainError(str(_l("This ID type is not used in this cooperative's country.")),
                          field="id_type")
    module = types[id_type].module
    if module is not None:
        try:
            return _stdnum_validate(module, number)
        except stdnum_errors.ValidationError as error:
            reason = next((m for cls, m in _MESSAGES.items() if isinstance(error, cls)),
                          _l("it is not a valid number"))
            raise DomainError(
                str(_l("%(label)s “%(number)s”: %(reason)s.", label=types[id_type].label,
                       number=number, reason=reason)),
                field="id_number",
            ) from None
    compact = re.sub(r"[\s.\-/]", "", number).upper()
    if pattern:
        # the pattern is the cooperative's own: it may allow more than the column holds
        if not re.fullmatch(pattern, compact) or len(compact) > 40:
            raise DomainError(
                str(_l("“%(number)s” is not in the form this cooperative uses for %(label)s.",
                       number=number, label=types[id_type].label)),
                field="id_number",
            )
    elif not re.fullmatch(r"[0-9A-Z]{3,30}", compact):
        raise DomainError(str(_l("An ID number has 3 to 30 letters or digits.")),
                          field="id_number")
    return compact


@lru_cache(maxsize=65_536)
def format_id(country: str, id_type: str | None, number: str | None) -> str:
    """The number as people write it (dashes, dots), for display. Cached: python-stdnum's
    formatting cleans every character through a Unicode table, which adds up on a page of
    fifty members."""
    if not number:
        return ""
    for t in ID_TYPES_BY_COUNTRY.get((country or "").upper(), ()):
        if t.code == id_type:
            module = t.stdnum()
            formatter = getattr(module, "format", None)
            if formatter:
                try:
                    return formatter(number)
                except Exception:  # noqa: BLE001 - display only; fall back to the stored form
                    return number
    return number


def mask_id(formatted: str, visible: int = 3) -> str:
    """Hide every digit or letter except the last `visible` ones; keep separators."""
    if not formatted:
        return ""
    total = sum(c.isalnum() for c in formatted)
    shown = 0
    out = []
    for c in formatted:
        if c.isalnum():
            out.append(c if total - shown <= visible else "•")
            shown += 1
        else:
            out.append(c)
    return "".join(out)


# ---- tax numbers ---------------------------------------------------------------------------

# The person's tax number by country: python-stdnum's modules, tried in order (Costa Rica's
# tax number of a person is the cédula, or the DIMEX for foreigners; Argentina's the CUIT).
TAX_MODULES: dict[str, tuple[tuple[str, str], ...]] = {
    "CR": (("cr.cpf", "Cédula"), ("cr.cr", "DIMEX"), ("cr.cpj", "Cédula jurídica")),
    "AR": (("ar.cuit", "CUIT"),),
    "BR": (("br.cpf", "CPF"),),
    "CL": (("cl.rut", "RUT"),),
    "CO": (("co.nit", "NIT"),),
    "DO": (("do.rnc", "RNC"), ("do.cedula", "Cédula")),
    "UY": (("uy.rut", "RUT"),),
    "MX": (("mx.rfc", "RFC"),),
    "PE": (("pe.ruc", "RUC"),),
    "EC": (("ec.ruc", "RUC"), ("ec.ci", "Cédula")),
}
# Where python-stdnum has no module, the form the tax office writes: the Philippines' TIN is
# 9 digits and a branch code of 3 to 5 (its check digit is not published).
TAX_PATTERNS: dict[str, tuple[str, str]] = {"PH": (r"[0-9]{9}(?:[0-9]{3,5})?", "TIN")}


def normalise_tax_number(country: str, number: str | None) -> str | None:
    """A person's tax number checked for the country and returned compact, or None when
    empty; raises `DomainError` on the `tax_number` field with the reason."""
    number = " ".join((number or "").split())
    if not number:
        return None
    country = (country or "").upper()
    modules = TAX_MODULES.get(country)
    if modules:
        first_error: stdnum_errors.ValidationError | None = None
        for module, _label in modules:
            try:
                return _stdnum_validate(module, number)
            except stdnum_errors.ValidationError as error:
                first_error = first_error or error
        reason = next((m for cls, m in _MESSAGES.items() if isinstance(first_error, cls)),
                      _l("it is not a valid number"))
        raise DomainError(str(_l("%(label)s “%(number)s”: %(reason)s.",
                                 label=" / ".join(label for _m, label in modules),
                                 number=number, reason=reason)), field="tax_number")
    compact = re.sub(r"[\s.\-/]", "", number).upper()
    pattern = TAX_PATTERNS.get(country)
    if pattern is not None:
        if not re.fullmatch(pattern[0], compact):
            raise DomainError(str(_l("%(label)s “%(number)s”: %(reason)s.", label=pattern[1],
                                     number=number,
                                     reason=_l("it has the wrong number of digits"))),
                              field="tax_number")
        return compact
    if not re.fullmatch(r"[0-9A-Z]{3,30}", compact):
        raise DomainError(str(_l("A tax number has 3 to 30 letters or digits.")),
                          field="tax_number")
    return compact


def country_names() -> dict[str, str]:
    """ISO 3166 alpha-2 codes and the countries' names in the reader's language (for the
    nationality), sorted by name."""
    from flask_babel import get_locale

    locale = get_locale()
    return _country_names(str(locale) if locale is not None else "en")


@lru_cache(maxsize=16)
def _country_names(locale_name: str) -> dict[str, str]:
    from babel import Locale

    names = Locale.parse(locale_name).territories or Locale("en").territories
    found = {code: name for code, name in names.items()
             if len(code) == 2 and code.isascii() and code.isalpha() and code != "ZZ"}
    return dict(sorted(found.items(), key=lambda item: item[1]))


def country_code(text: str | None) -> str | None:
    """The ISO code a person means by a country's code or name (in the reader's language or
    English, accents and case aside); None when empty, "" when no country is meant."""
    if not text:
        return None
    from coopreg.core.text import fold

    code = text.strip().upper()
    names = country_names()
    if code in names:
        return code
    wanted = fold(text)
    for table in (names, _country_names("en")):
        for found, name in table.items():
            if fold(name) == wanted:
                return found
    return ""
