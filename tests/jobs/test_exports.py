"""Exports as background jobs: the same file as the export made inside the request, progress
in chunks, a download link that survives a reload, the cooperative and the roles checked on
the download, failures that offer no file, and files removed after their retention."""

from __future__ import annotations

import io
import os
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from coopreg.cooperatives.models import Cooperative
from coopreg.core.audit import acting_as
from coopreg.core.models import utcnow
from coopreg.extensions import db
from coopreg.imports import export as member_export
from coopreg.jobs import files, services
from coopreg.jobs.models import Job, JobStatus
from tests.conftest import login

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def export_dir(app, tmp_path, monkeypatch) -> Path:
    """A fresh exports folder for the test (the app is shared by the whole suite)."""
    monkeypatch.setitem(app.config, "EXPORT_DIR", str(tmp_path))
    return tmp_path


def _sheets(data: bytes) -> dict[str, list[list]]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    try:
        return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}
    finally:
        book.close()


def _download(client, job_page: str):
    response = client.get(job_page + "/download")
    data = response.get_data()
    response.close()
    return response, data


def _start(client, url: str, data: dict | None = None) -> tuple[str, int]:
    started = client.post(url, data=data or {})
    assert started.status_code == 302, started.get_data(as_text=True)[:300]
    job_page = started.headers["Location"]
    match = re.fullmatch(r"/jobs/(\d+)", job_page)
    assert match, job_page
    return job_page, int(match.group(1))


def _in_request_export(app, coop, fmt: str, as_of=None) -> bytes:
    """What the export view wrote into its response before exports became jobs."""
    buffer = io.BytesIO()
    with app.test_request_context():
        cooperative = db.session.get(Cooperative, coop.id)
        member_export.export_register(cooperative, as_of, fmt, buffer)
    return buffer.getvalue()


def _members(make_member, coop, count: int = 3) -> None:
    for n in range(count):
        make_member(coop, first_name=f"Socia{n}", phone="08881234",
                    notes='=HYPERLINK("http://evil.example","x")' if n == 0 else "",
                    joined_on=date(2020, 1, 1) + timedelta(days=n))


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_job_writes_the_file_the_request_used_to(app, as_role, coop, make_member,
                                                      export_dir, fmt):
    _members(make_member, coop)
    client = as_role("treasurer")
    job_page, job_id = _start(client, "/imports/export", {"as_of": "", "format": fmt})
    page = client.get(job_page).get_data(as_text=True)
    assert f'href="/jobs/{job_id}/download"' in page
    assert "3 members exported." in page
    response, data = _download(client, job_page)
    assert response.status_code == 200
    assert response.mimetype == (XLSX if fmt == "xlsx" else "text/csv")
    assert f"members-CRTEST-{date.today().isoformat()}.{fmt}" in \
        response.headers["Content-Disposition"]
    expected = _in_request_export(app, coop, fmt)
    if fmt == "csv":
        assert data == expected
        return
    got, want = _sheets(data), _sheets(expected)
    assert list(got) == list(want) == ["Members", "About"]
    assert got["Members"] == want["Members"]
    assert len(got["Members"]) == 4
    # the About sheet differs only by the minute of export
    assert [r for r in got["About"] if r[0] != "Exported at (UTC)"] == \
        [r for r in want["About"] if r[0] != "Exported at (UTC)"]
    # the spreadsheet safety of the export is kept: text stays text, no formula
    sheet = load_workbook(io.BytesIO(data))["Members"]
    header = [c.value for c in sheet[1]]
    phone, notes = header.index("Phone"), header.index("Notes")
    phones = {row[phone].value for row in sheet.iter_rows(min_row=2)}
    assert phones == {"08881234"}
    hostile = next(row[notes] for row in sheet.iter_rows(min_row=2)
                   if str(row[notes].value).startswith("=HYPERLINK"))
    assert hostile.data_type == "s"


