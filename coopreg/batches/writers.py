"""Batch files, written by pure functions: a layout snapshot and rows of values in, a file out.

Rows are streamed (xlsx in openpyxl's write-only mode through `coopreg.core.spreadsheets`), so
memory stays flat however many lines. Each writer returns the *data checksum*: the SHA-256 of
the data lines as text — each line's logical values (ISO dates, plain decimal amounts, as held
in the batch's lines) joined by a tab, ending with a newline, in UTF-8 — which anyone can
recompute from the file's cells, and which the xlsx summary sheet shows.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import IO, Any

from flask_babel import gettext as _

from coopreg.batches.layouts import fill_template, fixed_cell, fixed_record, neutralised
from coopreg.batches.models import ColumnType, FileFormat
from coopreg.core import spreadsheets as sheets
from coopreg.core.templating import show_month

_STRFTIME_TO_EXCEL = {"%d": "dd", "%m": "mm", "%Y": "yyyy", "%y": "yy", "%b": "mmm",
                      "%B": "mmmm", "%H": "hh", "%M": "mm", "%S": "ss", "%%": "%"}


def excel_date_format(pattern: str | None) -> str:
    """A strftime pattern as an Excel number format (`%d/%m/%Y` → `dd/mm/yyyy`)."""
    if not pattern:
        return "yyyy-mm-dd"
    out = []
    for token in re.split(r"(%.)", pattern):
        if token.startswith("%") and len(token) == 2:
            if token not in _STRFTIME_TO_EXCEL:
                return "yyyy-mm-dd"
            out.append(_STRFTIME_TO_EXCEL[token])
        elif token:
            out.append("".join(c if c.isalnum() is False or c == " " else f"\\{c}"
                               for c in token))
    return "".join(out)


@dataclass
class Summary:
    """What the summary sheet (xlsx) and the header/footer records (fixed width) show."""

    reference: str
    agreement: str
    institution: str
    kind: str
    period: date | None
    made_on: date
    count: int
    totals: dict[str, Decimal]  # label → amount
    total_minor: int = 0
    member_share_minor: int = 0
    cooperative_share_minor: int = 0
    supersedes: str | None = None
    decimals: int = 2  # the currency's
    # the employer's part of an institution's form header (the cooperative's) and the
    # payment the remittance was made with (its footer)
    employer_name: str = ""
    employer_tin: str = ""
    employer_address: str = ""
    payment_reference: str = ""
    payment_date: date | None = None


def template_values(summary: Summary, count: int, checksum_text: str | None) -> dict:
    """What the placeholders of a layout's header and footer records stand for."""
    def amount(minor: int) -> Decimal:
        return Decimal(minor).scaleb(-summary.decimals)

    return {"reference": summary.reference, "agreement": summary.agreement,
            "period": summary.period, "date": summary.made_on, "count": count,
            "total_minor": summary.total_minor,
            "member_share_minor": summary.member_share_minor,
            "cooperative_share_minor": summary.cooperative_share_minor,
            "total": amount(summary.total_minor),
            "member_share": amount(summary.member_share_minor),
            "cooperative_share": amount(summary.cooperative_share_minor),
            "checksum": checksum_text, "employer_name": summary.employer_name,
            "employer_tin": summary.employer_tin,
            "employer_address": summary.employer_address,
            "report_type": "A" if summary.supersedes else "R",
            "payment_reference": summary.payment_reference,
            "payment_date": summary.payment_date}


def form_records(template: str | None, values: dict) -> list[list[str]]:
    """The records of a spreadsheet form's header or footer: `Title|{placeholder}` pairs
    separated by `;` (one row each: the title, then the value as text)."""
    rows = []
    for record in (template or "").split(";"):
        if not record.strip():
            continue
        title, _bar, value = record.partition("|")
        rows.append([title.strip(), fill_template(value.strip(), values)])
    return rows


