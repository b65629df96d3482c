"""A job's page (a progress bar that survives a reload) and its status for polling."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template

from coopreg.auth.access import ALL_ROLES, roles_required
from coopreg.core.tenancy import get_scoped_or_404
from coopreg.jobs.models import Job
from coopreg.jobs.services import read_progress

bp = Blueprint("jobs", __name__)


def job_state(job: Job) -> dict:
    progress = read_progress(job.id)
    total = progress.get("total") or 0
    done = min(progress.get("done") or 0, total) if total else 0
    return {"id": job.id, "kind": job.kind, "status": job.status.value,
            "finished": job.finished, "done": done, "total": total,
            "percent": int(done * 100 / total) if total else (100 if job.finished else 0),
            "message": progress.get("message") or "", "error": job.error}


@bp.route("/<int:job_id>")
@roles_required(*ALL_ROLES)
def view_job(job_id: int):
    job = get_scoped_or_404(Job, job_id)
    return render_template("jobs/view.html", job=job, state=job_state(job))


@bp.route("/<int:job_id>/status")
@roles_required(*ALL_ROLES)
def job_status(job_id: int):
    job = get_scoped_or_404(Job, job_id)
    return jsonify(job_state(job))