def test_the_page_survives_a_reload_and_the_status_says_done(as_role, coop, make_member,
                                                              export_dir):
    _members(make_member, coop, 2)
    client = as_role("secretary")
    job_page, job_id = _start(client, "/imports/export", {"format": "xlsx"})
    for _reload in range(2):
        page = client.get(job_page)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "<progress" in html and 'data-finished="yes"' in html
        assert f'href="/jobs/{job_id}/download"' in html
        assert "Member export" in html
    state = client.get(job_page + "/status").get_json()
    assert state["status"] == "succeeded" and state["percent"] == 100
    response, data = _download(client, job_page)
    assert response.status_code == 200
    assert len(_sheets(data)["Members"]) == 3


def test_progress_is_reported_chunk_by_chunk(as_role, coop, make_member, export_dir,
                                              monkeypatch):
    _members(make_member, coop, 7)
    monkeypatch.setattr(member_export, "PROGRESS_EVERY", 2)
    reports: list[tuple[int, int, str]] = []
    write = services._write_progress

    def recording(job_id, done, total, message):
        reports.append((done, total, message))
        write(job_id, done, total, message)

    monkeypatch.setattr(services, "_write_progress", recording)
    client = as_role("admin")
    job_page, _job_id = _start(client, "/imports/export", {"format": "csv"})
    done = [r[0] for r in reports]
    assert done[1:5] == [0, 2, 4, 6]  # after "Waiting to start…": one report per chunk
    assert all(r[1] == 7 for r in reports[1:])
    assert reports[2][2] == "2 of about 7 members written"
    assert reports[-1][:2] == (7, 7) and reports[-1][2] == "Done"


def test_another_cooperatives_job_and_file_answer_404(app, client, coop, other_coop,
                                                       make_user, make_member, export_dir):
    _members(make_member, other_coop, 1)
    _uid, theirs = make_user(other_coop, "admin")
    login(client, theirs, cooperative=other_coop)
    job_page, _job_id = _start(client, "/imports/export", {"format": "xlsx"})
    assert _download(client, job_page)[0].status_code == 200
    _uid, ours = make_user(coop, "admin")
    client = app.test_client()
    login(client, ours, cooperative=coop)
    assert client.get(job_page).status_code == 404
    assert client.get(job_page + "/status").status_code == 404
    assert _download(client, job_page)[0].status_code == 404


def test_only_the_roles_of_the_export_may_download(app, client, coop, make_user,
                                                    make_member, export_dir):
    _members(make_member, coop, 1)
    _uid, treasurer = make_user(coop, "treasurer")
    login(client, treasurer, cooperative=coop)
    members_page, _id = _start(client, "/imports/export", {"format": "xlsx"})
    arrears_page, _id = _start(client, "/contributions/arrears/export", {"days": "0"})
    _uid, viewer = make_user(coop, "viewer")
    office = client
    client = app.test_client()
    login(client, viewer, cooperative=coop)
    assert client.post("/imports/export", data={"format": "xlsx"}).status_code == 403
    assert client.post("/contributions/arrears/export").status_code == 403
    for job_page in (members_page, arrears_page):
        page = client.get(job_page)
        assert page.status_code == 200  # the progress is no secret
        assert "/download" not in page.get_data(as_text=True)
        assert _download(client, job_page)[0].status_code == 403
    coverage_page, _id = _start(client, "/agreements/coverage/export")
    response, data = _download(client, coverage_page)
    assert response.status_code == 200 and "Summary" in _sheets(data)
    # a job that makes no file has nothing to download, and a file is only ever looked for
    # in the job's own cooperative folder, under the job's own name
    with app.app_context():
        jobs = [Job(cooperative_id=coop.id, kind=kind, params={}, status=JobStatus.SUCCEEDED,
                    result={"file": path, "filename": "x.xlsx"})
                for kind, path in (("members_import", "../../config.py"),
                                   ("members_export", "../../config.py"),
                                   ("members_export", f"{coop.id}/../../../config.py"))]
        db.session.add_all(jobs)
        db.session.commit()
        ids = [job.id for job in jobs]
    for job_id in ids:
        assert _download(office, f"/jobs/{job_id}")[0].status_code == 404


