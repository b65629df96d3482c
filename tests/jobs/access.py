"""Access matrix entries of the jobs area (see tests/core/test_access_matrix.py)."""

from __future__ import annotations

from coopreg.extensions import db
from coopreg.jobs.models import Job, JobStatus
from tests.access_levels import ALL, OFFICE

ACCESS: dict = {
    "jobs.view_job": ALL,
    "jobs.job_status": ALL,
    "jobs.download": ALL,  # then the roles of the export (tests/jobs/test_exports.py)
    "jobs.retry": OFFICE,  # then who started it or an admin (tests/faults/test_job_leases.py)
}


def make_ids(app, cooperative, factories) -> dict:
    with app.app_context():
        job = Job(cooperative_id=cooperative.id, kind="members_import", params={},
                  status=JobStatus.SUCCEEDED)
        db.session.add(job)
        db.session.commit()
        return {"job_id": job.id}
