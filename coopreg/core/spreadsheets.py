"""Spreadsheets both ways, safely: reading files people upload, writing files people open.

Reading (untrusted input)
    `read_table(data, filename=..., limits=...)` returns a `Table`: the first visible worksheet
    of an xlsx, xls or ods file (read with python-calamine) or the rows of a CSV file, as plain
    Python values (str, float, bool, date, datetime; "" for an empty cell). Before any parser
    sees the bytes, the file must be what its name says (checked on the content, not the name),
    a zip container must pass the zip-bomb checks (entries, total uncompressed size, compression
    ratio) and its XML parts must declare no DTD or entity (refused outright, although calamine
    does not expand entities; `defusedxml` reads the small manifest parts). Rows are capped.
    Every refusal is a `SpreadsheetRefused` (a `DomainError`) whose message a person can act on.

    CSV is read as Excel writes it: UTF-8 with or without BOM, else Windows-1252 (decoded
    strictly; a file that decodes as neither, or holds control characters, is refused), comma
    or semicolon (sniffed on the first lines). A cell that a coopreg CSV export protected
    against formula injection (a leading `'` before `= + - @`, tab or CR) gets its quote
    removed again, so an exported file re-imports unchanged (`unprotect_formula_text`).

Writing (files people open in Excel or LibreOffice)
    Describe the columns with `Column(header, kind, width=..., choices=...)` and give rows of
    values in the same order. `write_xlsx(target, [Sheet(...), ...])` streams with openpyxl's
    write-only mode (memory stays flat): bold frozen header, autofilter, column widths, text
    cells forced to text (a name "=HYPERLINK(...)" stays text, IDs keep their leading zeros),
    dates as real dates, money as numbers with the currency's decimals, and drop-down lists
    (on a "Lists" sheet) for columns with fixed choices. `write_csv(target, columns, rows)`
    writes UTF-8 with BOM (so Excel shows accents), dates in ISO form, and neutralises text
    cells that start with `= + - @`, tab or CR by prefixing `'` (OWASP "CSV injection").
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from flask_babel import gettext as _

from coopreg.core.errors import DomainError

# ---- limits -----------------------------------------------------------------------------------

MB = 1024 * 1024


@dataclass(frozen=True)
class ReadLimits:
    """What an uploaded file may weigh, unpack to and hold. `from_config` reads the app's
    `COOPREG_IMPORT_*` settings (see config.py)."""

    max_bytes: int = 20 * MB
    max_uncompressed_bytes: int = 200 * MB
    max_zip_entries: int = 10_000
    max_compression_ratio: int = 100
    max_rows: int = 200_000
    max_columns: int = 200

    @classmethod
    def from_config(cls, config: Any) -> ReadLimits:
        def get(name: str, default: int) -> int:
            return int(config.get(name, default))

        return cls(
            max_bytes=get("MAX_CONTENT_LENGTH", cls.max_bytes) or cls.max_bytes,
            max_uncompressed_bytes=get("COOPREG_IMPORT_MAX_UNCOMPRESSED",
                                       cls.max_uncompressed_bytes),
            max_zip_entries=get("COOPREG_IMPORT_MAX_ZIP_ENTRIES", cls.max_zip_entries),
            max_compression_ratio=get("COOPREG_IMPORT_MAX_RATIO", cls.max_compression_ratio),
            max_rows=get("COOPREG_IMPORT_MAX_ROWS", cls.max_rows),
            max_columns=get("COOPREG_IMPORT_MAX_COLUMNS", cls.max_columns),
        )


class SpreadsheetRefused(DomainError):
    """A file that will not be read, with the reason in words a person can act on."""


# ---- what a file is -------------------------------------------------------------------------

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"

# file name ending → the format its content must have
EXTENSIONS = {".xlsx": "xlsx", ".xlsm": "xlsx", ".ods": "ods", ".xls": "xls", ".csv": "csv",
              ".txt": "csv"}
ACCEPTED = ("xlsx", "ods", "xls", "csv")


def format_from_name(filename: str) -> str | None:
    """The format a file name promises ("xlsx", "ods", "xls", "csv"), or None."""
    return EXTENSIONS.get(Path(filename or "").suffix.lower())


def detect_format(data: bytes) -> str:
    """What the bytes are, from their content: "xlsx", "ods", "xls", "csv" (text), or
    "unknown". A zip is looked into (an ods names its mimetype; anything else with a
    workbook part is xlsx)."""
    if data.startswith(OLE_MAGIC):
        return "xls"
    if data.startswith(ZIP_MAGIC):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
                if "mimetype" in names and archive.read("mimetype").strip() == ODS_MIMETYPE:
                    return "ods"
                if "[Content_Types].xml" in names and any(
                        n.startswith("xl/workbook") for n in names):
                    return "xlsx"
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError,
                NotImplementedError, RuntimeError, ValueError, KeyError, zlib.error,
                struct.error):
            # ValueError covers UnicodeDecodeError: a damaged directory's file names
            return "broken-zip"
        return "zip"
    try:
        decode_text(data)
    except SpreadsheetRefused:
        return "unknown"
    return "csv"


_NAMES = {"xlsx": "an Excel workbook (.xlsx)", "ods": "an OpenDocument spreadsheet (.ods)",
          "xls": "an Excel 97-2003 workbook (.xls)", "csv": "a CSV text file"}


def check_format(data: bytes, filename: str) -> str:
    """The file's format, when its content is what its name says; else `SpreadsheetRefused`."""
    promised = format_from_name(filename)
    if promised is None:
        raise SpreadsheetRefused(_("Only .xlsx, .ods, .xls and .csv files can be read."),
                                 field="file")
    if not data:
        raise SpreadsheetRefused(_("The file is empty."), field="file")
    actual = detect_format(data)
    if actual == promised:
        return actual
    if actual == "broken-zip":
        raise SpreadsheetRefused(_("The file is damaged or incomplete (perhaps the upload was "
                                   "cut short). Save it again and upload it again."),
                                 field="file")
    if actual in _NAMES:
        raise SpreadsheetRefused(
            _("The file is named %(name)s but is really %(actual)s. Save it again as "
              "%(promised)s, or rename it to match what it is.", name=filename,
              actual=_NAMES[actual], promised=_NAMES[promised]), field="file")
    raise SpreadsheetRefused(
        _("The file is named %(name)s but its content is not %(promised)s.",
          name=filename, promised=_NAMES[promised]), field="file")


