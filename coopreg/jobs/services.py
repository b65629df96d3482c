"""Running long work in the background, with progress a page can poll.

A job is created (and committed) by a view or command, then handed to the queue. The worker
runs its handler in one unit of work: everything the handler writes is committed at the end,
or nothing is (the job is then marked failed with the reason), so a retry starts clean.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask, current_app, has_app_context, has_request_context
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from coopreg.core.audit import acting_as
from coopreg.core.errors import DomainError
from coopreg.core.languages import language_or_default, speaking
from coopreg.core.models import utcnow
from coopreg.core.sentences import kept, kept_error, sentence
from coopreg.core.tenancy import unscoped
from coopreg.extensions import db
from coopreg.jobs.models import Job, JobStatus
from coopreg.jobs.queue import huey

log = logging.getLogger(__name__)

# why a job failed, kept as a code and said in the reader's language (core/sentences)
UNEXPECTED_ERROR = sentence("jobs.unexpected_error", lambda p: _(
    "The job stopped on an unexpected error; nothing was saved. Try again, and tell your "
    "admin if it happens again."))
STOPPED_TIMES = sentence("jobs.stopped_times", lambda p: _(
    "The worker running this job stopped %(n)d times; nothing was saved. Start it again; if "
    "it stops again, tell your admin.", **p))
WORKER_STOPPED = sentence("jobs.worker_stopped", lambda p: _(
    "The worker stopped while running this job; nothing was saved. Start it again."))

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


def _immediate() -> bool:
    """Whether jobs run at once (tests): then the app running them is the caller's, as
    `coopreg worker` hands a worker its app."""
    global _worker_app
    if has_app_context() and current_app.config.get("JOBS_IMMEDIATE"):
        _worker_app = current_app._get_current_object()
        return True
    return False


def start_job(job_id: int) -> None:
    """Hand a committed job to the queue. With JOBS_IMMEDIATE (tests) it runs at once, to
    its end, but as in the worker: in a thread of its own, with no request and a fresh
    application context, so what it says comes from the job, never from the page. Otherwise
    the row's `enqueued_at` is set first: should the queue lose the message, the supervisor
    hands the job again after JOBS_REQUEUE_SECONDS."""
    if _immediate():
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
    if has_app_context():
        try:
            _mark_enqueued(job_id)
        except Exception as error:  # noqa: BLE001 - then the time it was made counts
            log.warning("job %s: enqueued_at not recorded: %s", job_id,
                        str(error).splitlines()[0])
    try:
        run_job_task(job_id)
    except Exception as error:  # noqa: BLE001 - the row stays queued: handed again later
        log.warning("job %s could not be handed to the queue (%s); the supervisor hands it "
                    "again", job_id, str(error).splitlines()[0])


def _mark_enqueued(job_id: int) -> None:
    table = Job.__table__
    with db.engine.begin() as connection:
        connection.execute(update(table).where(table.c.id == job_id,
                                               table.c.status == JobStatus.QUEUED.value)
                           .values(enqueued_at=utcnow()))


def _lease_until() -> Any:
    return utcnow() + timedelta(seconds=current_app.config["JOBS_LEASE_SECONDS"])


def _claim(job_id: int) -> int | None:
    """Take a queued job for this worker: queued → running with a fresh lease, one more
    attempt. Conditional, so that of two workers handed the same job (the queue's message
    and a re-enqueued one) only one runs it. Returns the attempt's number, or None."""
    table = Job.__table__
    now = utcnow()
    claimed = db.session.execute(
        update(table).where(table.c.id == job_id, table.c.status == JobStatus.QUEUED.value)
        .values(status=JobStatus.RUNNING.value, started_at=now, finished_at=None,
                lease_expires_at=_lease_until(), attempts=table.c.attempts + 1))
    if claimed.rowcount != 1:
        db.session.rollback()
        return None
    db.session.commit()
    return db.session.scalar(select(table.c.attempts).where(table.c.id == job_id)
                             .execution_options(**unscoped(
                                 "the worker handles jobs by id, for every cooperative")))


class _Heartbeat:
    """Renews a running job's lease every third of it, on its own connection, while the
    handler works in its own transaction. On SQLite a renewal can wait behind the job's own
    write lock: it is retried at the next beat (and nobody can reap the job meanwhile: the
    reaper needs the same lock, and the job ends its transaction before it is released)."""

    def __init__(self, app: Flask, job_id: int, attempt: int):
        self.app, self.job_id, self.attempt = app, job_id, attempt
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"job-{job_id}-heartbeat",
                                       daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(10)

    def _run(self) -> None:
        with self.app.app_context():
            interval = self.app.config["JOBS_LEASE_SECONDS"] / 3
            table = Job.__table__
            while not self.stop.wait(interval):
                try:
                    with db.engine.begin() as connection:
                        connection.execute(update(table).where(
                            table.c.id == self.job_id, table.c.attempts == self.attempt,
                            table.c.status == JobStatus.RUNNING.value)
                            .values(lease_expires_at=_lease_until()))
                except Exception as error:  # noqa: BLE001 - the next beat tries again
                    log.warning("job %s: the lease could not be renewed: %s", self.job_id,
                                str(error).splitlines()[0])


