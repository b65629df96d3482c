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
from coopreg.members.national_ids import format_id, normalise_id

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
    "member.phone": Source(_l("Phone"), T, _m("phone")),
    "member.address": Source(_l("Address"), T, _m("address")),
    "member.locality": Source(_l("Locality"), T, _m("locality")),
    "member.occupation": Source(_l("Occupation"), T, _m("occupation")),
    "member.joined_on": Source(_l("Joined the cooperative on"), D, _m("joined_on")),
    "member.declared_income": Source(_l("Declared income"), A, _income),
    "registration.institution_member_number": Source(
        _l("Institution's member number"), T, _r("institution_member_number")),
    "registration.coverage_start": Source(_l("Coverage start"), D, _r("coverage_start")),
    "registration.exit_date": Source(_l("Exit date"), D, _r("exit_flagged_on")),
    "registration.exit_reason": Source(_l("Exit reason"), T, _r("exit_flag_reason")),
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
for _n in range(DEPENDANT_COLUMNS):
    for _key, _label_text, _type in _DEPENDANT_FIELDS:
        SOURCES[f"dependants.{_n + 1}.{_key}"] = Source(
            _l("%(field)s (dependant %(n)d)", field=_label_text, n=_n + 1), _type,
            _dependant(_key, _n), ENR)
# The member's fields an update batch watches for changes (what the institution holds about
# the person; the registration's own numbers and dates come from the institution).
WATCHED = tuple(k for k in SOURCES if k.startswith("member."))
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
    "employer_remittance_report": {
        # after the per-member part of publicly known employer remittance reports (such as
        # PhilHealth's RF-1): a starting point, not an official format
        "name": _l("Employer remittance report (RF-1-like starting point)"),
        "kind": BatchKind.REMITTANCE, "format": FileFormat.XLSX,
        "columns": [
            _col("Institution number", "registration.institution_member_number",
                 id_format="formatted", required=True),
            _col("Last name", "member.last_name", transform="upper", required=True),
            _col("First name", "member.first_name", transform="upper", required=True),
            _col("Middle name", "member.middle_name", transform="upper"),
            _col("Date of birth", "member.date_of_birth", date_pattern="%m/%d/%Y"),
            _col("Sex", "member.sex_initial"),
            _col("Period", "batch.period", date_pattern="%m%Y", col_type=T, required=True),
            _col("Personal share", "contribution.member_share", required=True),
            _col("Employer share", "contribution.cooperative_share", required=True),
        ]},
    "employment_report_enrolment": {
        # after publicly known employment report forms (such as SSS R-1A): a starting point
        "name": _l("Employment report enrolment (R-1A-like starting point)"),
        "kind": BatchKind.ENROLMENT, "format": FileFormat.XLSX,
        "columns": [
            _col("Institution number", "registration.institution_member_number"),
            _col("Last name", "member.last_name", transform="upper", required=True),
            _col("First name", "member.first_name", transform="upper", required=True),
            _col("Middle name", "member.middle_name", transform="upper"),
            _col("Date of birth", "member.date_of_birth", date_pattern="%m/%d/%Y",
                 required=True),
            _col("Sex", "member.sex_initial", required=True),
            _col("National ID", "member.id_number", required=True),
            _col("Date of coverage", "member.joined_on", date_pattern="%m/%d/%Y"),
            _col("Monthly earnings", "member.declared_income"),
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
    before = + - @, tab or CR, as in CSV)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


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
    if text.startswith(_FORMULA_START) and (column["col_type"] == T.value
                                            or not _PLAIN_FIGURE.fullmatch(text)):
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
    if source.startswith("dependants."):
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
                "member_share_minor", "cooperative_share_minor", "checksum")


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
