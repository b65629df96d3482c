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
