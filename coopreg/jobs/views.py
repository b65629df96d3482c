"""A job's page (a progress bar that survives a reload), its status for polling, and the
download of the file an export job made."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, jsonify, redirect, render_template, send_file, url_for
from flask_babel import lazy_gettext as _l
from werkzeug.routing import BuildError

from coopreg.auth.access import ALL_ROLES, roles_required
from coopreg.core.labels import display, labels_for
from coopreg.core.tenancy import current_role, get_scoped_or_404
from coopreg.extensions import db
from coopreg.jobs.files import EXPORTS, finished_file, may_download
from coopreg.jobs.models import Job, JobStatus
from coopreg.jobs.services import read_progress, start_job

bp = Blueprint("jobs", __name__)

JOB_STATUS_LABELS = labels_for(JobStatus, {
    JobStatus.QUEUED: _l("Waiting to start"), JobStatus.RUNNING: _l("Running"),
    JobStatus.SUCCEEDED: _l("Done"), JobStatus.FAILED: _l("Failed")})

# How the page names and links onward a job of a kind, registered by the area that owns the
# kind (`register_kind`). Handlers run in the worker, without a request to build URLs from:
# their result (or the job's params) names the record, e.g. {"batch_id": 5}, and the page
# builds the link here.
KIND_LABELS: dict[str, Any] = {}
NEXT_LINKS: dict[str, Callable[[Job], tuple[str, dict] | None]] = {}


def register_kind(kind: str, label: Any,
                  next_link: Callable[[Job], tuple[str, dict] | None] | None = None) -> None:
    """`label`: the page's title for jobs of this kind (a lazy string); `next_link(job)`:
    the (endpoint, values) a finished job's "Continue" button goes to, or None."""
    KIND_LABELS[kind] = label
    if next_link is not None:
        NEXT_LINKS[kind] = next_link


def start_and_follow(job: Job):
    """Commit the job just queued (with what the request wrote), start it, and send the
    person to its page, whose progress bar survives a reload."""
    job_id = job.id
    db.session.commit()
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
    return {"id": job.id, "kind": job.kind, "status": job.status.value,
            "finished": job.finished, "done": done, "total": total,
            "percent": int(done * 100 / total) if total else (100 if job.finished else 0),
            "message": (display(job.status) if job.finished
                        else progress.get("message") or ""), "error": job.error}


@bp.route("/<int:job_id>")
@roles_required(*ALL_ROLES)
def view_job(job_id: int):
    job = get_scoped_or_404(Job, job_id)
    export = job.kind in EXPORTS and job.status == JobStatus.SUCCEEDED
    return render_template("jobs/view.html", job=job, state=job_state(job), export=export,
                           file_kept=export and finished_file(job) is not None,
                           may_download=may_download(job, current_role()),
                           kind_label=KIND_LABELS.get(job.kind), next_link=next_url(job))


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
