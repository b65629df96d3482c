"""Dues generation as a background job (progress shown on the job's page)."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from coopreg.agreements.models import Agreement
from coopreg.auth.models import Role
from coopreg.contributions.reports import write_arrears_workbook
from coopreg.contributions.services import generate_dues
from coopreg.cooperatives.models import Cooperative
from coopreg.core.errors import DomainError
from coopreg.core.sentences import kept, sentence
from coopreg.core.tenancy import get_scoped
from coopreg.extensions import db
from coopreg.jobs.files import XLSX, ExportedFile, export_job
from coopreg.jobs.models import Job, JobStatus
from coopreg.jobs.registry import register_kind
from coopreg.jobs.services import job_handler

KIND = "dues_generation"
ARREARS_EXPORT = "arrears_export"


@job_handler(KIND)
def run_dues_generation(job: Job, progress) -> dict:
    """params: agreement_id, start (ISO date), through (ISO date)."""
    agreement = get_scoped(Agreement, job.params.get("agreement_id"), job.cooperative_id)
    if agreement is None:
        raise DomainError(_("The agreement no longer exists."))
    progress(0, 1, _("Reading the registrations…"))
    result = generate_dues(agreement, date.fromisoformat(job.params["start"]),
                           date.fromisoformat(job.params["through"]), progress=progress)
    return result.as_dict()


ARREARS_EXPORTED = sentence("contributions.arrears_exported", lambda p: ngettext(
    "%(num)d member in arrears exported.", "%(num)d members in arrears exported.", p["num"]))


@export_job(ARREARS_EXPORT, (Role.ADMIN, Role.SECRETARY, Role.TREASURER))
def export_arrears(job: Job, stream, progress) -> ExportedFile:
    """params: min_days, min_periods, agreement_id (optional), include_deceased (optional):
    the arrears page's filters."""
    cooperative = db.session.get(Cooperative, job.cooperative_id)
    filters = {key: int(job.params[key]) for key in ("min_days", "min_periods")}
    filters["include_deceased"] = bool(job.params.get("include_deceased"))
    if job.params.get("agreement_id"):
        agreement = get_scoped(Agreement, job.params["agreement_id"], job.cooperative_id)
        if agreement is None:
            raise DomainError(_("The agreement no longer exists."))
        filters["agreement_id"] = agreement.id
    written = write_arrears_workbook(stream, cooperative.id, cooperative.currency,
                                     progress=progress, **filters)
    return ExportedFile(filename=f"arrears-{cooperative.code}-{date.today():%Y%m%d}.xlsx",
                        mimetype=XLSX, rows=written,
                        summary=kept(ARREARS_EXPORTED, num=written))


def _to_reconciliation(job: Job):
    """Once the dues exist, the treasurer goes on to the agreement's reconciliation."""
    if job.status != JobStatus.SUCCEEDED:
        return None
    return "contributions.reconciliation", {"agreement_id": job.params.get("agreement_id")}


register_kind(KIND, _l("Dues generation"), _to_reconciliation)