def _end(job_id: int, attempt: int | None, status: JobStatus, result: dict | None = None,
         error: dict | None = None) -> bool:
    """Record the end in the caller's transaction, only if this attempt still holds the job
    (a lapsed lease may have handed it to another worker: then nothing of this attempt is
    kept). Returns whether it did."""
    table = Job.__table__
    where = [table.c.id == job_id, table.c.status == JobStatus.RUNNING.value]
    if attempt is not None:
        where.append(table.c.attempts == attempt)
    ended = db.session.execute(update(table).where(*where).values(
        status=status.value, finished_at=utcnow(), result=result, error=error,
        lease_expires_at=None))
    return ended.rowcount == 1


def _read_only_unit() -> bool:
    """The handler read in a deferred SQLite transaction (an export): one snapshot, which
    cannot turn into a write once someone else wrote."""
    return bool(db.session().in_transaction() and db.session.connection()
                .get_execution_options().get("sqlite_read_only"))


def run_job(job_id: int) -> None:
    """Run one job to its end inside the current app context: claim it, renew its lease
    while the handler works, and commit the handler's work together with the job's end."""
    attempt = _claim(job_id)
    if attempt is None:
        return
    job = db.session.get(Job, job_id, execution_options=unscoped(
        "the worker resolves a job by its id; the job names its cooperative"))
    with speaking(job.language):
        _run_handler(job, job_id, attempt)


def _run_handler(job: Job, job_id: int, attempt: int) -> None:
    handler = HANDLERS[job.kind]

    def progress(done: int, total: int, message: str = "") -> None:
        _write_progress(job_id, done, total, message)

    label = f"job {job_id}"
    heartbeat = (contextlib.nullcontext() if current_app.config.get("JOBS_IMMEDIATE")
                 else _Heartbeat(current_app._get_current_object(), job_id, attempt))
    with heartbeat:
        try:
            from coopreg.auth.models import User

            user = db.session.get(User, job.created_by_id) if job.created_by_id else None
            with acting_as(user.id if user else None, user.email if user else label):
                result = handler(job, progress)
                if _read_only_unit():
                    # it wrote nothing: end its snapshot, whose rows may be stale, first
                    db.session.commit()
                if not _end(job_id, attempt, JobStatus.SUCCEEDED, result=result):
                    db.session.rollback()
                    log.warning("job %s: attempt %s lost its lease to another; its work "
                                "was not kept", job_id, attempt)
                    return
                db.session.commit()
        except DomainError as error:
            db.session.rollback()
            _finish(job_id, attempt, JobStatus.FAILED, error=kept_error(error))
            return
        except Exception:
            db.session.rollback()
            log.exception("job %s failed", job_id)
            _finish(job_id, attempt, JobStatus.FAILED,
                    error=kept(UNEXPECTED_ERROR))
            return
    _progress_done(job_id, JobStatus.SUCCEEDED)


def _finish(job_id: int, attempt: int | None, status: JobStatus, result: dict | None = None,
            error: dict | None = None) -> None:
    if _end(job_id, attempt, status, result=result, error=error):
        db.session.commit()
        _progress_done(job_id, status)
    else:
        db.session.rollback()


def _progress_done(job_id: int, status: JobStatus) -> None:
    current = read_progress(job_id)
    _write_progress(job_id, current.get("total") or 1, current.get("total") or 1,
                    _("Done") if status == JobStatus.SUCCEEDED else _("Failed"))


