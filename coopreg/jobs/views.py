"""A job's page (a progress bar that survives a reload), its status for polling, and the
download of the file an export job made."""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.routing import BuildError

from coopreg.auth.access import ALL_ROLES, roles_required
from coopreg.auth.models import Role
from coopreg.core.errors import DomainError
from coopreg.core.labels import display, labels_for
from coopreg.core.money import format_share
from coopreg.core.sentences import say
from coopreg.core.tenancy import current_role, get_scoped_or_404
from coopreg.core.unit_of_work import checkpoint
from coopreg.jobs.files import EXPORTS, finished_file, may_download
from coopreg.jobs.models import Job, JobStatus
from coopreg.jobs.registry import KIND_LABELS, NEXT_LINKS
from coopreg.jobs.services import read_progress, retry_job, start_job

bp = Blueprint("jobs", __name__)

JOB_STATUS_LABELS = labels_for(JobStatus, {
    JobStatus.QUEUED: _l("Waiting to start"), JobStatus.RUNNING: _l("Running"),
    JobStatus.SUCCEEDED: _l("Done"), JobStatus.FAILED: _l("Failed")})

def start_and_follow(job: Job):
    """Commit the job just queued (with what the request wrote: the worker must find it),
    start it, and send the person to its page, whose progress bar survives a reload."""
    job_id = job.id
    checkpoint()
    start_job(job_id)
    return redirect(url_for("jobs.view_job", job_id=job_id))


def next_url(job: Job) -> str | None:
    """Where "Continue" goes once the job has ended: the kind's link, else the result's
    `next_url`."""
    if not job.finished:
        return None
    link = NEXT_LINKS.get(job.kind)
    target = link(job) if link is not None else None
    if target is not None:
        endpoint, values = target
        try:
            return url_for(endpoint, **values)
        except BuildError:
            return None
    return (job.result or {}).get("next_url")


def job_state(job: Job) -> dict:
    progress = read_progress(job.id)
    total = progress.get("total") or 0
    done = min(progress.get("done") or 0, total) if total else 0
    percent = int(done * 100 / total) if total else (100 if job.finished else 0)
    return {"id": job.id, "kind": job.kind, "status": job.status.value,
            "finished": job.finished, "done": done, "total": total, "percent": percent,
            # said by the server in the page's language ("45 %" in French): the script
            # that moves the bar only shows it
            "percent_text": format_share(Decimal(percent) / 100, digits=0),
            "message": (display(job.status) if job.finished
                        else progress.get("message") or ""), "error": say(job.error)}


@bp.route("/<int:job_id>")
@roles_required(*ALL_ROLES)
def view_job(job_id: int):
    job = get_scoped_or_404(Job, job_id)
    export = job.kind in EXPORTS and job.status == JobStatus.SUCCEEDED
    return render_template("jobs/view.html", job=job, state=job_state(job), export=export,
                           file_kept=export and finished_file(job) is not None,
                           may_download=may_download(job, current_role()),
                           may_retry=may_retry(job),
                           kind_label=KIND_LABELS.get(job.kind), next_link=next_url(job))


def may_retry(job: Job) -> bool:
    """A failed job is started again by who started it, or by an admin."""
    return job.status == JobStatus.FAILED and (
        current_role() == Role.ADMIN.value or job.created_by_id == current_user.id)


@bp.route("/<int:job_id>/retry", methods=["POST"])
@roles_required(Role.ADMIN, Role.SECRETARY, Role.TREASURER)
def retry(job_id: int):
    """"Start again": a new job doing what the failed one was asked to do."""
    job = get_scoped_or_404(Job, job_id)
    if not may_retry(job):
        flash(_("Only who started this job, or an admin, can start it again."), "error")
        return redirect(url_for("jobs.view_job", job_id=job.id))
    try:
        new = retry_job(job, current_user.id)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("jobs.view_job", job_id=job.id))
    return start_and_follow(new)


@bp.route("/<int:job_id>/status")
@roles_required(*ALL_ROLES)
def job_status(job_id: int):
    job = get_scoped_or_404(Job, job_id)
    return jsonify(job_state(job))


@bp.route("/<int:job_id>/download")
@roles_required(*ALL_ROLES)
def download(job_id: int):
    """The file of a finished export job: only in its cooperative, only for the roles of
    the export's page, only while it is kept (404 once cleaned, or if the job failed)."""
    job = get_scoped_or_404(Job, job_id)
    if job.kind not in EXPORTS:
        abort(404)
    if not may_download(job, current_role()):
        abort(403)
    path = finished_file(job)
    if path is None:
        abort(404)
    return send_file(path, mimetype=job.result.get("mimetype"), as_attachment=True,
                     download_name=job.result.get("filename") or path.name, max_age=0)
