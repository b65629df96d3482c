"""The coverage-gap spreadsheet as a background job (progress and download on the job's
page, like every export)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext

from coopreg.agreements.coverage import coverage_report, write_coverage_workbook
from coopreg.auth.access import ALL_ROLES
from coopreg.cooperatives.models import Cooperative
from coopreg.core.sentences import kept, sentence
from coopreg.extensions import db
from coopreg.jobs.files import XLSX, ExportedFile, export_job
from coopreg.jobs.models import Job

COVERAGE_EXPORT = "coverage_export"


COVERAGE_EXPORTED = sentence("agreements.coverage_exported", lambda p: ngettext(
    "Coverage report of %(num)d active member exported.",
    "Coverage report of %(num)d active members exported.", p["num"]))


@export_job(COVERAGE_EXPORT, ALL_ROLES)
def export_coverage(job: Job, stream, progress) -> ExportedFile:
    cooperative = db.session.get(Cooperative, job.cooperative_id)
    progress(0, 2, _("Counting the members covered…"))
    report = coverage_report(cooperative.id)
    progress(1, 2, _("Writing the file…"))
    write_coverage_workbook(report, cooperative.name, stream)
    return ExportedFile(filename=f"coverage-{cooperative.code}-{report.as_of.isoformat()}.xlsx",
                        mimetype=XLSX, rows=report.total_active,
                        summary=kept(COVERAGE_EXPORTED, num=report.total_active))