def supervise_jobs() -> dict[str, list[int]]:
    """What every worker does every JOBS_SUPERVISE_SECONDS, with no manual step: a running
    job whose lease lapsed (its worker died) is queued again, up to JOBS_MAX_ATTEMPTS runs,
    or failed with a message saying so (the page offers "Start again"); a queued job no
    worker took for JOBS_REQUEUE_SECONDS is handed to the queue again (the queue lost it).
    Each change is conditional on the row as read, so several workers supervising at once
    change each job once. Commits; returns the ids {"retried", "failed", "requeued"}."""
    config = current_app.config
    table = Job.__table__
    now = utcnow()
    done: dict[str, list[int]] = {"retried": [], "failed": [], "requeued": []}
    lapsed = db.session.execute(select(table.c.id, table.c.attempts).where(
        table.c.status == JobStatus.RUNNING.value, table.c.lease_expires_at.is_not(None),
        table.c.lease_expires_at < now).execution_options(**unscoped(
            "every worker watches the leases of every cooperative's jobs"))).all()
    for job_id, attempts in lapsed:
        lapsed_row = [table.c.id == job_id, table.c.attempts == attempts,
                      table.c.status == JobStatus.RUNNING.value,
                      table.c.lease_expires_at < now]
        if attempts < config["JOBS_MAX_ATTEMPTS"]:
            changed = db.session.execute(update(table).where(*lapsed_row).values(
                status=JobStatus.QUEUED.value, lease_expires_at=None, enqueued_at=now))
            key = "retried"
        else:
            changed = db.session.execute(update(table).where(*lapsed_row).values(
                status=JobStatus.FAILED.value, lease_expires_at=None, finished_at=now,
                error=kept(STOPPED_TIMES, n=attempts)))
            key = "failed"
        if changed.rowcount == 1:
            done[key].append(job_id)
    cutoff = now - timedelta(seconds=config["JOBS_REQUEUE_SECONDS"])
    waiting = db.session.scalars(select(table.c.id).where(
        table.c.status == JobStatus.QUEUED.value,
        func.coalesce(table.c.enqueued_at, table.c.created_at) < cutoff).execution_options(
            **unscoped("every worker hands lost queue messages back, for every cooperative"))
    ).all()
    for job_id in waiting:
        changed = db.session.execute(update(table).where(
            table.c.id == job_id, table.c.status == JobStatus.QUEUED.value,
            func.coalesce(table.c.enqueued_at, table.c.created_at) < cutoff)
            .values(enqueued_at=now))
        if changed.rowcount == 1:
            done["requeued"].append(job_id)
    db.session.commit()
    for job_id in done["failed"]:
        _progress_done(job_id, JobStatus.FAILED)
    _immediate()  # a retried job runs at once in tests, with this app (as start_job's)
    for job_id in done["retried"] + done["requeued"]:
        try:
            run_job_task(job_id)
        except Exception as error:  # noqa: BLE001 - still queued: the next round tries
            log.warning("job %s could not be handed to the queue: %s", job_id,
                        str(error).splitlines()[0])
    for key, ids in done.items():
        if ids:
            log.warning("jobs %s: %s", key, ", ".join(map(str, ids)))
    return done


def retry_job(job: Job, user_id: int | None) -> Job:
    """A new job doing what a failed one was asked to do; the caller commits and starts
    it. Every job commits only at its end, so running one again is safe."""
    if job.status != JobStatus.FAILED:
        raise DomainError(_("Only a failed job can be started again."))
    return create_job(job.cooperative_id, job.kind, user_id, dict(job.params or {}))


def supervise_forever(app: Flask, stop: threading.Event) -> None:
    """The worker's supervisor thread: `supervise_jobs` every JOBS_SUPERVISE_SECONDS (and
    once at start), until `stop` is set; a failure (database down) is logged and retried."""
    with app.app_context():
        interval = app.config["JOBS_SUPERVISE_SECONDS"]
        while True:
            try:
                supervise_jobs()
            except Exception as error:  # noqa: BLE001 - try again at the next round
                db.session.rollback()
                log.warning("supervising jobs failed: %s", str(error).splitlines()[0])
            finally:
                db.session.remove()
            if stop.wait(interval):
                return


def fail_abandoned_jobs(older_than_seconds: int = 3600) -> int:
    """Mark failed the jobs left running by a worker that died (nothing of theirs was
    committed: a job commits only at its end), so they can be started again."""
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    stale = db.session.scalars(db.select(Job).where(Job.status == JobStatus.RUNNING,
                                                    Job.started_at < cutoff)
                               .execution_options(**unscoped(
                                   "the worker's start-up sweep, for every cooperative"))).all()
    for job in stale:
        job.status = JobStatus.FAILED
        job.finished_at = utcnow()
        job.error = kept(WORKER_STOPPED)
    db.session.flush()
    return len(stale)


@huey.task()
def run_job_task(job_id: int) -> None:
    app = _worker_app
    if app is None:
        # the worker's process is started by `coopreg worker`, which hands it its app; the
        # jobs area never builds one (it sits below the factory)
        raise RuntimeError("no app for the job worker: start it with `coopreg worker`")
    with app.app_context():
        run_job(job_id)


def set_worker_app(app: Flask) -> None:
    global _worker_app
    _worker_app = app
