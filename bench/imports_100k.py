"""Benchmark: a 100,000-row member spreadsheet through the import (read, preview, commit) and
the register export, against python-calamine's pure read time of the same file.

    .venv/bin/python bench/imports_100k.py [ROWS] [DATABASE_URL]

Prints the seconds of each step and the ratio (preview + commit) / calamine read, in wall
time and in this process's CPU time (steadier on a shared machine; on PostgreSQL the server's
work is not in it), rows per second, and the process's peak memory after each step.
"""

from __future__ import annotations

import io
import resource
import sys
import tempfile
import time
from datetime import date, timedelta

import python_calamine
from flask_migrate import upgrade
from stdnum.cr import cpf

from config import TestConfig
from coopreg import create_app
from coopreg.core.audit import acting_as
from coopreg.core.spreadsheets import Column, Sheet, write_xlsx
from coopreg.extensions import db
from coopreg.imports import export, services
from coopreg.imports.fields import FIELDS


def cedulas(n: int):
    found = 0
    number = 102_340_000
    while found < n:
        number += 1
        text = f"0{number}"
        try:
            cpf.validate(text)
        except Exception:  # noqa: BLE001, S112 - skip the numbers without a valid form
            continue
        found += 1
        yield text


def make_file(rows: int) -> bytes:
    columns = [Column(f.header, f.kind) for f in FIELDS]
    ids = cedulas(rows)

    def produce():
        for n in range(rows):
            yield ["", f"Ana{n}", "", f"Rojas{n % 997}", "", "female" if n % 2 else "male",
                   date(1960, 1, 1) + timedelta(days=n % 15000), "cr_cedula", next(ids),
                   f"8{n % 10_000_000:07d}", "Barrio Norte", "San Carlos", "agriculture",
                   "Farmer", None, date(2015, 1, 1) + timedelta(days=n % 3000), "no", None,
                   None, ""]

    buffer = io.BytesIO()
    write_xlsx(buffer, [Sheet("Members", columns, produce())])
    return buffer.getvalue()


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    tmp = tempfile.mkdtemp(prefix="coopreg-bench-")
    url = sys.argv[2] if len(sys.argv) > 2 else f"sqlite:///{tmp}/bench.sqlite"
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url, IMPORT_DIR=f"{tmp}/imports",
                     EXPORT_DIR=f"{tmp}/exports", MAX_CONTENT_LENGTH=200 * 1024 * 1024)
    started = time.perf_counter()
    data = make_file(rows)
    print(f"made {rows} rows: {len(data) / 1e6:.1f} MB in {time.perf_counter() - started:.1f}s")
    started, cpu = time.perf_counter(), time.process_time()
    workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    workbook.get_sheet_by_index(0).to_python()
    calamine = time.perf_counter() - started
    calamine_cpu = time.process_time() - cpu
    del workbook
    print(f"calamine read: {calamine:.2f}s (cpu {calamine_cpu:.2f}s); peak {peak_mb():.0f} MB")
    with app.test_request_context(), acting_as(None, "bench"):
        upgrade()
        from coopreg.cooperatives.services import create_cooperative

        cooperative = create_cooperative("BENCH", "Bench", "CR", "CRC")
        db.session.commit()
        started = time.perf_counter()
        run = services.store_upload(cooperative, None, "bench.xlsx", data)
        run.mapping = {str(i): f.key for i, f in enumerate(FIELDS)}
        run.header_row = 1
        db.session.commit()
        upload = time.perf_counter() - started
        started, cpu = time.perf_counter(), time.process_time()
        analysis = services.preview_run(run)
        db.session.commit()
        preview = time.perf_counter() - started
        preview_cpu = time.process_time() - cpu
        print(f"upload check: {upload:.2f}s, preview: {preview:.2f}s (cpu {preview_cpu:.2f}s) "
              f"{analysis.counts}; peak {peak_mb():.0f} MB")
        del analysis
        started, cpu = time.perf_counter(), time.process_time()
        analysis = services.commit_run(run)
        db.session.commit()
        commit = time.perf_counter() - started
        commit_cpu = time.process_time() - cpu
        print(f"commit: {commit:.2f}s (cpu {commit_cpu:.2f}s) {analysis.counts}; "
              f"peak {peak_mb():.0f} MB")
        del analysis
        print(f"(preview + commit) / calamine = {(preview + commit) / calamine:.1f} "
              f"(cpu: {(preview_cpu + commit_cpu) / calamine_cpu:.1f}); "
              f"{rows / (preview + commit):,.0f} rows/s")
        started = time.perf_counter()
        count = export.export_register(cooperative, None, "xlsx", f"{tmp}/export.xlsx")
        print(f"export of {count}: {time.perf_counter() - started:.2f}s")


if __name__ == "__main__":
    main()