def _kept_files(export_dir: Path, coop) -> set[str]:
    folder = export_dir / files.JOB_FILES / str(coop.id)
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def test_a_failing_export_fails_the_job_and_offers_no_file(as_role, coop, make_member,
                                                            export_dir, monkeypatch):
    _members(make_member, coop, 3)
    write_xlsx = member_export.write_xlsx

    def failing_midway(target, sheets):
        """The real writer, on a disk that fills up after two members."""
        def rows():
            for n, row in enumerate(sheets[0].rows):
                if n == 2:
                    raise OSError(28, "No space left on device")
                yield row
        sheets[0].rows = rows()
        write_xlsx(target, sheets)

    monkeypatch.setattr(member_export, "write_xlsx", failing_midway)
    client = as_role("admin")
    job_page, job_id = _start(client, "/imports/export", {"format": "xlsx"})
    page = client.get(job_page).get_data(as_text=True)
    assert "The job stopped on an unexpected error" in page
    assert "/download" not in page
    assert _download(client, job_page)[0].status_code == 404
    assert _kept_files(export_dir, coop) == set()  # not even the partial file
    assert client.get(job_page + "/status").get_json()["status"] == "failed"


def test_a_refused_export_says_why(app, as_role, coop, export_dir):
    client = as_role("admin")
    with app.test_request_context(), acting_as(None, "tests"):
        job = services.create_job(coop.id, member_export.EXPORT_JOB, None, {"format": "pdf"})
        db.session.commit()
        services.start_job(job.id)
        job = db.session.get(Job, job.id)
        assert job.status == JobStatus.FAILED and job.result is None
        job_id = job.id
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "Export as xlsx or csv." in page
    assert _kept_files(export_dir, coop) == set()


def test_files_are_removed_after_their_retention(app, as_role, coop, make_member, export_dir):
    _members(make_member, coop, 1)
    client = as_role("admin")
    old_page, old_id = _start(client, "/imports/export", {"format": "csv"})
    new_page, new_id = _start(client, "/imports/export", {"format": "xlsx"})
    assert _kept_files(export_dir, coop) == {f"job-{old_id}.csv", f"job-{new_id}.xlsx"}
    stray = export_dir / files.JOB_FILES / str(coop.id) / "job-999999.xlsx"
    stray.write_bytes(b"left by a job that is gone")
    with app.app_context():
        db.session.get(Job, old_id).finished_at = utcnow() - timedelta(hours=25)
        db.session.commit()
        assert files.clean_job_files() == 2
    assert _kept_files(export_dir, coop) == {f"job-{new_id}.xlsx"}
    page = client.get(old_page).get_data(as_text=True)
    assert "This file is no longer kept" in page and "/download" not in page
    assert _download(client, old_page)[0].status_code == 404
    assert _download(client, new_page)[0].status_code == 200
    # a retention that is not a number of hours is refused, and removes nothing
    for bad in ("-1", "a day"):
        refused = app.test_cli_runner().invoke(args=["jobs", "clean", "--older-than", bad])
        assert refused.exit_code == 2 and "--older-than" in refused.output, refused.output
    assert _kept_files(export_dir, coop) == {f"job-{new_id}.xlsx"}
    # the command line removes what is past a retention given on the spot
    result = app.test_cli_runner().invoke(args=["jobs", "clean", "--older-than", "0"])
    assert result.exit_code == 0, result.output
    assert "1 export file(s) removed." in result.output
    assert _kept_files(export_dir, coop) == set()


