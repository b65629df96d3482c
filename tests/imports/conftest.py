"""Fixtures of the imports tests: uploads kept in a temporary folder per test, the Costa Rican
cooperative in the test's session, and files built in memory."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(autouse=True)
def _import_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_DIR", str(tmp_path / "imports"))


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def csv_bytes(rows: list[list[str]], *, delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    return "\r\n".join(delimiter.join(r) for r in rows).encode(encoding)


HEADER = ["First name", "Last name", "Sex", "Date of birth", "ID number", "Phone", "Sector",
          "Joined on"]

# Valid Costa Rican cédulas (check digit correct).
CEDULAS = ["0102340371", "0111111248", "0145674704", "0108901027", "0202340508", "0211111385",
           "0245674841", "0208901164", "0302340645", "0311111522", "0345674978", "0308901301"]


def good_row(n: int = 0, **changes) -> list[str]:
    row = {"First name": f"Ana{n}", "Last name": "Rojas", "Sex": "female",
           "Date of birth": "17/05/1980", "ID number": CEDULAS[n % len(CEDULAS)],
           "Phone": "8888-1234", "Sector": "agriculture", "Joined on": "2020-01-15"}
    row.update(changes)
    return [row[h] for h in HEADER]


def as_upload(data: bytes, name: str):
    return (io.BytesIO(data), name)


@pytest.fixture
def enrol(ctx):
    """`enrol(cooperative, **fields)`: a member created through the member service."""
    from coopreg.members import services
    from tests.conftest import member_data

    def factory(cooperative, **overrides):
        return services.create_member(cooperative, member_data(**overrides),
                                      confirm_duplicate=True)
    return factory
