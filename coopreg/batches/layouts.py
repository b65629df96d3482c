"""What a layout column can hold (`SOURCES`), the built-in starting layouts, and turning one
line's data into the texts a file holds (`compile_layout` → `render`).

A line's `values` are the logical cell values, as text: for xlsx a date is ISO (`2025-01-31`)
and an amount a plain decimal (`1234.50`), so the writer makes real dates and numbers; for CSV
and fixed width, dates and amounts are already written as the layout says (pattern, decimal
mark, implied decimals). Padding, alignment and formula neutralising are the writers' job.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from coopreg.batches.models import BatchKind, ColumnType, FileFormat
from coopreg.core.errors import DomainError
from coopreg.core.labels import codes_for, labels_for
from coopreg.core.phones import DIGITS, E164, NATIONAL, phone_as
from coopreg.core.spreadsheets import PLAIN_PHONE, protect_formula_text
from coopreg.core.text import ascii_digits
from coopreg.members.national_ids import format_id, id_type_label, normalise_id

T, N, D, A = ColumnType.TEXT, ColumnType.NUMBER, ColumnType.DATE, ColumnType.AMOUNT
# the types' texts, read once: an enum member's `.value` is slow in a loop of 100,000 lines
_DATE, _AMOUNT, _NUMBER = D.value, A.value, N.value


@dataclass(frozen=True)
class Source:
    label: Any
    col_type: ColumnType
    getter: Callable[[LineData], Any]
    kinds: tuple[BatchKind, ...] = tuple(BatchKind)
    is_id: bool = False  # a national ID: checked, written compact or formatted


@dataclass
class LineData:
    """What one line is made from. `contribution` holds Decimal shares (remittance)."""

    member: Any = None
    registration: Any = None
    agreement: Any = None
    batch: Any = None  # a BatchInfo
    contribution: dict = field(default_factory=dict)
    # a line per dependant: the dependant this line is for (its member is the carrier);
    # dependants' columns on the member's line: the dependants sent with the member
    dependant: Any = None
    dependants: list = field(default_factory=list)


@dataclass(frozen=True)
class BatchInfo:
    reference: str
    period: date | None
    country: str
    currency: str


def _m(attr: str) -> Callable[[LineData], Any]:
    return lambda line: getattr(line.member, attr, None) if line.member is not None else None


def _r(attr: str) -> Callable[[LineData], Any]:
    return (lambda line: getattr(line.registration, attr, None)
            if line.registration is not None else None)


def _enum_value(getter):
    def get(line):
        value = getter(line)
        return getattr(value, "value", value)
    return get


def _income(line: LineData):
    minor = getattr(line.member, "declared_income_minor", None)
    if minor is None:
        return None
    from coopreg.core.money import from_minor
    currency = line.batch.currency if line.batch else line.agreement.cooperative.currency
    return from_minor(minor, currency)


def _phone(form: str) -> Callable[[LineData], Any]:
    def get(line: LineData):
        if line.member is None or not line.member.phone:
            return None
        country = line.batch.country if line.batch else None
        return phone_as(line.member.phone, form, country) or None
    return get


def _ccss_id(line: LineData):
    """The CCSS's form of the number: a cédula in 9 digits (province, tomo, asiento:
    python-stdnum keeps it in 10, with a leading zero), a DIMEX as it is."""
    member = line.member
    if member is None or not member.id_number:
        return None
    if member.id_type == "cr_cedula" and len(member.id_number) == 10:
        return member.id_number[1:]
    return member.id_number


def _id_type_label(line: LineData):
    member = line.member
    if member is None or not member.id_type:
        return None
    country = line.batch.country if line.batch else ""
    return id_type_label(country, member.id_type)


def _without_number(getter):
    """A value the form asks for only when the person has no institution number yet
    (RF-1: date of birth and sex)."""
    def get(line: LineData):
        if line.registration is not None and line.registration.institution_member_number:
            return None
        return getter(line)
    return get


def _in_period(day: date | None, line: LineData) -> bool:
    period = line.contribution.get("period") or (line.batch.period if line.batch else None)
    return bool(day and period and (day.year, day.month) == (period.year, period.month))


def _period_status(line: LineData):
    """RF-1's status of a line in its month: NH newly hired (coverage began in it), S
    separated (left in it), else empty."""
    registration, member = line.registration, line.member
    if registration is None:
        return None
    left = registration.exit_flagged_on or getattr(member, "left_on", None)
    if _in_period(left, line):
        return "S"
    if _in_period(registration.coverage_start, line):
        return "NH"
    return None


def _period_status_date(line: LineData):
    status = _period_status(line)
    if status == "S":
        return line.registration.exit_flagged_on or line.member.left_on
    if status == "NH":
        return line.registration.coverage_start
    return None


REM = (BatchKind.REMITTANCE,)
SOURCES: dict[str, Source] = {
    "member.member_number": Source(_l("Member number"), T, _m("member_number")),
    "member.last_name": Source(_l("Last name"), T, _m("last_name")),
    "member.second_last_name": Source(_l("Second last name"), T, _m("second_last_name")),
    "member.first_name": Source(_l("First name"), T, _m("first_name")),
    "member.middle_name": Source(_l("Middle name"), T, _m("middle_name")),
    "member.full_name": Source(_l("Full name"), T, _m("full_name")),
    "member.sex": Source(_l("Sex (female/male/other)"), T, _enum_value(_m("sex"))),
    "member.sex_initial": Source(_l("Sex (F/M/O)"), T,
                                 lambda line: (getattr(line.member.sex, "value", "") or "")[:1]
                                 .upper() if line.member is not None else None),
    "member.date_of_birth": Source(_l("Date of birth"), D, _m("date_of_birth")),
    "member.id_number": Source(_l("National ID"), T, _m("id_number"), is_id=True),
    "member.name_extension": Source(_l("Name extension"), T, _m("name_extension")),
    "member.mothers_maiden_name": Source(_l("Mother's maiden name"), T,
                                         _m("mothers_maiden_name")),
    "member.civil_status": Source(_l("Civil status"), T, _enum_value(_m("civil_status"))),
    "member.nationality": Source(_l("Nationality (country code)"), T, _m("nationality")),
    "member.id_type": Source(_l("ID type"), T, _id_type_label),
    "member.id_number_ccss": Source(_l("Cédula in the CCSS's 9-digit form (DIMEX as is)"), T,
                                    _ccss_id),
    "member.tax_number": Source(_l("Tax number"), T, _m("tax_number")),
    "member.date_of_birth_without_number": Source(
        _l("Date of birth, only without an institution number"), D,
        _without_number(_m("date_of_birth"))),
    "member.sex_initial_without_number": Source(
        _l("Sex (F/M/O), only without an institution number"), T,
        _without_number(lambda line: (getattr(line.member.sex, "value", "") or "")[:1]
                        .upper() if line.member is not None else None)),
    "member.phone": Source(_l("Phone (national form)"), T, _phone(NATIONAL)),
    "member.phone_e164": Source(_l("Phone (international, E.164)"), T, _phone(E164)),
    "member.phone_digits": Source(_l("Phone (digits only)"), T, _phone(DIGITS)),
    "member.email": Source(_l("Email"), T, _m("email")),
    "member.address": Source(_l("Address"), T, _m("address")),
    "member.province_code": Source(_l("Province code"), T, _m("province_code")),
    "member.canton_code": Source(_l("Canton code"), T, _m("canton_code")),
    "member.district_code": Source(_l("District code"), T, _m("district_code")),
    "member.locality": Source(_l("Locality"), T, _m("locality")),
    "member.occupation": Source(_l("Occupation"), T, _m("occupation")),
    "member.joined_on": Source(_l("Joined the cooperative on"), D, _m("joined_on")),
    "member.declared_income": Source(_l("Declared income"), A, _income),
    "registration.institution_member_number": Source(
        _l("Institution's member number"), T, _r("institution_member_number")),
    "registration.coverage_start": Source(_l("Coverage start"), D, _r("coverage_start")),
    "registration.exit_date": Source(_l("Exit date"), D, _r("exit_flagged_on")),
    "registration.exit_reason": Source(_l("Exit reason"), T, _r("exit_flag_reason")),
    "registration.period_status": Source(_l("Status in the month (NH new, S separated)"), T,
                                         _period_status),
    "registration.period_status_date": Source(_l("Date of the status in the month"), D,
                                              _period_status_date),
    # the registration's category (Monotributo social; agreement terms by category come
    # with the payers and categories of the terms): empty until a registration has one
    "registration.category": Source(_l("Category"), T, _r("category")),
    "agreement.reference": Source(_l("Agreement reference"), T,
                                  lambda line: getattr(line.agreement, "reference", None)),
    "batch.reference": Source(_l("Batch reference"), T,
                              lambda line: line.batch.reference if line.batch else None),
    "batch.period": Source(_l("Period (remittance month)"), D,
                           lambda line: line.contribution.get("period")
                           or (line.batch.period if line.batch else None)),
    "contribution.member_share": Source(_l("Member share"), A,
                                        lambda line: line.contribution.get("member_share"), REM),
    "contribution.cooperative_share": Source(
        _l("Cooperative share"), A, lambda line: line.contribution.get("cooperative_share"),
        REM),
    "contribution.total": Source(_l("Contribution total"), A,
                                 lambda line: line.contribution.get("total"), REM),
    "fixed": Source(_l("A fixed value"), T, lambda line: None),
}
ENR = (BatchKind.ENROLMENT,)
# How many dependants a member's line can carry in columns (`dependants.N.*`).
DEPENDANT_COLUMNS = 4
DEPENDANTS_MODES = codes_for("dependants_mode", {"none": _l("Not in the file"),
                    "lines": _l("A line per dependant, after the member's line"),
                    "columns": _l("Columns on the member's line")})


def _dependant(attr: str, index: int | None = None) -> Callable[[LineData], Any]:
    def get(line: LineData):
        if index is None:
            person = line.dependant
        else:
            person = line.dependants[index] if index < len(line.dependants) else None
        value = getattr(person, attr, None) if person is not None else None
        return getattr(value, "value", value)
    return get


_DEPENDANT_FIELDS = (("name", _l("Dependant's name"), T),
                     ("relation", _l("Dependant's relationship"), T),
                     ("date_of_birth", _l("Dependant's date of birth"), D),
                     ("id_number", _l("Dependant's ID"), T))
SOURCES["line.kind"] = Source(_l("Member or dependant (M/D)"), T,
                              lambda line: "D" if line.dependant is not None else "M", ENR)
for _key, _label_text, _type in _DEPENDANT_FIELDS:
    SOURCES[f"dependant.{_key}"] = Source(_label_text, _type, _dependant(_key), ENR)
# all the dependants sent with the member, however many (Monotributo social's adherentes)
SOURCES["dependants.count"] = Source(_l("Number of dependants sent with the member"), N,
                                     lambda line: len(line.dependants), ENR)
SOURCES["dependants.all"] = Source(
    _l("Dependants sent with the member (names and IDs)"), T,
    lambda line: "; ".join(f"{d.name} ({d.id_number})" if d.id_number else d.name
                           for d in line.dependants) or None, ENR)
for _n in range(DEPENDANT_COLUMNS):
    for _key, _label_text, _type in _DEPENDANT_FIELDS:
        SOURCES[f"dependants.{_n + 1}.{_key}"] = Source(
            _l("%(field)s (dependant %(n)d)", field=_label_text, n=_n + 1), _type,
            _dependant(_key, _n), ENR)
# The member's fields an update batch watches for changes (what the institution holds about
# the person; the registration's own numbers and dates come from the institution). Values
# worked out from others (the phone's other forms, the CCSS's form of the cédula, what the
# RF-1 asks only without a number) and the dependants (a batch of their own) are left out.
_DERIVED = ("member.id_type",
            "member.id_number_ccss", "member.date_of_birth_without_number",
            "member.sex_initial_without_number", "member.phone_e164", "member.phone_digits")
WATCHED = tuple(k for k in SOURCES if k.startswith("member.") and k not in _DERIVED)
_WATCHED_GETTERS = tuple((k, SOURCES[k].getter) for k in WATCHED)

# plain codes kept in a column: declared under the column's name, so the audit log says them
TRANSFORMS = codes_for("transform", {"none": _l("As recorded"), "upper": _l("UPPER CASE"),
                                     "ascii_upper": _l("UPPER CASE without accents")})
ENCODINGS = codes_for("encoding", {"utf-8-sig": _l("UTF-8 with BOM (Excel)"),
                                   "utf-8": _l("UTF-8 without BOM"),
                                   "cp1252": _l("Windows-1252")})
ALIGNMENTS = codes_for("align", {"left": _l("Aligned left"), "right": _l("Aligned right")})
COLUMN_TYPE_LABELS = labels_for(ColumnType, {
    ColumnType.TEXT: _l("Text"), ColumnType.NUMBER: _l("Number"), ColumnType.DATE: _l("Date"),
    ColumnType.AMOUNT: _l("Amount")})
KIND_LABELS = labels_for(BatchKind, {
    BatchKind.ENROLMENT: _l("Enrolment"), BatchKind.UPDATE: _l("Update"),
    BatchKind.EXIT: _l("Exit"), BatchKind.REMITTANCE: _l("Remittance")})
FORMAT_LABELS = labels_for(FileFormat, {
    FileFormat.XLSX: _l("Excel (.xlsx)"), FileFormat.CSV: _l("CSV text (.csv)"),
    FileFormat.FIXED: _l("Fixed-width text (.txt)")})
EXTENSIONS = {FileFormat.XLSX: "xlsx", FileFormat.CSV: "csv", FileFormat.FIXED: "txt"}


# ---- built-in starting layouts -------------------------------------------------------------

def _col(header, source, col_type=None, **kw) -> dict:
    if source == "registration.institution_member_number":
        kw.setdefault("id_format", "formatted")  # as the institution wrote it
    return {"header": header, "source": source,
            "col_type": (col_type or SOURCES[source].col_type).value, **kw}


_DMY = "%d/%m/%Y"
_ISO = "%Y-%m-%d"


def _institution_number() -> dict:
    return _col(_l("Institution number"), "registration.institution_member_number",
                required=True)


def _registered_member() -> list[dict]:
    """Who a registered member is, for the institution: its number, the ID and the names."""
    return [_institution_number(),
            _col(_l("National ID"), "member.id_number", required=True),
            _col(_l("Last name"), "member.last_name", required=True),
            _col(_l("First name"), "member.first_name", required=True)]


def _person_columns(*, sex_and_birth_required: bool) -> list[dict]:
    """Who the member is, as enrolment and update files give it (an update may leave sex and
    date of birth out)."""
    return [
        _col(_l("National ID"), "member.id_number", required=True),
        _col(_l("Last name"), "member.last_name", required=True),
        _col(_l("Second last name"), "member.second_last_name"),
        _col(_l("First name"), "member.first_name", required=True),
        _col(_l("Middle name"), "member.middle_name"),
        _col(_l("Sex"), "member.sex_initial", required=sex_and_birth_required),
        _col(_l("Date of birth"), "member.date_of_birth", date_pattern=_DMY,
             required=sex_and_birth_required),
        _col(_l("Phone"), "member.phone"),
        _col(_l("Address"), "member.address"),
        _col(_l("Locality"), "member.locality"),
    ]

BUILT_INS: dict[str, dict] = {
    "generic_enrolment": {
        "name": _l("Generic enrolment"), "kind": BatchKind.ENROLMENT, "format": FileFormat.XLSX,
        "columns": [
            _col(_l("Member number"), "member.member_number", required=True),
            *_person_columns(sex_and_birth_required=True),
        ]},
    "generic_update": {
        "name": _l("Generic update"), "kind": BatchKind.UPDATE, "format": FileFormat.XLSX,
        "columns": [
            _institution_number(),
            *_person_columns(sex_and_birth_required=False),
        ]},
    "generic_exit": {
        "name": _l("Generic exit"), "kind": BatchKind.EXIT, "format": FileFormat.XLSX,
        "columns": [
            *_registered_member(),
            _col(_l("Exit date"), "registration.exit_date", date_pattern=_DMY, required=True),
            _col(_l("Reason"), "registration.exit_reason"),
        ]},
    "generic_remittance": {
        "name": _l("Generic remittance"), "kind": BatchKind.REMITTANCE, "format": FileFormat.XLSX,
        "columns": [
            *_registered_member(),
            _col(_l("Period"), "batch.period", date_pattern="%Y-%m", required=True),
            _col(_l("Member share"), "contribution.member_share", required=True),
            _col(_l("Cooperative share"), "contribution.cooperative_share", required=True),
            _col(_l("Total"), "contribution.total", required=True),
        ]},
    "philhealth_rf1": {
        "name": "PhilHealth RF-1 – Employer's Remittance Report",
        "note": "After PhilHealth's RF-1 (Employer's Remittance Report, revised 2014): its "
                "header, its member lines and its footer, with the form's own titles. A "
                "starting point, not PhilHealth's official upload format (EPRS).",
        "kind": BatchKind.REMITTANCE, "format": FileFormat.XLSX,
        "header_line": "PhilHealth Employer Number (PEN)|{agreement};"
                       "Employer TIN|{employer_tin};Employer Name|{employer_name};"
                       "Employer Address|{employer_address};Employer Type|Private;"
                       "Report Type (R regular, A addition, D deduction)|{report_type};"
                       "Applicable Period (MMYYYY)|{period:%m%Y}",
        "footer_line": "Number of Members|{count};Total Personal Share|{member_share:.2f};"
                       "Total Employer Share|{cooperative_share:.2f};"
                       "Total Amount Remitted|{total:.2f};"
                       "Receipt / Payment Reference No.|{payment_reference};"
                       "Transaction Date|{payment_date:%m/%d/%Y}",
        "columns": [
            _col("PhilHealth Identification Number (PIN)",
                 "registration.institution_member_number", id_format="formatted"),
            _col("Last Name", "member.last_name", transform="upper", required=True),
            _col("First Name", "member.first_name", transform="upper", required=True),
            _col("Name Extension", "member.name_extension", transform="upper"),
            _col("Middle Name", "member.middle_name", transform="upper"),
            _col("Date of Birth (if no PIN)", "member.date_of_birth_without_number",
                 date_pattern="%m/%d/%Y"),
            _col("Sex (if no PIN)", "member.sex_initial_without_number"),
            _col("Monthly Salary Bracket (MSB)", "member.declared_income"),
            _col("Personal Share (PS)", "contribution.member_share", required=True),
            _col("Employer Share (ES)", "contribution.cooperative_share", required=True),
            _col("Status (NH, S, NE)", "registration.period_status"),
            _col("Effectivity Date", "registration.period_status_date",
                 date_pattern="%m/%d/%Y"),
        ]},
    "philhealth_pmrf": {
        "name": "PhilHealth PMRF – Member Registration (group enrolment)",
        "note": "After the fields of PhilHealth's PhilHealth Member Registration Form (PMRF, "
                "revised 2020) that a group enrolling members fills: personal details, "
                "address, contact, the self-earning member's profession and income, and the "
                "declared dependents. A starting point, not PhilHealth's official format.",
        "kind": BatchKind.ENROLMENT, "format": FileFormat.XLSX, "dependants_mode": "columns",
        "columns": [
            _col("PhilHealth Identification Number (PIN)",
                 "registration.institution_member_number", id_format="formatted"),
            _col("Last Name", "member.last_name", transform="upper", required=True),
            _col("First Name", "member.first_name", transform="upper", required=True),
            _col("Name Extension", "member.name_extension", transform="upper"),
            _col("Middle Name", "member.middle_name", transform="upper"),
            _col("Mother's Maiden Name", "member.mothers_maiden_name", transform="upper"),
            _col("Date of Birth", "member.date_of_birth", date_pattern="%m/%d/%Y",
                 required=True),
            _col("Sex", "member.sex_initial", required=True),
            _col("Civil Status", "member.civil_status", transform="upper"),
            _col("Citizenship", "member.nationality"),
            _col("PhilSys Number (PSN)", "member.id_number"),
            _col("TIN", "member.tax_number"),
            _col("Permanent Address", "member.address"),
            _col("Mobile Number", "member.phone_digits"),
            _col("Email Address", "member.email"),
            _col("Profession", "member.occupation"),
            _col("Monthly Income", "member.declared_income"),
            # the form's declaration of dependents (four rows), sent with the member
            *(_col(f"Dependent {n} {title}", f"dependants.{n}.{key}", **kw)
              for n in range(1, DEPENDANT_COLUMNS + 1)
              for title, key, kw in (("Full Name", "name", {"transform": "upper"}),
                                     ("Relationship", "relation", {"transform": "upper"}),
                                     ("Date of Birth", "date_of_birth",
                                      {"date_pattern": "%m/%d/%Y"}))),
        ]},
    "ccss_collective_agreement": {
        "name": "CCSS – Planilla del convenio de aseguramiento colectivo",
        "note": "Después de la lista de asegurados que la CCSS pide a las organizaciones con "
                "convenio de aseguramiento colectivo (formularios de afiliación de 2024): "
                "cédula en 9 dígitos o DIMEX, nombres, sexo, nacimiento, nacionalidad, "
                "provincia, cantón y distrito por código, ocupación, ingreso de referencia y "
                "las cuotas. Un punto de partida, no el formato oficial de la CCSS.",
        "kind": BatchKind.REMITTANCE, "format": FileFormat.XLSX,
        "columns": [
            _col("Tipo de identificación", "member.id_type", required=True),
            _col("Número de identificación", "member.id_number_ccss", required=True),
            _col("Primer apellido", "member.last_name", transform="upper", required=True),
            _col("Segundo apellido", "member.second_last_name", transform="upper"),
            _col("Nombre", "member.first_name", transform="upper", required=True),
            _col("Sexo", "member.sex_initial", required=True),
            _col("Fecha de nacimiento", "member.date_of_birth", date_pattern=_DMY,
                 required=True),
            _col("Nacionalidad", "member.nationality"),
            _col("Provincia", "member.province_code"),
            _col("Cantón", "member.canton_code"),
            _col("Distrito", "member.district_code"),
            _col("Ocupación", "member.occupation"),
            _col("Ingreso de referencia", "member.declared_income", required=True),
            _col("Cuota del asegurado", "contribution.member_share", required=True),
            _col("Cuota de la organización", "contribution.cooperative_share",
                 required=True),
            _col("Total", "contribution.total", required=True),
        ]},
    "monotributo_social": {
        "name": "Monotributo social – Alta de efectores",
        "note": "Después de los datos que pide la inscripción al Monotributo social (Registro "
                "Nacional de Efectores de Desarrollo Local y Economía Social, formulario de "
                "2024): CUIL, nombres, categoría, obra social elegida, adherentes y los datos "
                "de inscripción del efector. Un punto de partida, no el formato oficial.",
        "kind": BatchKind.ENROLMENT, "format": FileFormat.XLSX, "dependants_mode": "columns",
        "columns": [
            _col("CUIL/CUIT", "member.id_number", required=True),
            _col("Apellido", "member.last_name", transform="upper", required=True),
            _col("Segundo apellido", "member.second_last_name", transform="upper"),
            _col("Nombres", "member.first_name", transform="upper", required=True),
            _col("Sexo", "member.sex_initial", required=True),
            _col("Fecha de nacimiento", "member.date_of_birth", date_pattern=_DMY,
                 required=True),
            _col("Nacionalidad", "member.nationality"),
            _col("Domicilio", "member.address"),
            _col("Localidad", "member.locality"),
            _col("Teléfono", "member.phone_digits"),
            _col("Correo electrónico", "member.email"),
            _col("Actividad", "member.occupation"),
            _col("Categoría", "registration.category"),
            _col("Código de obra social", "fixed", col_type=T, fixed_value="—"),
            _col("Cantidad de adherentes", "dependants.count"),
            _col("Adherentes (nombre y CUIL)", "dependants.all"),
            _col("N.º de inscripción del efector", "registration.institution_member_number"),
            _col("Fecha de inscripción", "member.joined_on", date_pattern=_DMY),
        ]},
    "sss_r1a_enrolment": {
        "name": "SSS R-1A – Employment Report",
        "note": "After the Philippine Social Security System's R-1A Employment Report (2013 "
                "revision): SS number, surname, given and middle names, date of birth, date "
                "of employment, monthly earnings and position. A starting point, not the "
                "SSS's official format.",
        "kind": BatchKind.ENROLMENT, "format": FileFormat.XLSX,
        "columns": [
            _col("SS Number", "registration.institution_member_number"),
            _col("Surname", "member.last_name", transform="upper", required=True),
            _col("Given Name", "member.first_name", transform="upper", required=True),
            _col("Name Extension", "member.name_extension", transform="upper"),
            _col("Middle Name", "member.middle_name", transform="upper"),
            _col("Date of Birth", "member.date_of_birth", date_pattern="%m/%d/%Y",
                 required=True),
            _col("Sex", "member.sex_initial", required=True),
            _col("National ID", "member.id_number", required=True),
            _col("Date of Employment", "member.joined_on", date_pattern="%m/%d/%Y"),
            _col("Monthly Earnings", "member.declared_income"),
            _col("Position", "member.occupation"),
        ]},
    "fixed_width_remittance": {
        # fixed-length collection lists (header, detail and summary records) as several
        # institutions take them: a starting point, widths to adjust to the institution's
        "name": _l("Fixed-width remittance list (starting point)"),
        "kind": BatchKind.REMITTANCE, "format": FileFormat.FIXED, "encoding": "cp1252",
        "include_header": False,
        "header_line": "H{agreement:<20}{period:%Y%m}{date:%Y%m%d}",
        "footer_line": "T{count:06d}{total_minor:015d}",
        "columns": [
            _col(_l("Record"), "fixed", fixed_value="D", width=1),
            _col(_l("Institution number"), "registration.institution_member_number",
                 width=15, required=True),
            _col(_l("Last name"), "member.last_name", transform="ascii_upper", width=20,
                 required=True),
            _col(_l("First name"), "member.first_name", transform="ascii_upper", width=20,
                 required=True),
            _col(_l("Middle name"), "member.middle_name", transform="ascii_upper", width=20),
            _col(_l("Period"), "batch.period", col_type=T, date_pattern="%Y%m", width=6,
                 required=True),
            _col(_l("Member share"), "contribution.member_share", width=10, align="right",
                 pad="0", implied_decimals=True, required=True),
            _col(_l("Cooperative share"), "contribution.cooperative_share", width=10,
                 align="right", pad="0", implied_decimals=True, required=True),
        ]},
    "fixed_width_enrolment": {
        "name": _l("Fixed-width enrolment (starting point)"), "kind": BatchKind.ENROLMENT,
        "format": FileFormat.FIXED, "encoding": "cp1252", "include_header": False,
        "columns": [
            _col(_l("National ID"), "member.id_number", width=12, required=True),
            _col(_l("Last name"), "member.last_name", transform="ascii_upper", width=25,
                 required=True),
            _col(_l("Second last name"), "member.second_last_name", transform="ascii_upper",
                 width=25),
            _col(_l("First name"), "member.first_name", transform="ascii_upper", width=25,
                 required=True),
            _col(_l("Date of birth"), "member.date_of_birth", date_pattern="%Y%m%d", width=8,
                 required=True),
            _col(_l("Sex"), "member.sex_initial", width=1, required=True),
        ]},
}
# built-in layouts renamed for what they are (layouts made from them keep the old origin)
RENAMED = {"employer_remittance_report": "philhealth_rf1",
           "employment_report_enrolment": "sss_r1a_enrolment"}
GENERIC = {BatchKind.ENROLMENT: "generic_enrolment", BatchKind.UPDATE: "generic_update",
           BatchKind.EXIT: "generic_exit", BatchKind.REMITTANCE: "generic_remittance"}


# ---- layout snapshots -------------------------------------------------------------------------

COLUMN_FIELDS = ("position", "header", "source", "fixed_value", "col_type", "date_pattern",
                 "id_format", "decimals", "implied_decimals", "transform", "width", "align",
                 "pad", "required")
LAYOUT_FIELDS = ("name", "kind", "format", "encoding", "delimiter", "decimal_mark",
                 "include_header", "header_line", "footer_line", "built_in_origin",
                 "dependants_mode")


def snapshot(layout) -> dict:
    """The layout as plain data (kept on a batch: its file is written from it)."""
    data = {key: getattr(getattr(layout, key), "value", getattr(layout, key))
            for key in LAYOUT_FIELDS}
    data["columns"] = [{key: getattr(getattr(c, key), "value", getattr(c, key))
                        for key in COLUMN_FIELDS} for c in layout.columns]
    return data


# ---- rendering --------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def fold_ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# what a number, amount or date column may hold and still start with + or -
_PLAIN_FIGURE = re.compile(r"[+-]?[0-9][0-9 .,/:-]*")


def neutralised(text: str) -> str:
    """Text that no spreadsheet opening the file will run as a formula (a leading `'`
    before = + - @, tab or CR, as in CSV), never in front of a plain E.164 phone number."""
    return protect_formula_text(text)


def fixed_record(text: str) -> str:
    """A whole record written by the layout (the header and footer records, the line of
    column titles), neutralised like a text cell; a tab (which a spreadsheet takes for a
    new cell) or a line break raises ValueError."""
    if any(c in text for c in "\t\r\n"):
        raise ValueError(_("A tab or a line break cannot be written in a fixed-width "
                           "record."))
    return neutralised(text)


def fixed_cell(text: str, column: dict) -> str:
    """A value laid into its fixed width: neutralised like CSV text when it is text (a
    leading `'` before = + - @), and in any other column unless it is a plain figure
    ("-12.50", "17/05/1980"); padded and aligned. Raises ValueError when it does not fit
    or holds a tab or line break (either would break the record)."""
    if any(c in text for c in "\t\r\n"):
        raise ValueError(_("A tab or a line break cannot be written in a fixed-width "
                           "record."))
    if text.startswith(_FORMULA_START) and not PLAIN_PHONE.fullmatch(text) and (
            column["col_type"] == T.value or not _PLAIN_FIGURE.fullmatch(text)):
        text = "'" + text
    width = column.get("width") or 0
    if len(text) > width:
        raise ValueError(_("“%(text)s” does not fit in %(width)d characters.", text=text,
                           width=width))
    pad = column.get("pad") or " "
    return text.rjust(width, pad) if column.get("align") == "right" else text.ljust(width, pad)


@dataclass
class CompiledColumn:
    spec: dict
    source: Source
    label: str


def _nobody_there(source: str, line: LineData) -> bool:
    """A dependant's column on a line without that dependant (a member's own line, or fewer
    dependants than columns): "required" asks nothing of it."""
    if source.startswith("dependant."):
        return line.dependant is None
    if source.startswith("dependants.") and ascii_digits(source.split(".")[1]):
        return int(source.split(".")[1]) > len(line.dependants)
    return False


def _date_text(value: date, pattern: str | None) -> str:
    return value.strftime(pattern or _ISO)


def _amount(value: Any, decimals: int) -> Decimal:
    if isinstance(value, float):
        raise TypeError("money is never a float")
    quantum = Decimal(1).scaleb(-decimals)
    return Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP)


class CompiledLayout:
    """A layout snapshot ready to render many lines quickly (sources looked up once)."""

    def __init__(self, data: dict, *, country: str, id_pattern: str | None = None,
                 id_label: str | None = None):
        self.data = data
        self.format = FileFormat(data["format"])
        self.encoding = data.get("encoding") or "utf-8-sig"
        self.country = country
        self.id_pattern = id_pattern
        self.id_label = id_label
        self.columns = []
        for spec in data["columns"]:
            source = SOURCES.get(spec["source"])
            if source is None:
                raise DomainError(_("The layout uses an unknown source %(source)s.",
                                    source=spec["source"]))
            self.columns.append(CompiledColumn(spec, source, spec["header"]))

    @property
    def headers(self) -> list[str]:
        return [c.spec["header"] for c in self.columns]

    def _one(self, column: CompiledColumn, line: LineData) -> tuple[str | None, str | None]:
        spec, source = column.spec, column.source
        col_type = spec["col_type"]
        raw = spec.get("fixed_value") if spec["source"] == "fixed" else source.getter(line)
        if raw is None or raw == "":
            if spec.get("required") and not _nobody_there(spec["source"], line):
                return None, _("“%(header)s” is empty.", header=spec["header"])
            return None, None
        if source.is_id or spec["source"] == "registration.institution_member_number":
            raw = str(raw)
            if source.is_id:
                member = line.member
                try:
                    raw = normalise_id(self.country, member.id_type or "local", raw,
                                       pattern=self.id_pattern, local_label=self.id_label)
                except DomainError as error:
                    return raw, _("“%(header)s”: %(reason)s", header=spec["header"],
                                  reason=error.message)
                if spec.get("id_format") == "formatted":
                    raw = format_id(self.country, member.id_type, raw)
            elif spec.get("id_format") == "compact":
                raw = re.sub(r"[\s.\-/]", "", raw)
        xlsx = self.format == FileFormat.XLSX
        if col_type == _DATE:
            if not isinstance(raw, date):
                return str(raw), _("“%(header)s” is not a date.", header=spec["header"])
            return (raw.isoformat() if xlsx else _date_text(raw, spec.get("date_pattern"))), None
        if col_type in (_AMOUNT, _NUMBER):
            if isinstance(raw, str):
                try:
                    raw = Decimal(raw)
                except ArithmeticError:
                    return raw, _("“%(header)s” is not a number.", header=spec["header"])
            if col_type == _NUMBER and isinstance(raw, int):
                return str(raw), None
            amount = _amount(raw, int(spec.get("decimals") or 0))
            if amount < 0:
                return str(amount), _("“%(header)s” is negative.", header=spec["header"])
            if xlsx:
                return str(amount), None
            if spec.get("implied_decimals"):
                return str(amount.scaleb(int(spec.get("decimals") or 0)).to_integral_value()
                           ), None
            text = str(amount)
            mark = self.data.get("decimal_mark") or "."
            return (text.replace(".", mark) if mark != "." else text), None
        # text
        if isinstance(raw, date) and spec.get("date_pattern"):
            text = raw.strftime(spec["date_pattern"])
        else:
            text = raw if isinstance(raw, str) else str(getattr(raw, "value", raw))
        transform = spec.get("transform") or "none"
        if transform == "upper":
            text = text.upper()
        elif transform == "ascii_upper":
            text = fold_ascii(text).upper()
        return text, None

    def render(self, line: LineData) -> tuple[list[str | None], list[str]]:
        """The line's values and its problems (empty when the line can be written)."""
        values: list[str | None] = []
        problems: list[str] = []
        fixed = self.format == FileFormat.FIXED
        for column in self.columns:
            value, problem = self._one(column, line)
            if problem:
                problems.append(problem)
            values.append(value)
            if value is None:
                continue
            if fixed:
                try:
                    fixed_cell(value, column.spec)
                except ValueError:
                    problems.append(_("“%(header)s” (%(value)s) does not fit in %(width)d "
                                      "characters or holds a tab or line break.",
                                      header=column.spec["header"], value=value,
                                      width=column.spec.get("width") or 0))
            if self.encoding == "cp1252" and self.format != FileFormat.XLSX:
                try:
                    value.encode("cp1252")
                except UnicodeEncodeError:
                    problems.append(_("“%(header)s” (%(value)s) has characters Windows-1252 "
                                      "cannot write.", header=column.spec["header"],
                                      value=value))
        return values, problems


