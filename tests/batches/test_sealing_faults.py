"""Item 4 of issue 26: a worker killed during a sealing leaves no file under a batch's name;
the retry writes the batch's own name (no `-2` copy); a worker's start finishes a sealing
that committed before its file took its name, and moves aside what no sealed batch
records. "Killed": nothing of the sealing runs after the point named (no cleanup, no
commit), as with SIGKILL."""

from __future__ import annotations

from pathlib import Path

from coopreg.batches import jobs as batch_jobs
from coopreg.batches import services
from coopreg.batches.files import tidy_exports
from coopreg.batches.models import Batch
from coopreg.extensions import db
from coopreg.jobs.models import Job, JobStatus
from coopreg.jobs.services import start_job


def _draft(app, cr, agreement, ready, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "EXPORT_DIR", str(tmp_path))
    ready(2)
    batch = services.create_batch(cr, agreement, "enrolment", None)
    db.session.commit()
    return batch, tmp_path / cr.code, f"{batch.reference}-enrolment.xlsx"


def _seal_by_job(batch) -> Batch:
    job = batch_jobs.queue_seal(db.session.get(Batch, batch.id), None)
    db.session.commit()
    start_job(job.id)
    job = db.session.get(Job, job.id)
    assert job.status == JobStatus.SUCCEEDED, job.error
    return db.session.get(Batch, batch.id)


def test_a_sealing_killed_before_its_commit_leaves_no_file_under_the_batchs_name(
        app, cr, agreement, ready, tmp_path, monkeypatch):
    batch, folder, name = _draft(app, cr, agreement, ready, tmp_path, monkeypatch)
    services.seal_batch(batch, None, str(tmp_path), place=False)  # the job's way
    db.session.rollback()  # killed here: no commit, no cleanup
    left = [p.name for p in folder.iterdir()]
    assert len(left) == 1 and left[0].startswith(f".sealing-{batch.id}-"), left
    assert not (folder / name).exists()

    batch = _seal_by_job(batch)  # its lease lapsed: the job runs again
    assert batch.file_path == f"{folder.name}/{name}"
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == [name]
    services.verified_file(batch, tmp_path)

    report = tidy_exports(tmp_path, grace_seconds=0)  # what a worker does when it starts
    assert report.moved_aside == [f"{folder.name}/{left[0]}"] and report.completed == []
    assert [p.name for p in folder.iterdir()] == [name]
    assert list((tmp_path / "unrecorded").rglob(left[0]))


def test_a_retry_reuses_the_batchs_name_over_an_unrecorded_file(
        app, cr, agreement, ready, tmp_path, monkeypatch):
    """What the old sealing left (the file placed under the batch's name, then killed before
    the commit): the retry takes the name, and the unrecorded file is kept aside."""
    batch, folder, name = _draft(app, cr, agreement, ready, tmp_path, monkeypatch)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(b"written by a sealing that never committed")
    batch = _seal_by_job(batch)
    assert batch.file_path == f"{folder.name}/{name}"
    assert sorted(p.name for p in folder.iterdir()) == [name], "no -2 copy"
    assert services.sha256_file(folder / name) == batch.sha256
    aside = list((tmp_path / "unrecorded").rglob(name))
    assert len(aside) == 1
    assert aside[0].read_bytes() == b"written by a sealing that never committed"


def test_a_sealing_killed_after_its_commit_gets_its_name_when_a_worker_starts(
        app, cr, agreement, ready, tmp_path, monkeypatch):
    batch, folder, name = _draft(app, cr, agreement, ready, tmp_path, monkeypatch)
    pending = services.seal_batch(batch, None, str(tmp_path), place=False)
    db.session.commit()  # killed here: committed, the file still has its temporary name
    assert not (folder / name).exists() and pending.temporary.exists()
    young = tidy_exports(tmp_path)  # a committed sealing's file is finished at once
    assert young.completed == [f"{folder.name}/{name}"] and young.moved_aside == []
    content, download_name = services.verified_file(db.session.get(Batch, batch.id), tmp_path)
    assert content and download_name == name
    assert [p.name for p in folder.iterdir()] == [name]


def test_the_tidy_command_reports_what_it_moved(app, cr, agreement, ready, tmp_path,
                                                monkeypatch):
    batch, folder, name = _draft(app, cr, agreement, ready, tmp_path, monkeypatch)
    batch = _seal_by_job(batch)
    stray = folder / "B-999999-enrolment.xlsx"
    stray.write_bytes(b"picked by mistake?")
    result = app.test_cli_runner().invoke(args=["batches", "tidy", "--grace-minutes", "0"])
    assert result.exit_code == 0, result.output
    assert f"{folder.name}/{stray.name}: recorded by no sealed batch" in result.output
    assert sorted(p.name for p in folder.iterdir()) == [name]
    assert Path(tmp_path / "unrecorded").exists()
