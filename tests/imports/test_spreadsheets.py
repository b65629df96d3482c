"""coopreg.core.spreadsheets: reading untrusted files (and refusing hostile ones), writing
files that open cleanly and never run a formula."""

from __future__ import annotations

import codecs
import io
import zipfile
from datetime import date
from decimal import Decimal

import pytest

from coopreg.core.spreadsheets import (
    DATE,
    INTEGER,
    MONEY,
    Column,
    ReadLimits,
    Sheet,
    SpreadsheetRefused,
    cell_text,
    check_format,
    check_zip_container,
    column_letter,
    protect_formula_text,
    read_table,
    unprotect_formula_text,
    write_csv,
    write_xlsx,
)
from tests.imports.conftest import fixture_bytes

COLUMNS = [Column("Name"), Column("ID"), Column("Born", DATE), Column("Income", MONEY)]
ROWS = [["=HYPERLINK(\"http://evil.example\",\"x\")", "0102340371", date(1980, 5, 17),
         Decimal("250000.50")],
        ["+1 Núñez", "0045", None, None]]


def _xlsx(sheets) -> bytes:
    buffer = io.BytesIO()
    write_xlsx(buffer, sheets)
    return buffer.getvalue()


# ---- files made by other programs ------------------------------------------------------------

def test_reads_an_ods_made_by_libreoffice(ctx):
    table = read_table(fixture_bytes("members-libreoffice.ods"),
                       filename="members-libreoffice.ods")
    assert table.format == "ods"
    assert table.rows[0][:2] == ["Prénom", "Nom"]
    assert table.rows[1][4] == date(1984, 3, 9)  # a typed date stays a date


def test_reads_an_xlsx_made_by_libreoffice_with_title_rows(ctx):
    table = read_table(fixture_bytes("members-title-rows.xlsx"),
                       filename="members-title-rows.xlsx")
    assert table.rows[0][0] == "Cooperativa de Prueba R.L."
    assert table.rows[3][0] == "Nombre"        # row 4 of the sheet: the header
    assert table.rows[4][3] == date(1980, 5, 17)
    assert cell_text(table.rows[4][4]) == "102340371"  # a number cell: no ".0"


def test_reads_a_windows_1252_semicolon_csv(ctx):
    table = read_table(fixture_bytes("members-cp1252-semicolon.csv"),
                       filename="socios.csv")
    assert (table.encoding, table.delimiter) == ("cp1252", ";")
    assert table.rows[1][1] == "Núñez"
    assert table.rows[0][8] == "Fecha de afiliación"


@pytest.mark.parametrize("prefix,encoding", [(b"", "utf-8"), (b"\xef\xbb\xbf", "utf-8")])
def test_reads_utf8_csv_with_or_without_bom_and_commas(ctx, prefix, encoding):
    data = prefix + "Nombre,Apellido\r\nJosé,Núñez\r\n".encode()
    table = read_table(data, filename="a.csv")
    assert table.rows == [["Nombre", "Apellido"], ["José", "Núñez"]]
    assert table.encoding == encoding and table.delimiter == ","


# ---- writing --------------------------------------------------------------------------------

def test_xlsx_keeps_text_as_text_and_dates_as_dates(ctx):
    data = _xlsx([Sheet("Members", COLUMNS, ROWS)])
    table = read_table(data, filename="x.xlsx")
    assert table.rows[1][0] == "=HYPERLINK(\"http://evil.example\",\"x\")"
    assert table.rows[1][1] == "0102340371"
    assert table.rows[1][2] == date(1980, 5, 17)
    assert table.rows[2][1] == "0045"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet  # no formula anywhere
    assert 'state="frozen"' in sheet and "<autoFilter" in sheet and "<cols>" in sheet


def test_xlsx_formatted_cells_keep_each_rows_value_and_format(ctx):
    """The writer reuses one formatted cell per column from row to row: every row must still
    get its own date, amount and number format, and a datetime its date format."""
    from datetime import datetime

    from openpyxl import load_workbook

    columns = [Column("Name"), Column("Paid on", DATE, date_format="dd/mm/yyyy"),
               Column("Born", DATE), Column("Amount", MONEY, decimals=0),
               Column("Count", INTEGER)]
    rows = [[f"P{n}", date(2025, 1, 1 + n), date(1980, 1, 1 + n), Decimal(1000 + n), n]
            for n in range(5)]
    rows.append(["Late", "not a date", datetime(1990, 2, 3, 14, 30), None, None])
    rows.append(["Short", date(2025, 2, 1)])  # fewer cells than columns
    workbook = load_workbook(io.BytesIO(_xlsx([Sheet("S", columns, rows)])))
    sheet = workbook["S"]
    for n in range(5):
        row = sheet[n + 2]
        assert [c.value for c in row] == [f"P{n}", datetime(2025, 1, 1 + n),
                                          datetime(1980, 1, 1 + n), 1000 + n, n]
        assert row[1].number_format == "dd/mm/yyyy"
        assert row[3].number_format == "#,##0" and row[4].number_format == "0"
    late = sheet[7]
    assert late[1].value == "not a date" and late[1].data_type == "s"
    assert late[2].value == datetime(1990, 2, 3, 14, 30)
    assert late[2].number_format == "yyyy-mm-dd"  # the column's format, not a time's
    assert late[3].value is None and late[4].value is None
    assert [c.value for c in sheet[8]][:2] == ["Short", datetime(2025, 2, 1)]


