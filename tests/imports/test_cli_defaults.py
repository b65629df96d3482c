"""`coopreg members import` with the web page's defaults (--default FIELD=VALUE), the
problems workbook (--problems FILE), and honest output after a refused real run."""

from __future__ import annotations

from datetime import date

from openpyxl import load_workbook
from sqlalchemy import func, select

from coopreg.extensions import db
from coopreg.imports.models import ImportRun
from coopreg.members.models import Member
from tests.imports.conftest import CEDULAS, csv_bytes

HAND_KEPT = ["First name", "Last name", "Sex", "Date of birth", "ID number", "Phone"]


def _register(tmp_path, rows: list[list[str]]):
    path = tmp_path / "registro.csv"
    path.write_bytes(csv_bytes([HAND_KEPT] + rows))
    return path


def _row(n: int, **changes) -> list[str]:
    row = {"First name": f"Eva{n}", "Last name": "Mora", "Sex": "female",
           "Date of birth": "17/05/1980", "ID number": CEDULAS[n], "Phone": "8888-1234"}
    row.update(changes)
    return [row[h] for h in HAND_KEPT]


def _invoke(app, *args):
    return app.test_cli_runner().invoke(args=[str(a) for a in args])


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_a_hand_kept_register_imports_with_defaults(app, coop, tmp_path):
    path = _register(tmp_path, [_row(0), _row(1)])
    refused = _invoke(app, "members", "import", path, "--cooperative", coop.code)
    assert refused.exit_code != 0
    assert "--default sector=" in refused.output and "--default joined_on=" in refused.output
    result = _invoke(app, "members", "import", path, "--cooperative", coop.code,
                     "--default", "sector=agriculture", "--default", "joined_on=2020-01-15")
    assert result.exit_code == 0, result.output
    assert "created 2" in result.output
    with app.app_context():
        members = db.session.scalars(select(Member)).all()
        assert {(m.sector.value, m.joined_on) for m in members} == {
            ("agriculture", date(2020, 1, 15))}
        run = db.session.scalar(select(ImportRun))
        assert run.options["defaults"] == {"sector": "agriculture", "joined_on": "2020-01-15"}


def test_a_bad_default_is_refused_with_a_clear_message(app, coop, tmp_path):
    path = _register(tmp_path, [_row(0)])
    for given, message in (("colour=blue", "these can: sector, joined_on"),
                           ("sector=farming", "is not a sector; the sectors are: agriculture"),
                           ("joined_on=15/01/2020", "write it as YYYY-MM-DD"),
                           ("joined_on=2999-01-01", "is in the future"),
                           ("sector", "FIELD=VALUE")):
        result = _invoke(app, "members", "import", path, "--cooperative", coop.code,
                         "--default", given, "--default", "joined_on=2020-01-15"
                         if not given.startswith("joined_on") else "sector=care")
        assert result.exit_code != 0, given
        assert "--default" in result.output and message in result.output, result.output
    assert _count(app, Member) == 0


def test_problems_file_and_a_refused_real_run_does_not_say_dry_run(app, coop, tmp_path):
    path = _register(tmp_path, [_row(0), _row(1, **{"Date of birth": "31/02/1980"}),
                                _row(2, **{"ID number": "123"})])
    problems = tmp_path / "problemas.xlsx"
    result = _invoke(app, "members", "import", path, "--cooperative", coop.code,
                     "--default", "sector=agriculture", "--default", "joined_on=2020-01-15",
                     "--problems", problems)
    assert result.exit_code == 1
    assert "dry run" not in result.output.lower()
    assert "nothing written: rows were refused" in result.output
    assert "Nothing was written." in result.output and _count(app, Member) == 0
    assert f"Problems file written to {problems}" in result.output
    book = load_workbook(problems, read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[0][:2] == ("Problems", "Source row")
    assert sorted(r[1] for r in rows[1:]) == ["3", "4"]
    assert all(r[0] for r in rows[1:])
    listed = list(book.worksheets[1].iter_rows(values_only=True))
    assert len(listed) >= 3
    # the dry run still says it is one
    dry = _invoke(app, "members", "import", path, "--cooperative", coop.code,
                  "--default", "sector=agriculture", "--default", "joined_on=2020-01-15",
                  "--dry-run")
    assert "(dry run: would be)" in dry.output and "Dry run: nothing was written." in dry.output
