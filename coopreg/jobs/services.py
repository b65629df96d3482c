"""Running long work in the background, with progress a page can poll.

A job is created (and committed) by a view or command, then handed to the queue. The worker
runs its handler in one unit of work: everything the handler writes is committed at the end,
or nothing is (the job is then marked failed with the reason), so a retry starts clean.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, has_app_context, has_request_context
from flask_babel import get_locale
from flask_babel import gettext as _

from coopreg.core.audit import acting_as
from coopreg.core.errors import DomainError
from coopreg.core.languages import language_or_default, speaking
from coopreg.core.models import utcnow
from coopreg.extensions import db
from coopreg.jobs.models import Job, JobStatus
from coopreg.jobs.queue import huey

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]
HANDLERS: dict[str, Callable[[Job, Progress], dict]] = {}
_worker_app: Flask | None = None


def job_handler(kind: str):
    """Register the function that does the work of jobs of this kind:
    `handler(job, progress) -> result dict`; call `progress(done, total, message)` as it goes."""
    def decorator(function):
        HANDLERS[kind] = function
        return function
    return decorator


def _progress_key(job_id: int) -> str:
    return f"coopreg:job-progress:{job_id}"


def read_progress(job_id: int) -> dict[str, Any]:
    return huey.get(_progress_key(job_id), peek=True) or {"done": 0, "total": 0, "message": ""}


def _write_progress(job_id: int, done: int, total: int, message: str) -> None:
    huey.put(_progress_key(job_id), {"done": done, "total": total, "message": message,
                                     "at": time.time()})


def starting_language(cooperative_id: int, language: str | None = None) -> str:
    """The language a job started now speaks: `language` when given (a CLI's --lang), else
    the page's (the person who started it, in a request), else the cooperative's."""
    if language:
        return language_or_default(language)
    if has_request_context():
        return language_or_default(str(get_locale()))
    from coopreg.cooperatives.models import Cooperative

    cooperative = db.session.get(Cooperative, cooperative_id)
    return language_or_default(cooperative.locale if cooperative is not None else None)


def create_job(cooperative_id: int, kind: str, user_id: int | None,
               params: dict[str, Any], *, language: str | None = None) -> Job:
    """A queued job; the caller commits, then calls `start_job`. It will speak the language
    of the person who started it (see `starting_language`)."""
    if kind not in HANDLERS:
        raise DomainError(_("Unknown kind of job: %(kind)s", kind=kind))
    job = Job(cooperative_id=cooperative_id, kind=kind, created_by_id=user_id, params=params,
              status=JobStatus.QUEUED, language=starting_language(cooperative_id, language))
    db.session.add(job)
    db.session.flush()
    _write_progress(job.id, 0, 0, _("Waiting to start…"))
    return job


def start_job(job_id: int) -> None:
    """Hand a committed job to the queue. With JOBS_IMMEDIATE (tests) it runs at once, to
    its end, but as in the worker: in a thread of its own, with no request and a fresh
    application context, so what it says comes from the job, never from the page."""
    global _worker_app
    if has_app_context() and current_app.config.get("JOBS_IMMEDIATE"):
        _worker_app = current_app._get_current_object()
        # The caller has committed (the contract); end its read transaction too, as a web
        # request ends, so that nothing of it outlives the job's own commit.
        db.session.commit()
        failure: list[BaseException] = []

        def work() -> None:
            try:
                run_job_task(job_id)
            except BaseException as error:  # noqa: BLE001 - raised again in the caller
                failure.append(error)

        worker = threading.Thread(target=work, name=f"coopreg-job-{job_id}")
        worker.start()
        worker.join()
        if failure:
            raise failure[0]
        return
    run_job_task(job_id)


def run_job(job_id: int) -> None:
    """Run one job to its end inside the current app context."""
    job = db.session.get(Job, job_id)
    if job is None or job.status != JobStatus.QUEUED:
        return
    job.status = JobStatus.RUNNING
    job.started_at = utcnow()
    language = job.language
    db.session.commit()
    with speaking(language):
        _run_handler(job, job_id)


def _run_handler(job: Job, job_id: int) -> None:
    handler = HANDLERS[job.kind]

    def progress(done: int, total: int, message: str = "") -> None:
        _write_progress(job_id, done, total, message)

    label = f"job {job_id}"
    try:
        from coopreg.auth.models import User

        user = db.session.get(User, job.created_by_id) if job.created_by_id else None
        with acting_as(user.id if user else None, user.email if user else label):
            result = handler(job, progress)
            db.session.commit()
    except DomainError as error:
        db.session.rollback()
        _finish(job_id, JobStatus.FAILED, error=error.message)
        return
    except Exception:
        db.session.rollback()
        log.exception("job %s failed", job_id)
        _finish(job_id, JobStatus.FAILED,
                error=_("The job stopped on an unexpected error; nothing was saved. "
                        "Try again, and tell your admin if it happens again."))
        return
    _finish(job_id, JobStatus.SUCCEEDED, result=result)


def _finish(job_id: int, status: JobStatus, result: dict | None = None,
            error: str | None = None) -> None:
    job = db.session.get(Job, job_id)
    job.status = status
    job.finished_at = utcnow()
    job.result = result
    job.error = error
    db.session.commit()
    current = read_progress(job_id)
    _write_progress(job_id, current.get("total") or 1, current.get("total") or 1,
                    _("Done") if status == JobStatus.SUCCEEDED else _("Failed"))


def fail_abandoned_jobs(older_than_seconds: int = 3600) -> int:
    """Mark failed the jobs left running by a worker that died (nothing of theirs was
    committed: a job commits only at its end), so they can be started again."""
    from datetime import timedelta

    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    stale = db.session.scalars(db.select(Job).where(Job.status == JobStatus.RUNNING,
                                                    Job.started_at < cutoff)).all()
    for job in stale:
        job.status = JobStatus.FAILED
        job.finished_at = utcnow()
        job.error = _("The worker stopped while running this job; nothing was saved. "
                      "Start it again.")
    db.session.flush()
    return len(stale)


@huey.task()
def run_job_task(job_id: int) -> None:
    app = _worker_app
    if app is None:
        from coopreg import create_app

        app = create_app()
    with app.app_context():
        run_job(job_id)


def set_worker_app(app: Flask) -> None:
    global _worker_app
    _worker_app = app
