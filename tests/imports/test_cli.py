"""`coopreg members import` and `coopreg members export`."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from coopreg.extensions import db
from coopreg.imports.models import ImportRun
from coopreg.members.models import Member
from tests.imports.conftest import FIXTURES, HEADER, csv_bytes, good_row


@pytest.fixture
def run(app):
    runner = app.test_cli_runner()

    def invoke(*args):
        return runner.invoke(args=[str(a) for a in args])
    return invoke


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_import_prints_counts_and_problems_and_writes_nothing_on_failure(run, app, coop):
    result = run("members", "import", FIXTURES / "members-cp1252-semicolon.csv",
                 "--cooperative", coop.code)
    assert result.exit_code == 1
    assert "Read 4 rows" in result.output
    assert "created 2, updated 0" in result.output and "refused 2" in result.output
    assert "row 2, F · Cédula: [error] The same ID number is also on row 5" in result.output
    assert "Nothing was written." in result.output
    assert _count(app, Member) == 0 and _count(app, ImportRun) == 0


def test_import_valid_rows_only_and_dry_run(run, app, coop):
    path = FIXTURES / "members-title-rows.xlsx"
    dry = run("members", "import", path, "--cooperative", coop.code, "--dry-run",
              "--valid-rows-only")
    assert dry.exit_code == 0, dry.output
    assert "Dry run: nothing was written." in dry.output and _count(app, Member) == 0
    result = run("members", "import", path, "--cooperative", coop.code, "--valid-rows-only")
    assert result.exit_code == 0, result.output
    assert "created 3" in result.output and "refused 1" in result.output
    assert "Import recorded as run" in result.output
    assert _count(app, Member) == 3 and _count(app, ImportRun) == 1


def test_export_then_import_back_changes_nothing(run, app, coop, tmp_path):
    source = tmp_path / "socios.csv"
    source.write_bytes(csv_bytes([HEADER] + [good_row(n) for n in range(3)]))
    assert run("members", "import", source, "--cooperative", coop.code).exit_code == 0
    for fmt in ("xlsx", "csv"):
        out = tmp_path / f"register.{fmt}"
        exported = run("members", "export", "--cooperative", coop.code, "--format", fmt,
                       "-o", out)
        assert exported.exit_code == 0, exported.output
        assert "Wrote 3 members" in exported.output
        again = run("members", "import", out, "--cooperative", coop.code,
                    "--update-existing")
        assert again.exit_code == 0, again.output
        assert "created 0, updated 0, unchanged 3" in again.output
        assert "refused 0" in again.output
    assert _count(app, Member) == 3


def test_export_as_of_and_bad_arguments(run, coop, tmp_path):
    out = tmp_path / "r.xlsx"
    result = run("members", "export", "--cooperative", coop.code, "--as-of", "2000-01-01",
                 "-o", out)
    assert result.exit_code == 0 and "Wrote 0 members (on 2000-01-01)" in result.output
    assert run("members", "export", "--cooperative", coop.code, "--as-of", "yesterday",
               "-o", out).exit_code != 0
    assert run("members", "export", "--cooperative", "NOPE", "-o", out).exit_code != 0
    refused = run("members", "import", tmp_path / "r.xlsx", "--cooperative", coop.code)
    assert refused.exit_code == 0  # an empty register: nothing to do, nothing refused
