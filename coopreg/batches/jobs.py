"""Making a draft batch (new, made again, superseding) and sealing one, as background jobs
with a progress bar: a large cooperative's batch takes longer than a web request may.

A view checks what it can at once (the form, the batch's status), then queues the job and
sends the person to the job's page; the job's "Continue" goes to the batch. The CLI stays
synchronous (`coopreg batches create`).
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from coopreg.agreements.models import Agreement
from coopreg.batches import services
from coopreg.batches.models import Batch
from coopreg.cooperatives.models import Cooperative
from coopreg.core.errors import DomainError
from coopreg.core.models import utcnow
from coopreg.core.sentences import kept, sentence
from coopreg.core.tenancy import get_scoped
from coopreg.extensions import db
from coopreg.jobs.models import Job, JobStatus
from coopreg.jobs.registry import register_kind
from coopreg.jobs.services import create_job, job_handler

DRAFT = "batch_draft"
REFRESH = "batch_refresh"
SUPERSEDE = "batch_supersede"
SEAL = "batch_seal"
KINDS = (DRAFT, REFRESH, SUPERSEDE, SEAL)
# a job not ended after this long is taken for abandoned (see jobs.fail_abandoned_jobs)
ABANDONED_AFTER = timedelta(hours=1)


def running_job(cooperative_id: int, kinds: tuple[str, ...], **params) -> Job | None:
    """A queued or running job of these kinds whose params include these values."""
    jobs = db.session.scalars(select(Job).where(
        Job.cooperative_id == cooperative_id, Job.kind.in_(kinds),
        Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]),
        Job.created_at > utcnow() - ABANDONED_AFTER).order_by(Job.id))
    return next((job for job in jobs
                 if all((job.params or {}).get(k) == v for k, v in params.items())), None)


def _refuse_if_busy(cooperative_id: int, **params) -> None:
    job = running_job(cooperative_id, KINDS, **params)
    if job is not None:
        raise BatchBusy(job.id)


class BatchBusy(DomainError):
    """Work on this batch (or this draft) is already queued or running: `job_id` is it."""

    def __init__(self, job_id: int):
        super().__init__(_("This is already being done: follow it on this page."))
        self.job_id = job_id


# ---- queueing (the views commit, then call jobs.services.start_job) ---------------------------

def queue_draft(cooperative: Cooperative, agreement: Agreement, kind: str, user_id: int | None,
                *, period: str | None, policy: str) -> Job:
    """Check the request at once (kind, period, policy, layout), then queue the draft."""
    kind, period_date, _layout, _snapshot = services.check_new_batch(
        cooperative, agreement, kind, period=period, policy=policy)
    params = {"agreement_id": agreement.id, "kind": kind.value,
              "period": period_date.strftime("%Y-%m") if period_date else None, "policy": policy}
    _refuse_if_busy(cooperative.id, **params)
    return create_job(cooperative.id, DRAFT, user_id, params)


def queue_refresh(batch: Batch, user_id: int | None) -> Job:
    services.require_draft(batch)
    _refuse_if_busy(batch.cooperative_id, batch_id=batch.id)
    return create_job(batch.cooperative_id, REFRESH, user_id, {"batch_id": batch.id})


def queue_supersede(batch: Batch, user_id: int | None) -> Job:
    services.check_supersedable(batch)
    _refuse_if_busy(batch.cooperative_id, batch_id=batch.id)
    return create_job(batch.cooperative_id, SUPERSEDE, user_id, {"batch_id": batch.id})


def queue_seal(batch: Batch, user_id: int | None) -> Job:
    """Refuse at once what cannot be sealed; a second sealing of a batch is not queued while
    one is queued or running (the job itself still seals under the batch's lock)."""
    services.check_sealable(batch)
    _refuse_if_busy(batch.cooperative_id, batch_id=batch.id)
    return create_job(batch.cooperative_id, SEAL, user_id, {"batch_id": batch.id})


# ---- what the jobs keep in their results (said in the reader's language) ---------------------

DRAFT_MADE = sentence("batches.draft_made", lambda p: _(
    "Draft %(ref)s made: check its lines, then seal it.", **p))
DRAFT_REMADE = sentence("batches.draft_remade", lambda p: _(
    "The draft was made again from today's data: %(n)d line(s).", **p))
REPLACEMENT_MADE = sentence("batches.replacement_made", lambda p: _(
    "Draft %(new)s will replace %(old)s once sealed.", **p))
SEALED = sentence("batches.sealed", lambda p: _(
    "Batch %(ref)s is sealed: %(name)s. It will never change; download it and send it.", **p))


# ---- the handlers ---------------------------------------------------------------------------

def _batch(job: Job) -> Batch:
    batch = get_scoped(Batch, job.params.get("batch_id"), job.cooperative_id)
    if batch is None:
        raise DomainError(_("The batch no longer exists."))
    return batch


@job_handler(DRAFT)
def run_draft(job: Job, progress) -> dict:
    """params: agreement_id, kind, period ("2025-03" or None), policy."""
    cooperative = db.session.get(Cooperative, job.cooperative_id)
    agreement = get_scoped(Agreement, job.params.get("agreement_id"), job.cooperative_id)
    if agreement is None:
        raise DomainError(_("The agreement no longer exists."))
    progress(0, 1, _("Reading the registrations…"))
    batch = services.create_batch(cooperative, agreement, job.params["kind"], job.created_by_id,
                                  period=job.params.get("period"),
                                  policy=job.params.get("policy") or "exclude",
                                  progress=progress)
    return {"batch_id": batch.id,
            "summary": kept(DRAFT_MADE, ref=batch.reference)}


@job_handler(REFRESH)
def run_refresh(job: Job, progress) -> dict:
    batch = _batch(job)
    progress(0, 1, _("Reading the registrations…"))
    count = services.refresh_batch(batch, progress=progress)
    return {"batch_id": batch.id,
            "summary": kept(DRAFT_REMADE, n=count)}


@job_handler(SUPERSEDE)
def run_supersede(job: Job, progress) -> dict:
    batch = _batch(job)
    progress(0, 1, _("Reading the registrations…"))
    new = services.supersede_batch(batch, job.created_by_id, progress=progress)
    return {"batch_id": new.id,
            "summary": kept(REPLACEMENT_MADE, new=new.reference, old=batch.reference)}


@job_handler(SEAL)
def run_seal(job: Job, progress) -> dict:
    """Seal under the batch's lock (two sealings at once give one file), then commit here so
    the file goes when the commit fails."""
    batch = _batch(job)
    # written under a temporary name; it takes the batch's name once the commit is done
    # (a worker killed before leaves nothing under it: coopreg/batches/files.py)
    path = services.seal_batch(batch, job.created_by_id, current_app.config["EXPORT_DIR"],
                               progress=progress, place=False)
    services.commit_sealing(path)
    return {"batch_id": batch.id,
            "summary": kept(SEALED, ref=batch.reference, name=path.name)}


def _next_link(job: Job) -> tuple[str, dict] | None:
    """To the batch made or sealed; after a failure, back to the batch worked on."""
    batch_id = (job.result or {}).get("batch_id") or (job.params or {}).get("batch_id")
    if batch_id:
        return "batches.view_batch", {"batch_id": batch_id}
    if job.kind == DRAFT and job.status == JobStatus.FAILED:
        values = {"agreement_id": job.params.get("agreement_id"), "kind": job.params.get("kind")}
        if job.params.get("period"):
            values["period"] = job.params["period"]
        return "batches.new_batch", values
    return None


register_kind(DRAFT, _l("Preparing a batch"), _next_link)
register_kind(REFRESH, _l("Making the draft again"), _next_link)
register_kind(SUPERSEDE, _l("Preparing a replacement batch"), _next_link)
register_kind(SEAL, _l("Sealing a batch"), _next_link)
