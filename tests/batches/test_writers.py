"""The file writers, read back with an independent reader (python-calamine, not openpyxl):
types, leading zeros, dates, amounts, the summary sheet, formula injection in every format,
and fixed widths."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from python_calamine import CalamineWorkbook

from coopreg.batches.writers import Summary, excel_date_format, write_batch_file

INJECTIONS = ['=HYPERLINK("http://x","y")', "+1", "-1", "@SUM(1)", "\tTAB", "\rCR"]


def _layout(fmt: str, **kw) -> dict:
    columns = [
        {"header": "ID", "source": "member.id_number", "col_type": "text", "width": 12},
        {"header": "Name", "source": "member.last_name", "col_type": "text", "width": 30},
        {"header": "Born", "source": "member.date_of_birth", "col_type": "date",
         "date_pattern": "%d/%m/%Y", "width": 10},
        {"header": "Phone", "source": "member.phone", "col_type": "text", "width": 10},
        {"header": "Share", "source": "contribution.member_share", "col_type": "amount",
         "decimals": 2, "width": 10, "align": "right", "pad": "0"},
    ]
    return {"name": "t", "format": fmt, "encoding": kw.pop("encoding", "utf-8-sig"),
            "delimiter": kw.pop("delimiter", ","), "decimal_mark": ".",
            "include_header": kw.pop("include_header", True), "columns": columns, **kw}


def _summary(count: int = 2) -> Summary:
    return Summary(reference="B-000007", agreement="CCSS-1", institution="CCSS",
                   kind="remittance", period=date(2025, 3, 1), made_on=date(2025, 4, 2),
                   count=count, totals={"Total": Decimal("1500.50")}, total_minor=150050,
                   member_share_minor=150050)


ROWS = [["0102340567", "Núñez", "1980-05-17", "08881234", "1250.50"],
        ["0200010002", "O'Brien", "1975-12-01", None, "250.00"]]


def _write(layout, rows=ROWS, summary=None) -> tuple[bytes, str]:
    stream = io.BytesIO()
    checksum = write_batch_file(stream, layout, rows, summary or _summary(len(rows)),
                                widths=[10, 20, 10, 8, 8])
    return stream.getvalue(), checksum


def _sheets(data: bytes) -> dict[str, list[list]]:
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    return {name: workbook.get_sheet_by_name(name).to_python() for name in workbook.sheet_names}


def test_xlsx_keeps_ids_as_text_dates_as_dates_and_amounts_as_numbers():
    data, checksum = _write(_layout("xlsx"))
    sheets = _sheets(data)
    lines = sheets["Lines"]
    assert lines[0] == ["ID", "Name", "Born", "Phone", "Share"]
    assert lines[1] == ["0102340567", "Núñez", date(1980, 5, 17), "08881234", 1250.5]
    assert lines[2][:3] == ["0200010002", "O'Brien", date(1975, 12, 1)]
    assert lines[2][4] == 250.0
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        styles = archive.read("xl/styles.xml").decode()
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert 'numFmtId="4"' in styles and "dd/mm/yyyy" in styles  # 4 is Excel's #,##0.00
    assert '<pane xSplit="0" ySplit="1"' in sheet or 'ySplit="1"' in sheet  # frozen header
    assert "<autoFilter" in sheet
    # the data checksum is recomputable from the cells
    text = "".join("\t".join(v or "" for v in row) + "\n" for row in ROWS)
    assert checksum == hashlib.sha256(text.encode()).hexdigest()


def test_xlsx_summary_sheet():
    data, checksum = _write(_layout("xlsx"))
    summary = {row[0]: row[1:] for row in _sheets(data)["Summary"][1:]}
    assert summary["Batch reference"][0] == "B-000007"
    assert summary["Agreement"][0] == "CCSS-1"
    assert summary["Period"][0] == "Mar 2025"  # a month as people read it
    assert summary["Lines"][1] == 2
    assert summary["Total"][2] == 1500.5
    assert summary["Checksum of the data lines (SHA-256)"][0] == checksum


@pytest.mark.parametrize("value", INJECTIONS)
def test_xlsx_text_never_becomes_a_formula(value):
    data, _checksum = _write(_layout("xlsx"), rows=[[value, value, None, value, None]])
    assert _sheets(data)["Lines"][1][:2] == [value, value]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()


@pytest.mark.parametrize("value", INJECTIONS)
def test_csv_neutralises_formula_text(value):
    data, _checksum = _write(_layout("csv"), rows=[["1", value, "17/05/1980", None, "1.00"]])
    text = data.decode("utf-8-sig")
    assert data.startswith(b"\xef\xbb\xbf")
    import csv
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[1][1] == "'" + value


def test_csv_in_windows_1252_with_semicolons():
    layout = _layout("csv", encoding="cp1252", delimiter=";")
    data, _checksum = _write(layout, rows=[["0102340567", "Núñez", "17/05/1980", "0888",
                                           "1,50"]])
    assert not data.startswith(b"\xef\xbb\xbf")
    text = data.decode("cp1252")
    assert text.splitlines()[1] == '0102340567;Núñez;17/05/1980;0888;1,50'
    assert "\r\n" in text


def test_csv_reads_back_with_calamine_helpers_reader():
    from coopreg.core.spreadsheets import read_table
    data, _checksum = _write(_layout("csv"), rows=[["0102340567", "=1+1", "17/05/1980", "08",
                                                    "1.00"]])
    table = read_table(data, filename="b.csv")
    assert table.rows[1][:2] == ["0102340567", "=1+1"]  # the helper removes the quote again


def test_fixed_width_lines_have_the_exact_widths():
    layout = _layout("fixed", encoding="cp1252", include_header=False,
                     header_line="H{reference:<10}{period:%Y%m}{count:04d}",
                     footer_line="T{count:06d}{total_minor:012d}")
    rows = [["0102340567", "Núñez", "17/05/1980", "08881234", "125050"],
            ["0200010002", INJECTIONS[0][:29], "01/12/1975", None, "25000"]]
    data, _checksum = _write(layout, rows=rows)
    lines = data.decode("cp1252").split("\r\n")
    assert lines[0] == "HB-000007  2025030002"
    assert lines[1] == "0102340567  Núñez                         17/05/198008881234  0000125050"
    width = 12 + 30 + 10 + 10 + 10
    assert all(len(line) == width for line in lines[1:3])
    assert lines[2][12:42] == ("'" + INJECTIONS[0]).ljust(30)  # neutralised like CSV
    assert lines[3] == "T000002000000150050"
    assert lines[4] == ""


@pytest.mark.parametrize("value", ["\tTAB", "\rCR", "line\nbreak", "x" * 31])
def test_fixed_width_refuses_what_would_break_a_record(value):
    with pytest.raises(ValueError):
        _write(_layout("fixed", include_header=False), rows=[["1", value, None, None, "1"]])


def test_excel_date_formats():
    assert excel_date_format("%d/%m/%Y") == "dd/mm/yyyy"
    assert excel_date_format("%Y-%m") == "yyyy-mm"
    assert excel_date_format(None) == "yyyy-mm-dd"
    assert excel_date_format("%j") == "yyyy-mm-dd"


# ---- issue 15, item 7: every writer neutralises titles, header and footer records, summaries

HOSTILE = '=HYPERLINK("http://evil.example","open me")'


def _hostile_layout(fmt: str) -> dict:
    layout = _layout(fmt, encoding="utf-8-sig" if fmt != "fixed" else "cp1252",
                     header_line=HOSTILE + "{count:04d}", footer_line="@SUM(1){count:04d}")
    layout["columns"] = [dict(c) for c in layout["columns"]]
    layout["columns"][0]["header"] = "=1+1"
    layout["columns"][1]["header"] = HOSTILE[:29]
    layout["columns"][4]["header"] = "-Share"
    return layout


def test_fixed_width_titles_header_and_footer_records_are_neutralised():
    data, _checksum = _write(_hostile_layout("fixed"),
                             rows=[["1", "Ana", "17/05/1980", None, "-12.50"]])
    lines = data.decode("cp1252").split("\r\n")
    assert lines[0] == "'" + HOSTILE + "0001"  # the layout's header record
    assert lines[1].startswith("'=1+1") and "'=HYPERLINK" in lines[1]  # the column titles
    assert "'-Share" in lines[1]
    assert "-12.50" in lines[2] and "'-12.50" not in lines[2]  # a negative amount stays one
    assert lines[3] == "'@SUM(1)0001"  # the footer record
    for line in lines:
        assert not line.startswith(("=", "+", "-", "@"))


def test_fixed_width_non_text_columns_neutralise_what_is_not_a_figure():
    from coopreg.batches.layouts import fixed_cell
    number = {"col_type": "number", "width": 12}
    assert fixed_cell("-12.50", number).strip() == "-12.50"  # a figure stays a figure
    assert fixed_cell("=1+1", number).strip() == "'=1+1"
    assert fixed_cell("-2+3+cmd|x", number).strip() == "'-2+3+cmd|x"
    assert fixed_cell("@SUM(1)", {"col_type": "date", "width": 10}).strip() == "'@SUM(1)"


def test_fixed_width_records_refuse_a_tab():
    layout = _hostile_layout("fixed")
    layout["header_line"] = "H\t{count:04d}"
    with pytest.raises(ValueError):
        _write(layout, rows=[["1", "Ana", "17/05/1980", None, "1.00"]])


def test_csv_titles_are_neutralised():
    import csv
    data, _checksum = _write(_hostile_layout("csv"),
                             rows=[["1", "Ana", "17/05/1980", None, "1.00"]])
    titles = next(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert titles[0] == "'=1+1" and titles[1] == "'" + HOSTILE[:29] and titles[4] == "'-Share"


def test_xlsx_titles_summary_and_unreadable_dates_never_become_formulas():
    summary = _summary(1)
    summary.agreement = HOSTILE
    summary.totals = {"=SUM(A1)": Decimal("1.00")}
    data, _checksum = _write(_hostile_layout("xlsx"),
                             rows=[["1", "Ana", "=1+2", None, "1.00"]], summary=summary)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert "<f>" not in archive.read(name).decode(), name
    sheets = _sheets(data)
    assert sheets["Lines"][0][0] == "=1+1" and sheets["Lines"][1][2] == "=1+2"
    assert [HOSTILE] in [row[1:2] for row in sheets["Summary"]]
