"""Files made by background jobs (the exports), and how long they are kept.

An export job writes its file to `<EXPORT_DIR>/jobs.tmp/<cooperative id>/job-<id>.<ext>` (a
folder name no cooperative code can take: codes have no dot), first as `.part`, renamed only
when complete, so a failing export never leaves a file to offer. The folder is not served:
the job's page links to `jobs.download`, which checks the cooperative and the roles of the
export's kind. Files are removed `EXPORT_RETENTION_HOURS` after their job ended (and at once
when their job failed or is gone) by `clean_job_files`, which every export job runs before
its own work and `coopreg jobs clean` runs on demand.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import current_app

from coopreg.auth.models import Role
from coopreg.core.diskspace import temporary_file
from coopreg.core.models import utcnow
from coopreg.core.security import read_only_transaction
from coopreg.core.tenancy import unscoped
from coopreg.core.text import ascii_digits
from coopreg.extensions import db
from coopreg.jobs.models import Job, JobStatus
from coopreg.jobs.services import Progress, job_handler

log = logging.getLogger(__name__)

JOB_FILES = "jobs.tmp"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"


@dataclass
class ExportedFile:
    """What an export writer tells about the file it wrote."""

    filename: str            # the download name, made by the app (never from user input)
    mimetype: str
    rows: int
    summary: Any             # a kept sentence (core.sentences), said when shown
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ExportKind:
    kind: str
    roles: tuple[Role, ...]


EXPORTS: dict[str, ExportKind] = {}
Writer = Callable[[Job, Any, Progress], ExportedFile]


def job_files_root() -> Path:
    return Path(current_app.config["EXPORT_DIR"]) / JOB_FILES


def job_file_dir(cooperative_id: int) -> Path:
    return job_files_root() / str(int(cooperative_id))


def export_job(kind: str, roles: tuple[Role, ...]):
    """Register an export as a background job. The writer is `writer(job, stream,
    progress) -> ExportedFile`: it writes the whole file to the binary stream. Who may
    download the file is `roles` (the roles of the export's page)."""
    def decorator(writer: Writer) -> Writer:
        EXPORTS[kind] = ExportKind(kind, tuple(roles))

        @job_handler(kind)
        def handler(job: Job, progress: Progress) -> dict:
            read_only_transaction()
            clean_job_files()
            directory = job_file_dir(job.cooperative_id)
            directory.mkdir(parents=True, exist_ok=True)
            partial = directory / f"job-{job.id}.part"
            with temporary_file(partial):  # a full disk: says so, leaves nothing
                with open(partial, "wb") as stream:
                    made = writer(job, stream, progress)
                suffix = Path(made.filename).suffix.lower()
                final = directory / f"job-{job.id}{suffix}"
                os.replace(partial, final)
            return {"summary": made.summary, "rows": made.rows, "filename": made.filename,
                    "mimetype": made.mimetype, "file": f"{job.cooperative_id}/{final.name}",
                    **made.extra}
        return writer
    return decorator


def finished_file(job: Job) -> Path | None:
    """The file of a succeeded export job, if it is still kept; None otherwise."""
    if job.kind not in EXPORTS or job.status != JobStatus.SUCCEEDED or not job.result:
        return None
    relative = str(job.result.get("file") or "")
    directory = job_file_dir(job.cooperative_id)
    path = (job_files_root() / relative).resolve()
    if path.parent != directory.resolve() or not path.name.startswith(f"job-{job.id}."):
        return None
    return path if path.is_file() else None


def may_download(job: Job, role: str | None) -> bool:
    kind = EXPORTS.get(job.kind)
    return kind is not None and role in {r.value for r in kind.roles}


def _job_id_of(path: Path) -> int | None:
    stem = path.name.split(".", 1)[0]
    if stem.startswith("job-") and ascii_digits(stem[4:]):
        return int(stem[4:])
    return None


def clean_job_files(retention_hours: float | None = None) -> int:
    """Remove the files of export jobs that ended more than the retention ago, of failed or
    vanished jobs, and anything else older than the retention. Returns how many went."""
    root = job_files_root()
    if not root.is_dir():
        return 0
    hours = (current_app.config["EXPORT_RETENTION_HOURS"] if retention_hours is None
             else retention_hours)
    cutoff = utcnow() - timedelta(hours=hours)
    oldest_mtime = time.time() - hours * 3600
    files = [p for p in root.glob("*/*") if p.is_file()]
    ids = {i for i in (_job_id_of(p) for p in files) if i is not None}
    jobs = {}
    if ids:
        rows = db.session.execute(db.select(Job.id, Job.cooperative_id, Job.status,
                                            Job.finished_at).where(Job.id.in_(ids))
                                 .execution_options(**unscoped(
                                     "the clean-up of the export folder, for every "
                                     "cooperative: it reads only the jobs' status")))
        jobs = {row.id: row for row in rows}
    removed = 0
    for path in files:
        job = jobs.get(_job_id_of(path))
        finished_at = job.finished_at if job is not None else None
        if finished_at is not None and finished_at.tzinfo is None:
            finished_at = finished_at.replace(tzinfo=cutoff.tzinfo)
        stale = (job is None or str(job.cooperative_id) != path.parent.name
                 or job.status == JobStatus.FAILED
                 or (finished_at is not None and finished_at < cutoff)
                 or path.stat().st_mtime < oldest_mtime)
        if stale:
            try:
                path.unlink()
                removed += 1
            except OSError as error:  # another process removed it first
                log.info("could not remove %s: %s", path, error)
    return removed