def test_each_export_job_cleans_before_it_writes(app, as_role, coop, make_member,
                                                  export_dir):
    _members(make_member, coop, 1)
    client = as_role("admin")
    _page, first = _start(client, "/imports/export", {"format": "csv"})
    path = export_dir / files.JOB_FILES / str(coop.id) / f"job-{first}.csv"
    old = (utcnow() - timedelta(hours=30)).timestamp()
    os.utime(path, (old, old))
    with app.app_context():
        db.session.get(Job, first).finished_at = utcnow() - timedelta(hours=30)
        db.session.commit()
    _page, second = _start(client, "/imports/export", {"format": "csv"})
    assert _kept_files(export_dir, coop) == {f"job-{second}.csv"}


def test_the_arrears_and_coverage_jobs_write_the_same_files(app, as_role, coop,
                                                             make_member, export_dir):
    from coopreg.agreements.coverage import coverage_report, coverage_workbook
    from coopreg.contributions import reports

    _members(make_member, coop, 2)
    client = as_role("admin")
    arrears_page, _id = _start(client, "/contributions/arrears/export",
                               {"days": "5", "periods": "1"})
    coverage_page, _id = _start(client, "/agreements/coverage/export")
    with app.test_request_context():
        arrears = reports.arrears_workbook(coop.id, "CRC", min_days=5, min_periods=1)
        coverage = coverage_workbook(coverage_report(coop.id), coop.name)
    for job_page, expected in ((arrears_page, arrears), (coverage_page, coverage)):
        response, data = _download(client, job_page)
        assert response.status_code == 200 and response.mimetype == XLSX
        assert _sheets(data) == _sheets(expected)


def test_the_command_line_export_stays_synchronous(app, coop, make_member, export_dir,
                                                    tmp_path):
    _members(make_member, coop, 2)
    target = tmp_path / "out.xlsx"
    with app.app_context():
        jobs_before = db.session.scalar(db.select(db.func.count()).select_from(Job))
    result = app.test_cli_runner().invoke(args=["members", "export", "--cooperative",
                                                coop.code, "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert len(_sheets(target.read_bytes())["Members"]) == 3
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Job)) == jobs_before


@pytest.mark.no_transaction
def test_an_export_on_sqlite_keeps_no_write_lock(tmp_path, monkeypatch):
    """On a SQLite file every transaction takes the write lock at BEGIN; an export job reads
    in a deferred one instead, so the office can save while a long export runs."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from config import TestConfig
    from coopreg import create_app
    from coopreg.cooperatives.services import create_cooperative
    from coopreg.members.services import create_member
    from tests.conftest import member_data

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'db.sqlite'}",
                     EXPORT_DIR=str(tmp_path / "exports"))
    try:
        with app.app_context():
            upgrade()
            with acting_as(None, "tests"):
                cooperative = create_cooperative("LOCK", "Lock", "CR", "CRC")
                for n in range(3):
                    create_member(cooperative, member_data(second_last_name=f"L{n}"),
                                  confirm_duplicate=True)
                db.session.commit()
                coop_id = cooperative.id
        monkeypatch.setattr(member_export, "PROGRESS_EVERY", 1)
        saved: list[str] = []
        write = services._write_progress

        def save_elsewhere(job_id, done, total, message):
            write(job_id, done, total, message)
            if done == 2 and not saved:  # in the middle of the export
                with db.engine.connect() as other:
                    other.execute(text("UPDATE cooperatives SET name = 'Saved meanwhile' "
                                       "WHERE id = :id"), {"id": coop_id})
                    other.commit()
                saved.append("yes")

        monkeypatch.setattr(services, "_write_progress", save_elsewhere)
        with app.test_request_context(), acting_as(None, "tests"):
            cooperative = db.session.get(Cooperative, coop_id)
            job = member_export.start_export(cooperative, None, None, "csv")
            db.session.commit()
            services.start_job(job.id)
            job = db.session.get(Job, job.id)
            assert job.status == JobStatus.SUCCEEDED, job.error
            assert job.result["rows"] == 3
            assert saved == ["yes"]
            db.session.expire_all()
            assert db.session.get(Cooperative, coop_id).name == "Saved meanwhile"
    finally:
        with app.app_context():
            db.engine.dispose()