def test_xlsx_refuses_floats_for_money(ctx):
    with pytest.raises(TypeError):
        _xlsx([Sheet("S", [Column("x", MONEY)], [[Decimal("1.5")], [1.5]])])


def test_xlsx_choices_become_a_drop_down_list(ctx):
    data = _xlsx([Sheet("S", [Column("Sex", choices=("female", "male"))], [["female"]])])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
        assert "xl/worksheets/sheet2.xml" in archive.namelist()
    assert 'type="list"' in sheet and "Lists!$A$2:$A$3" in sheet


def test_csv_neutralises_formulas_and_reading_restores_them(ctx):
    buffer = io.BytesIO()
    write_csv(buffer, COLUMNS, ROWS)
    data = buffer.getvalue()
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'+1 Núñez" in text
    assert ",1980-05-17,250000.50\r\n" in text
    table = read_table(data, filename="x.csv")
    assert table.rows[1][0] == ROWS[0][0] and table.rows[2][0] == "+1 Núñez"


@pytest.mark.parametrize("text", ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_protect_and_unprotect_are_inverse(text):
    assert protect_formula_text(text) == "'" + text
    assert unprotect_formula_text(protect_formula_text(text)) == text
    assert unprotect_formula_text("'quoted") == "'quoted"


def test_writers_refuse_floats_for_money(ctx):
    with pytest.raises(TypeError):
        write_csv(io.BytesIO(), [Column("x", MONEY)], [[1.5]])


def test_a_writer_that_fails_midway_leaves_no_stream_or_temporary_file(ctx):
    import gc

    from openpyxl.worksheet._writer import ALL_TEMP_FILES

    def rows():
        yield ["0123", "Rosa"]
        raise OSError(28, "No space left on device")

    before = set(ALL_TEMP_FILES)
    columns = [Column("ID"), Column("Name")]
    with pytest.raises(OSError, match="No space left"):
        write_xlsx(io.BytesIO(), [Sheet("Done", columns, [["1", "A"]]),
                                  Sheet("Broken", columns, rows())])
    assert set(ALL_TEMP_FILES) == before
    gc.collect()  # nothing half-open is left for the collector (pytest fails on its errors)


def test_column_letters():
    assert [column_letter(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]


# ---- hostile files --------------------------------------------------------------------------

def _zip(entries: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _good_xlsx() -> bytes:
    return _xlsx([Sheet("S", [Column("Name")], [["Ana"]])])


def _replace_part(data: bytes, name: str, content: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        entries = {n: archive.read(n) for n in archive.namelist()}
    entries[name] = content
    return _zip(entries)


def test_refuses_a_text_file_named_xlsx(ctx):
    with pytest.raises(SpreadsheetRefused, match="really a CSV text file"):
        read_table(b"Nombre,Apellido\nAna,Rojas\n", filename="socios.xlsx")


def test_refuses_binary_garbage_named_csv(ctx):
    with pytest.raises(SpreadsheetRefused, match="content is not a CSV text file"):
        read_table(bytes(range(256)) * 4, filename="socios.csv")


def test_refuses_an_xlsx_named_csv_and_an_unknown_extension(ctx):
    with pytest.raises(SpreadsheetRefused, match="really an Excel workbook"):
        check_format(_good_xlsx(), "socios.csv")
    with pytest.raises(SpreadsheetRefused, match="Only .xlsx"):
        check_format(b"a,b", "socios.exe")


def test_refuses_a_truncated_zip(ctx):
    data = _good_xlsx()
    with pytest.raises(SpreadsheetRefused, match="damaged or incomplete"):
        read_table(data[: len(data) // 2], filename="socios.xlsx")


def test_refuses_an_xml_entity_declaration(ctx):
    evil = (b'<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><worksheet>&lol2;</worksheet>')
    data = _replace_part(_good_xlsx(), "xl/worksheets/sheet1.xml", evil)
    with pytest.raises(SpreadsheetRefused, match="DOCTYPE or ENTITY"):
        read_table(data, filename="socios.xlsx")


def test_refuses_a_dtd_hidden_behind_a_long_comment(ctx):
    evil = b"<?xml version='1.0'?><!--" + b"x" * 70_000 + b"--><!DOCTYPE x []><w/>"
    data = _replace_part(_good_xlsx(), "xl/worksheets/sheet1.xml", evil)
    with pytest.raises(SpreadsheetRefused, match="DOCTYPE or ENTITY"):
        read_table(data, filename="socios.xlsx")


def test_refuses_a_zip_bomb_by_its_uncompressed_size(ctx):
    data = _replace_part(_good_xlsx(), "xl/worksheets/sheet1.xml",
                         b"<worksheet>" + b" " * 3_000_000 + b"</worksheet>")
    limits = ReadLimits(max_uncompressed_bytes=2 * 1024 * 1024)
    with pytest.raises(SpreadsheetRefused, match="would unpack to"):
        read_table(data, filename="socios.xlsx", limits=limits)


def test_refuses_a_zip_bomb_by_its_compression_ratio(ctx):
    data = _replace_part(_good_xlsx(), "xl/worksheets/sheet1.xml",
                         b"<worksheet>" + b" " * 3_000_000 + b"</worksheet>")
    with pytest.raises(SpreadsheetRefused, match="compressed suspiciously well"):
        read_table(data, filename="socios.xlsx", limits=ReadLimits(max_compression_ratio=50))


def test_refuses_too_many_zip_entries(ctx):
    data = _good_xlsx()
    with pytest.raises(SpreadsheetRefused, match="too many parts"):
        read_table(data, filename="socios.xlsx", limits=ReadLimits(max_zip_entries=3))


def test_refuses_too_many_rows(ctx):
    data = ("Name\n" + "Ana\n" * 120).encode()
    with pytest.raises(SpreadsheetRefused, match="more than 50 rows"):
        read_table(data, filename="a.csv", limits=ReadLimits(max_rows=50))
    rows = [["Ana"]] * 120
    xlsx = _xlsx([Sheet("S", [Column("Name")], rows)])
    with pytest.raises(SpreadsheetRefused, match="more than 50 rows"):
        read_table(xlsx, filename="a.xlsx", limits=ReadLimits(max_rows=50))


def test_refuses_an_oversized_file(ctx):
    with pytest.raises(SpreadsheetRefused, match="Files up to 1 MB"):
        read_table(b"a" * (1024 * 1024 + 1), filename="a.csv",
                   limits=ReadLimits(max_bytes=1024 * 1024))


def test_refuses_a_zip_that_is_no_spreadsheet(ctx):
    with pytest.raises(SpreadsheetRefused, match="is not an Excel workbook"):
        read_table(_zip({"hello.txt": b"hi"}), filename="a.xlsx")


_BOMB = ('<?xml version="1.0" encoding="{enc}"?><!DOCTYPE lol [<!ENTITY lol "lol">'
         '<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><worksheet>&lol2;</worksheet>')


@pytest.mark.parametrize("encoding,bom", [
    ("utf-16-le", b""), ("utf-16-be", b""), ("utf-16-le", codecs.BOM_UTF16_LE),
    ("utf-16-be", codecs.BOM_UTF16_BE), ("utf-32-le", b""), ("utf-32-be", b""),
    ("utf-32-le", codecs.BOM_UTF32_LE), ("utf-32-be", codecs.BOM_UTF32_BE),
    ("utf-8", codecs.BOM_UTF8),
])
def test_refuses_an_entity_declaration_in_a_wide_encoding(ctx, encoding, bom):
    """The attack run's UTF-16 part passed the DOCTYPE refusal (its bytes were read as
    ASCII, and "<!DOCTYPE" hid between zero bytes); every part is read in its own encoding."""
    label = encoding.split("-")[0] + "-" + encoding.split("-")[1]
    evil = bom + _BOMB.format(enc=label.upper()).encode(encoding)
    data = _replace_part(_good_xlsx(), "xl/worksheets/sheet1.xml", evil)
    with pytest.raises(SpreadsheetRefused, match="DOCTYPE or ENTITY"):
        read_table(data, filename="socios.xlsx")


@pytest.mark.parametrize("part", [
    b"\x4c\x6f\xa7\x94",  # EBCDIC "<?xm"
    b'<?xml version="1.0" encoding="UTF-7"?>+ADw-!DOCTYPE x+AD4-<w/>',
])
def test_refuses_a_part_in_an_encoding_spreadsheets_never_use(ctx, part):
    data = _replace_part(_good_xlsx(), "xl/worksheets/sheet1.xml", part)
    with pytest.raises(SpreadsheetRefused):
        read_table(data, filename="socios.xlsx")


def test_a_clean_utf16_part_passes_the_container_check(ctx):
    """A clean UTF-16 part is no reason to refuse: only declarations are."""
    clean = _good_xlsx()
    with zipfile.ZipFile(io.BytesIO(clean)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode("utf-8")
    sheet = sheet.replace("encoding='UTF-8'", "encoding='UTF-16'").replace(
        'encoding="UTF-8"', 'encoding="UTF-16"')
    data = _replace_part(clean, "xl/worksheets/sheet1.xml", sheet.encode("utf-16"))
    check_zip_container(data, ReadLimits())  # not refused