def source_values(line: LineData) -> dict:
    """The watched fields of a member, as text (update batches compare them)."""
    out = {}
    for key, getter in _WATCHED_GETTERS:
        value = getter(line)
        value = getattr(value, "value", value)
        out[key] = None if value is None else (value.isoformat() if isinstance(value, date)
                                               else str(value))
    return out


# ---- header and footer records of fixed-width files ----------------------------------------

_PLACEHOLDER = re.compile(r"\{(\w+)(?::([^{}]*))?\}")
PLACEHOLDERS = ("reference", "agreement", "period", "date", "count", "total_minor",
                "member_share_minor", "cooperative_share_minor", "checksum", "total",
                "member_share", "cooperative_share", "employer_name", "employer_tin",
                "employer_address", "report_type", "payment_reference", "payment_date")


def fill_template(template: str, values: dict) -> str:
    """Replace `{name}` or `{name:spec}` (Python format spec, or a strftime pattern for
    dates) with the batch's values; only the names of `PLACEHOLDERS` are known, and no
    attribute or item access is possible."""
    def replace(match: re.Match) -> str:
        name, spec = match.group(1), match.group(2) or ""
        if name not in values:
            raise DomainError(_("Unknown placeholder {%(name)s} in the header or footer "
                                "line.", name=name))
        value = values[name]
        if value is None:
            value = ""
        try:
            if isinstance(value, date):
                return value.strftime(spec) if spec else value.isoformat()
            return format(value, spec)
        except (ValueError, TypeError):
            raise DomainError(_("The format “%(spec)s” does not suit {%(name)s}.", spec=spec,
                                name=name)) from None
    return _PLACEHOLDER.sub(replace, template)
