"""Dues generation as a background job (progress shown on the job's page)."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _

from coopreg.agreements.models import Agreement
from coopreg.contributions.services import generate_dues
from coopreg.core.errors import DomainError
from coopreg.extensions import db
from coopreg.jobs.models import Job
from coopreg.jobs.services import job_handler

KIND = "dues_generation"


@job_handler(KIND)
def run_dues_generation(job: Job, progress) -> dict:
    """params: agreement_id, start (ISO date), through (ISO date)."""
    agreement = db.session.get(Agreement, job.params.get("agreement_id"))
    if agreement is None or agreement.cooperative_id != job.cooperative_id:
        raise DomainError(_("The agreement no longer exists."))
    progress(0, 1, _("Reading the registrations…"))
    result = generate_dues(agreement, date.fromisoformat(job.params["start"]),
                           date.fromisoformat(job.params["through"]), progress=progress)
    return result.as_dict()