class _Checksum:
    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.count = 0

    def feed(self, rows: Iterable[Sequence[str | None]]) -> Iterator[Sequence[str | None]]:
        update = self.digest.update
        for row in rows:
            update(("\t".join("" if v is None else v for v in row) + "\n").encode())
            self.count += 1
            yield row

    def hexdigest(self) -> str:
        return self.digest.hexdigest()


def _typed(kind: str, value: str | None) -> Any:
    if value is None:
        return None
    if kind == ColumnType.DATE:
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    if kind in (ColumnType.AMOUNT, ColumnType.NUMBER):
        return Decimal(value)
    return value


def _xlsx_columns(layout: dict, widths: Sequence[int] | None) -> list[sheets.Column]:
    columns = []
    for index, spec in enumerate(layout["columns"]):
        kind = spec["col_type"]
        width = None
        if widths and index < len(widths):
            width = float(min(max(widths[index] + 2, len(spec["header"]) + 3, 8), 60))
        if kind == ColumnType.DATE:
            columns.append(sheets.Column(spec["header"], sheets.DATE, width=width,
                                         date_format=excel_date_format(spec.get("date_pattern"))))
        elif kind == ColumnType.AMOUNT:
            columns.append(sheets.Column(spec["header"], sheets.MONEY, width=width,
                                         decimals=int(spec.get("decimals") or 0)))
        elif kind == ColumnType.NUMBER:
            columns.append(sheets.Column(spec["header"], sheets.NUMBER, width=width))
        else:
            columns.append(sheets.Column(spec["header"], sheets.TEXT, width=width))
    return columns


def write_xlsx_batch(target: IO[bytes], layout: dict, rows: Iterable[Sequence[str | None]],
                     summary: Summary, widths: Sequence[int] | None = None) -> str:
    """The data sheet (bold frozen header, autofilter, fitting widths, IDs as text, real
    dates, amounts as numbers) then the summary sheet. Returns the data checksum."""
    checksum = _Checksum()
    # only date, number and amount cells need converting from their text form
    typed = [(index, spec["col_type"]) for index, spec in enumerate(layout["columns"])
             if spec["col_type"] != ColumnType.TEXT]

    def data_rows():
        for row in checksum.feed(rows):
            if typed:
                row = list(row)
                for index, kind in typed:
                    row[index] = _typed(kind, row[index])
            yield row

    def summary_rows():
        # item | text | count | amount: each column keeps one type (text stays text)
        # in the language the file is written in (the sealing says which: the cooperative's)
        yield [_("Batch reference"), summary.reference, None, None]
        yield [_("Agreement"), summary.agreement, None, None]
        yield [_("Institution"), summary.institution, None, None]
        yield [_("Kind"), summary.kind, None, None]
        if summary.period is not None:
            yield [_("Period"), show_month(summary.period), None, None]
        if summary.supersedes:
            yield [_("Replaces batch"), summary.supersedes, None, None]
        yield [_("Made on"), summary.made_on.isoformat(), None, None]
        yield [_("Lines"), None, checksum.count, None]
        for label, amount in summary.totals.items():
            yield [label, None, None, amount]
        yield [_("Checksum of the data lines (SHA-256)"), checksum.hexdigest(), None, None]

    def form_sheet(title: str, key: str):
        # the form's header or footer (what the institution's form has above and below its
        # table), every value written as text: an employer number keeps its leading zeros
        return sheets.Sheet(title, [sheets.Column(_("Field"), width=38),
                                    sheets.Column(_("Value"), width=50)],
                            form_records(layout.get(key), template_values(
                                summary, checksum.count, checksum.hexdigest())),
                            autofilter=False)

    def all_sheets():
        yield sheets.Sheet(_("Lines"), _xlsx_columns(layout, widths), data_rows())
        if layout.get("header_line"):
            yield form_sheet(_("Header"), "header_line")
        if layout.get("footer_line"):
            yield form_sheet(_("Footer"), "footer_line")
        # made after the data sheet is written, so the count and checksum are final
        yield sheets.Sheet(_("Summary"), [sheets.Column(_("Item"), width=38),
                                          sheets.Column(_("Value"), width=66),
                                          sheets.Column(_("Count"), sheets.INTEGER, width=10),
                                          sheets.Column(_("Amount"), sheets.MONEY, width=16,
                                                        decimals=summary.decimals)],
                           summary_rows(), autofilter=False)

    sheets.write_xlsx(target, all_sheets())
    return checksum.hexdigest()