# ---- zip containers (xlsx, ods) ---------------------------------------------------------------

_PROLOG_LIMIT = 64 * 1024
# What may come before the root element of an XML document, DTD excluded on purpose.
_PROLOG_ITEM = re.compile(r"\s+|<\?.*?\?>|<!--.*?-->", re.DOTALL)
_MANIFESTS = ("[Content_Types].xml", "META-INF/manifest.xml", "xl/workbook.xml")
# How an XML parser tells a document's encoding from its first bytes (XML 1.0, appendix F):
# byte order marks first (UTF-32's before UTF-16's, which they start with), then the bytes
# of "<" or "<?" in the wide encodings.
_XML_BOMS = ((codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF32_LE, "utf-32-le"),
             (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_BE, "utf-16-be"),
             (codecs.BOM_UTF16_LE, "utf-16-le"))
_XML_WIDE_STARTS = ((b"\x00\x00\x00<", "utf-32-be"), (b"<\x00\x00\x00", "utf-32-le"),
                    (b"\x00<", "utf-16-be"), (b"<\x00", "utf-16-le"))
# Encodings a declaration may name in a file whose first bytes read as ASCII: these keep
# "<!DOCTYPE" as the same bytes, so the text read here is the text the parser reads.
_ASCII_COMPATIBLE = {"utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1",
                     "iso-8859-15", "windows-1252", "cp1252"}
_DECLARED_ENCODING = re.compile(r"""^<\?xml[^>]*?\bencoding\s*=\s*["']([^"']*)["']""")