def write_csv_batch(target: IO[bytes], layout: dict, rows: Iterable[Sequence[str | None]]
                    ) -> str:
    """CSV in the layout's encoding (UTF-8 with BOM, UTF-8 or Windows-1252) and delimiter,
    CRLF line ends, every cell that starts with = + - @, tab or CR neutralised (OWASP).
    Returns the data checksum."""
    checksum = _Checksum()
    encoding = layout.get("encoding") or "utf-8-sig"
    columns = [sheets.Column(spec["header"]) for spec in layout["columns"]]
    sheets.write_csv(target, columns, checksum.feed(rows),
                     delimiter=layout.get("delimiter") or ",",
                     header=bool(layout.get("include_header", True)), encoding=encoding)
    return checksum.hexdigest()


def write_fixed_batch(target: IO[bytes], layout: dict, rows: Iterable[Sequence[str | None]],
                      summary: Summary) -> str:
    """Fixed-width text: each value padded and aligned to its column's width (text that
    starts with = + - @ gets a leading `'`), CRLF line ends, an optional header line of the
    column titles, and the layout's header and footer records with their placeholders
    filled. A value that does not fit raises ValueError (the preview reports it first).
    Returns the data checksum."""
    checksum = _Checksum()
    encoding = layout.get("encoding") or "cp1252"
    if encoding == "utf-8-sig":
        encoding = "utf-8"  # a BOM would shift the first record
    specs = layout["columns"]

    def line(text: str) -> bytes:
        if "\r" in text or "\n" in text:
            raise ValueError(_("A tab or a line break cannot be written in a fixed-width "
                               "record."))
        return (text + "\r\n").encode(encoding)

    def values(count: int, checksum_text: str | None) -> dict:
        return template_values(summary, count, checksum_text)

    # the records the layout writes are neutralised like cells: a header record (or a column
    # title) "=HYPERLINK(...)" must not open as a live formula in a spreadsheet
    if layout.get("header_line"):
        target.write(line(fixed_record(fill_template(layout["header_line"],
                                                     values(summary.count, None)))))
    if layout.get("include_header"):
        titles = "".join(fixed_cell(neutralised(s["header"])[: s.get("width") or 0],
                                    {**s, "col_type": "number"}) for s in specs)
        target.write(line(fixed_record(titles)))
    buffer: list[bytes] = []
    for row in checksum.feed(rows):
        buffer.append(line("".join(fixed_cell("" if v is None else v, spec)
                                   for v, spec in zip(row, specs, strict=False))))
        if len(buffer) >= 2000:
            target.write(b"".join(buffer))
            buffer.clear()
    target.write(b"".join(buffer))
    if layout.get("footer_line"):
        target.write(line(fixed_record(fill_template(
            layout["footer_line"], values(checksum.count, checksum.hexdigest())))))
    return checksum.hexdigest()


def write_batch_file(target: IO[bytes], layout: dict, rows: Iterable[Sequence[str | None]],
                     summary: Summary, widths: Sequence[int] | None = None) -> str:
    """Write a batch file in the layout's format; returns the data checksum."""
    fmt = FileFormat(layout["format"])
    if fmt == FileFormat.XLSX:
        return write_xlsx_batch(target, layout, rows, summary, widths)
    if fmt == FileFormat.CSV:
        return write_csv_batch(target, layout, rows)
    return write_fixed_batch(target, layout, rows, summary)