def _xml_head_text(head: bytes) -> str | None:
    """The start of an XML part as text, in the encoding a parser would read it with (a UTF-16
    or UTF-32 part, with or without a byte order mark, is read as such: read as bytes, its
    "<!DOCTYPE" hides between zero bytes). None when the encoding is one a spreadsheet never
    uses (EBCDIC, UTF-7…), which is refused rather than guessed."""
    encoding = None
    for bom, name in _XML_BOMS:
        if head.startswith(bom):
            encoding, head = name, head[len(bom):]
            break
    if encoding is None:
        for start, name in _XML_WIDE_STARTS:
            if head.startswith(start):
                encoding = name
                break
    if encoding is None:
        if head and head[:1] not in b"< \t\r\n":
            return None
        encoding = "utf-8"
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=False)
    declared = _DECLARED_ENCODING.match(text)
    if (declared and not encoding.startswith(("utf-16", "utf-32"))
            and declared.group(1).strip().lower() not in _ASCII_COMPATIBLE):
        return None
    return text


def _xml_has_dtd(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool | None:
    """True when the XML part declares a DTD (`<!DOCTYPE`, where entities are declared),
    False when its root element starts cleanly, None when the prolog is implausibly long or
    the part is in an encoding no spreadsheet uses."""
    with archive.open(info) as stream:
        head = _xml_head_text(stream.read(_PROLOG_LIMIT))
    if head is None:
        return None
    position = 0
    while True:
        match = _PROLOG_ITEM.match(head, position)
        if match is None or match.end() == position:
            break
        position = match.end()
    rest = head[position:]
    if rest[:9].upper().startswith(("<!DOCTYPE", "<!ENTITY")):
        return True
    if rest.startswith(("<!--", "<?")):
        return None  # a comment or instruction longer than the window: not a spreadsheet's
    if rest.startswith("<") or not rest:
        return False
    return False  # text before any element: not well-formed XML; the reader will refuse it


def check_zip_container(data: bytes, limits: ReadLimits) -> None:
    """Refuse a zip bomb or an XML entity trick before any parser touches the file: the
    number of entries, the total uncompressed size and each large entry's compression ratio
    are checked from the directory; every XML part's prolog is read (without expanding
    anything) and a DTD refused; the manifest parts are parsed with defusedxml."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    damaged = _("The file is damaged or incomplete. Save it again and upload it again.")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            if len(infos) > limits.max_zip_entries:
                raise SpreadsheetRefused(_("The file holds too many parts (%(n)d) to be a "
                                           "spreadsheet; it was not read.", n=len(infos)),
                                         field="file")
            total = sum(info.file_size for info in infos)
            if total > limits.max_uncompressed_bytes:
                raise SpreadsheetRefused(
                    _("The file would unpack to %(size)d MB, more than the %(limit)d MB "
                      "allowed; it was not read. Split it into smaller files.",
                      size=total // MB, limit=limits.max_uncompressed_bytes // MB),
                    field="file")
            for info in infos:
                if info.file_size > MB:
                    ratio = info.file_size / max(info.compress_size, 1)
                    if ratio > limits.max_compression_ratio:
                        raise SpreadsheetRefused(
                            _("The file is compressed suspiciously well (a part unpacks "
                              "%(ratio)d times larger); it was not read.", ratio=int(ratio)),
                            field="file")
            for info in infos:
                if not info.filename.lower().endswith((".xml", ".rels")):
                    continue
                has_dtd = _xml_has_dtd(archive, info)
                if has_dtd is None or has_dtd:
                    raise SpreadsheetRefused(
                        _("The file contains XML declarations (DOCTYPE or ENTITY) that "
                          "spreadsheets never need; it was refused for safety."),
                        field="file")
                if info.filename in _MANIFESTS:
                    fromstring(archive.read(info), forbid_dtd=True)
    except SpreadsheetRefused:
        raise
    except DefusedXmlException:
        raise SpreadsheetRefused(_("The file contains XML declarations (DOCTYPE or ENTITY) "
                                   "that spreadsheets never need; it was refused for safety."),
                                 field="file") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError,
            RuntimeError, ValueError, SyntaxError, KeyError, zlib.error, struct.error):
        # RuntimeError: encrypted entries; SyntaxError: ElementTree's ParseError
        raise SpreadsheetRefused(damaged, field="file") from None


# ---- text (CSV) -----------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-8 (BOM removed) when the bytes are valid UTF-8, else
    Windows-1252, both strict. Refuses bytes that are neither, or hold control characters
    (a binary file)."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _CONTROL.search(text):
            break
        return text, ("utf-8" if encoding == "utf-8-sig" else encoding)
    raise SpreadsheetRefused(_("The file is not a text (CSV) file, or uses an encoding that "
                               "cannot be read. Save it as CSV UTF-8 or as .xlsx."),
                             field="file")


def sniff_delimiter(text: str) -> str:
    """`;` or `,` (or tab): the one that splits the first lines most consistently, as Excel
    writes CSV in French, Spanish and Portuguese (`;`) or English (`,`) locales."""
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    sample = "\n".join(lines)
    try:
        return csv.Sniffer().sniff(sample, delimiters=";,\t").delimiter
    except csv.Error:
        counts = {d: sum(line.count(d) for line in lines) for d in (";", ",", "\t")}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# A phone number in E.164 ("+50688881234") is a plain figure, not a formula: no escape
PLAIN_PHONE = re.compile(r"\+[1-9][0-9]{5,14}")


def protect_formula_text(text: str) -> str:
    """A text cell for CSV that no spreadsheet will run as a formula (OWASP): prefix `'`
    when it starts with = + - @, tab or CR — except a plain E.164 phone number."""
    if text.startswith(_FORMULA_START) and not PLAIN_PHONE.fullmatch(text):
        return "'" + text
    return text


def unprotect_formula_text(text: str) -> str:
    """Undo `protect_formula_text` (a `'` followed by = + - @, tab or CR loses the `'`)."""
    if len(text) > 1 and text[0] == "'" and text[1:].startswith(_FORMULA_START):
        return text[1:]
    return text


# ---- the table ------------------------------------------------------------------------------

@dataclass
class Table:
    """The cells of one sheet. `rows[i][j]` is the cell at spreadsheet row i+1, column j+1
    (so row numbers and column letters match what the person sees); values are str, float,
    bool, date, datetime, timedelta, or "" for an empty cell."""

    format: str
    rows: list[list[Any]]
    sheet_name: str = ""
    encoding: str | None = None
    delimiter: str | None = None

    @property
    def width(self) -> int:
        return max((len(r) for r in self.rows), default=0)


def _too_many_rows(limits: ReadLimits) -> SpreadsheetRefused:
    return SpreadsheetRefused(_("The file has more than %(n)d rows; split it into smaller "
                                "files.", n=limits.max_rows), field="file")


def _too_many_columns(limits: ReadLimits) -> SpreadsheetRefused:
    return SpreadsheetRefused(_("The file has more than %(n)d columns; it does not look like a "
                                "list of people.", n=limits.max_columns), field="file")


# title rows above a header may come before the data: they are allowed on top of the cap
_SLACK_ROWS = 50


def _read_csv(data: bytes, limits: ReadLimits, unprotect: bool) -> Table:
    text, encoding = decode_text(data)
    delimiter = sniff_delimiter(text)
    rows: list[list[Any]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for row in reader:
            if len(rows) >= limits.max_rows + _SLACK_ROWS:
                raise _too_many_rows(limits)
            if len(row) > limits.max_columns:
                raise _too_many_columns(limits)
            rows.append([unprotect_formula_text(c) if unprotect else c for c in row])
    except csv.Error:
        # the csv module's reason is English: the line number is what helps
        raise SpreadsheetRefused(_("The CSV file is malformed near line %(line)d (a quote "
                                   "left open, a NUL character or a field too long).",
                                   line=reader.line_num), field="file") from None
    return Table("csv", rows, encoding=encoding, delimiter=delimiter)


def _read_workbook(data: bytes, fmt: str, limits: ReadLimits) -> Table:
    import python_calamine

    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        try:
            names = [m.name for m in workbook.sheets_metadata
                     if m.typ == python_calamine.SheetTypeEnum.WorkSheet
                     and m.visible == python_calamine.SheetVisibleEnum.Visible]
            if not names:
                raise SpreadsheetRefused(_("The file has no visible worksheet."), field="file")
            sheet = workbook.get_sheet_by_name(names[0])
            end = sheet.end
            if end is not None and end[0] + 1 > limits.max_rows + _SLACK_ROWS:
                raise _too_many_rows(limits)
            if end is not None and end[1] + 1 > limits.max_columns:
                raise _too_many_columns(limits)
            rows = sheet.to_python(skip_empty_area=False)
        finally:
            workbook.close()
    except SpreadsheetRefused:
        raise
    except python_calamine.PasswordError:
        raise SpreadsheetRefused(_("The file is protected by a password. Remove the password "
                                   "and upload it again."), field="file") from None
    except Exception:  # noqa: BLE001 - calamine raises many kinds; the person needs one answer
        raise SpreadsheetRefused(_("The file could not be read as a spreadsheet (it may be "
                                   "damaged). Open it, save it again and retry."),
                                 field="file") from None
    return Table(fmt, rows, sheet_name=names[0])


def read_table(data: bytes, *, filename: str, limits: ReadLimits | None = None,
               unprotect_csv: bool = True) -> Table:
    """Read an untrusted upload into a `Table`, or raise `SpreadsheetRefused`.
    `filename` is the name the person gave it (checked against the content, never used as a
    path)."""
    limits = limits or ReadLimits()
    if len(data) > limits.max_bytes:
        raise SpreadsheetRefused(_("Files up to %(mb)d MB are accepted.",
                                   mb=limits.max_bytes // MB), field="file")
    fmt = check_format(data, filename)
    if fmt == "csv":
        return _read_csv(data, limits, unprotect_csv)
    if fmt in ("xlsx", "ods"):
        check_zip_container(data, limits)
    return _read_workbook(data, fmt, limits)


def cell_text(value: Any) -> str:
    """A read cell as the text a person typed: numbers without a spurious ".0" (an ID typed
    as a number), dates in ISO form, booleans as "yes"/"no", text stripped."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def column_letter(index: int) -> str:
    """0 → "A", 25 → "Z", 26 → "AA"."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


# ---- writing --------------------------------------------------------------------------------

TEXT = "text"          # forced text: names, IDs, phones (leading zeros kept, never a formula)
DATE = "date"          # a real date cell
NUMBER = "number"      # a number as given (int, Decimal)
MONEY = "money"        # a Decimal, shown with `decimals` decimals
INTEGER = "integer"    # a whole number


@dataclass(frozen=True)
class Column:
    """One column of a written sheet. `choices` (text values) become a drop-down list."""

    header: str
    kind: str = TEXT
    width: float | None = None
    choices: tuple[str, ...] = ()
    decimals: int = 2
    date_format: str = "yyyy-mm-dd"

    @property
    def number_format(self) -> str | None:
        if self.kind == DATE:
            return self.date_format
        if self.kind == MONEY:
            return "#,##0" + ("." + "0" * self.decimals if self.decimals else "")
        if self.kind == INTEGER:
            return "0"
        return None


@dataclass
class Sheet:
    """A sheet to write: a title, its columns and its rows (any iterable, consumed once)."""

    title: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[Any]] = ()
    header: bool = True
    freeze_header: bool = True
    autofilter: bool = True
    widths: dict[int, float] = field(default_factory=dict)


def _default_width(column: Column) -> float:
    if column.width:
        return column.width
    base = {DATE: 12, MONEY: 14, INTEGER: 10, NUMBER: 12}.get(column.kind, 16)
    return float(min(max(base, len(column.header) + 3), 60))


def write_xlsx(target: str | Path | IO[bytes], sheets: Iterable[Sheet]) -> None:
    """Write the sheets to an xlsx file (a path or a binary stream), streaming rows with
    openpyxl's write-only mode. See the module docstring for what the cells look like.
    When the rows (or the disk) fail midway, the error is raised after openpyxl's streams
    and temporary files are closed and removed."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    try:
        _write_workbook(workbook, target, sheets)
    except BaseException:
        _discard(workbook)
        raise


def _discard(workbook) -> None:
    """End each sheet's half-written stream now (not whenever the garbage collector finds it,
    which reports errors) and remove openpyxl's temporary file."""
    for worksheet in workbook.worksheets:
        writer = getattr(worksheet, "_writer", None)
        if writer is None:
            continue
        rows = getattr(worksheet, "_rows", None)
        try:
            if rows is not None:
                rows.close()
            writer.close()
        except Exception:  # noqa: BLE001,S110 - the first error is the one raised
            pass
        with contextlib.suppress(OSError, ValueError):  # a save that got that far removed it
            writer.cleanup()


def _xlsx_rows(worksheet, spec: Sheet) -> Iterator[list[Any]]:
    """The sheet's rows as openpyxl takes them. A plain value is much faster to write than a
    cell object, so only what needs one gets one: text that openpyxl would take for a formula
    (forced to text), and numbers or dates that need a number format. Those formatted cells
    are made once per column and reused row after row: openpyxl writes each cell out as soon
    as its row is appended, so the next row may set the same cell again."""
    from openpyxl.cell import WriteOnlyCell

    columns = list(spec.columns)
    width = len(columns)
    texts = [i for i, c in enumerate(columns) if c.kind == TEXT]
    formatted = []
    for index, column in enumerate(columns):
        if column.kind == TEXT:
            continue
        cell = None
        if column.number_format:
            cell = WriteOnlyCell(worksheet)
            cell.number_format = column.number_format
        # a date (not a datetime) in the ISO format needs no cell: openpyxl's default is that
        plain_dates = column.kind == DATE and column.date_format == "yyyy-mm-dd"
        formatted.append((index, column.kind, cell, plain_dates))
    for row in spec.rows:
        cells = list(row)
        if len(cells) > width:
            del cells[width:]
        size = len(cells)
        for index in texts:
            if index >= size:
                break
            value = cells[index]
            if value is None:
                continue
            if not isinstance(value, str):
                value = cells[index] = cell_text(value)
            if not value:
                cells[index] = None
            elif value[0] == "=":
                cell = WriteOnlyCell(worksheet, value=value)
                cell.data_type = "s"  # never a formula, whatever the text starts with
                cells[index] = cell
        for index, kind, cell, plain_dates in formatted:
            if index >= size:
                break
            value = cells[index]
            if value is None or value == "":
                cells[index] = None
            elif kind == DATE:
                if not isinstance(value, date):  # datetime is a date too
                    cells[index] = str(value)
                    if cells[index].startswith("="):  # text that did not read as a date
                        text_cell = WriteOnlyCell(worksheet, value=cells[index])
                        text_cell.data_type = "s"
                        cells[index] = text_cell
                elif not (plain_dates and type(value) is date):
                    cell.value = value
                    cells[index] = cell
            else:
                if isinstance(value, float):
                    raise TypeError("spreadsheets are written from Decimal or int, never float")
                if cell is not None:
                    cell.value = value
                    cells[index] = cell
        yield cells


def _write_workbook(workbook, target: str | Path | IO[bytes], sheets: Iterable[Sheet]) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.worksheet.datavalidation import DataValidation

    bold = Font(bold=True)
    wrap_top = Alignment(vertical="top")
    lists: list[tuple[str, tuple[str, ...]]] = []
    pending_validations = []

    for spec in sheets:
        worksheet = workbook.create_sheet(title=spec.title[:31])
        for index, column in enumerate(spec.columns):
            letter = column_letter(index)
            worksheet.column_dimensions[letter].width = spec.widths.get(
                index, _default_width(column))
        if spec.header and spec.freeze_header:
            worksheet.freeze_panes = "A2"
        for index, column in enumerate(spec.columns):
            if column.choices:
                lists.append((column.header, column.choices))
                pending_validations.append((worksheet, index, len(lists) - 1))
        if spec.header:
            header_cells = []
            for column in spec.columns:
                cell = WriteOnlyCell(worksheet, value=column.header)
                cell.data_type = "s"
                cell.font = bold
                cell.alignment = wrap_top
                header_cells.append(cell)
            worksheet.append(header_cells)
        count = 0
        for cells in _xlsx_rows(worksheet, spec):
            worksheet.append(cells)
            count += 1
        if spec.header and spec.autofilter and spec.columns:
            worksheet.auto_filter.ref = (f"A1:{column_letter(len(spec.columns) - 1)}"
                                         f"{count + 1}")

    if lists:
        lists_sheet = workbook.create_sheet(title="Lists")
        for index in range(len(lists)):
            lists_sheet.column_dimensions[column_letter(index)].width = 24
        longest = max(len(values) for _header, values in lists)
        header_cells = []
        for header, _values in lists:
            cell = WriteOnlyCell(lists_sheet, value=header)
            cell.data_type = "s"
            cell.font = bold
            header_cells.append(cell)
        lists_sheet.append(header_cells)
        for position in range(longest):
            row_cells = []
            for _header, values in lists:
                cell = WriteOnlyCell(lists_sheet,
                                     value=values[position] if position < len(values) else None)
                if position < len(values):
                    cell.data_type = "s"
                row_cells.append(cell)
            lists_sheet.append(row_cells)
        for worksheet, column_index, list_index in pending_validations:
            letter = column_letter(list_index)
            size = len(lists[list_index][1])
            validation = DataValidation(type="list", allow_blank=True,
                                        formula1=f"Lists!${letter}$2:${letter}${size + 1}")
            validation.error = _("Choose a value from the list.")
            validation.showErrorMessage = True
            target_letter = column_letter(column_index)
            validation.add(f"{target_letter}2:{target_letter}1048576")
            worksheet.data_validations.append(validation)

    if isinstance(target, str | Path):
        workbook.save(str(target))
    else:
        workbook.save(target)


def _csv_value(value: Any, column: Column) -> str:
    if value is None or value == "":
        return ""
    if column.kind == TEXT:
        return protect_formula_text(value if isinstance(value, str) else cell_text(value))
    if column.kind == DATE:
        if isinstance(value, datetime):
            return value.isoformat(" ")
        return value.isoformat() if isinstance(value, date) else str(value)
    if column.kind == MONEY:
        if isinstance(value, float):
            raise TypeError("spreadsheets are written from Decimal or int, never float")
        return f"{Decimal(value):.{column.decimals}f}"
    if isinstance(value, float):
        raise TypeError("spreadsheets are written from Decimal or int, never float")
    return str(value)


def write_csv(target: str | Path | IO[bytes], columns: Sequence[Column],
              rows: Iterable[Sequence[Any]], *, delimiter: str = ",", bom: bool = True,
              header: bool = True, encoding: str | None = None) -> None:
    """Write a CSV file (a path or a binary stream) in UTF-8 (with a BOM by default, so Excel
    reads the accents), CRLF line ends, text cells protected against formula injection.
    `encoding` overrides the UTF-8 choice (e.g. "cp1252" for institutions that ask for
    Windows-1252; a character it cannot write raises UnicodeEncodeError)."""
    def produce(stream: IO[bytes]) -> None:
        text = io.TextIOWrapper(stream, encoding=encoding or ("utf-8-sig" if bom else "utf-8"),
                                newline="", write_through=True)
        try:
            writer = csv.writer(text, delimiter=delimiter, lineterminator="\r\n")
            if header:
                writer.writerow([protect_formula_text(c.header) for c in columns])
            for row in rows:
                writer.writerow([_csv_value(v, c)
                                 for v, c in zip(row, columns, strict=False)])
            text.flush()
        finally:
            text.detach()

    if isinstance(target, str | Path):
        with open(target, "wb") as stream:
            produce(stream)
    else:
        produce(target)


def excel_serial_to_date(serial: float) -> date:
    """An Excel serial day number (1900 date system, the usual one) as a date."""
    return date(1899, 12, 30) + timedelta(days=int(serial))
