"""Pages of the imports area: upload, mapping, preview and commit of a member import; the
import template; the register export. Thin: each calls one service and commits once."""

from __future__ import annotations

import io
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from coopreg.auth.access import EDITORS, roles_required
from coopreg.core.confirm import confirm_first
from coopreg.core.sorting import Sorts
from coopreg.core.tenancy import current_cooperative, get_scoped_or_404, scoped
from coopreg.core.unit_of_work import attempt
from coopreg.extensions import db
from coopreg.imports import services
from coopreg.imports.export import EXPORT_ROLES, start_export, write_template
from coopreg.imports.fields import FIELD_BY_KEY
from coopreg.imports.forms import CommitForm, ExportForm, UploadForm, mapping_form_for
from coopreg.imports.models import ImportRun, ImportStatus
from coopreg.jobs.models import Job
from coopreg.jobs.views import job_state, start_and_follow

# the (cooperative_id, id) index; the upload time follows the id; status: a sort of the runs
RUNS_PER_PAGE = 20
RUN_SORTS = Sorts({"number": ImportRun.id, "status": ImportRun.status}, default="number",
                  default_descending=True, tiebreak=ImportRun.id, descending_first=("number",))

bp = Blueprint("imports", __name__)

OFFICE = EXPORT_ROLES
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.route("/", methods=["GET", "POST"])
@roles_required(*EDITORS)
def index():
    cooperative = current_cooperative()
    form = UploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        with attempt(form) as outcome:
            run = services.store_upload(cooperative, current_user.id, upload.filename or "",
                                        upload.read())
        if outcome.ok:
            return redirect(url_for("imports.mapping", run_id=run.id))
    chosen = RUN_SORTS.read(request.args)
    runs, after = RUN_SORTS.page(scoped(ImportRun), chosen, request.args.get("after"),
                                 RUNS_PER_PAGE)
    code = 422 if request.method == "POST" else 200
    return render_template("imports/index.html", form=form, runs=runs, sorted=chosen,
                           after=after), code


@bp.route("/template.xlsx")
@roles_required(*EDITORS)
def template():
    cooperative = current_cooperative()
    buffer = io.BytesIO()
    write_template(cooperative, buffer)
    buffer.seek(0)
    code = "".join(c for c in cooperative.code if c.isalnum())
    return send_file(buffer, mimetype=XLSX, as_attachment=True,
                     download_name=f"member-import-template-{code}.xlsx")


def _header_row(run: ImportRun, posted: str | None) -> int:
    try:
        value = int(posted) if posted is not None else (run.header_row or 1)
    except ValueError:
        value = run.header_row or 1
    return min(max(value, 1), max(len(run.sample or []), 1))


@bp.route("/<int:run_id>/mapping", methods=["GET", "POST"])
@roles_required(*EDITORS)
def mapping(run_id: int):
    run = get_scoped_or_404(ImportRun, run_id)
    if run.status == ImportStatus.COMMITTED:
        return redirect(url_for("imports.view_run", run_id=run.id))
    cooperative = current_cooperative()
    action = request.form.get("action") if request.method == "POST" else None
    header_row = _header_row(run, request.form.get("header_row")
                             if request.method == "POST" else None)
    columns = services.source_columns(run.sample or [], header_row - 1)
    if request.method == "GET" or action == "reheader":
        if run.mapping and header_row == run.header_row:
            proposal = {c.index: run.mapping.get(str(c.index), "") for c in columns}
        else:
            proposal = services.propose_mapping(cooperative.id, columns)
        form = mapping_form_for(columns, formdata=None)
        for field in form.column_fields():
            field.data = proposal.get(int(field.name[4:]), "")
        form.header_row.data = header_row
        defaults = (run.options or {}).get("defaults") or {}
        form.default_sector.data = defaults.get("sector") or ""
        if defaults.get("joined_on"):
            form.default_joined_on.data = date.fromisoformat(defaults["joined_on"])
        return _render_mapping(run, form, columns, header_row, 200)
    form = mapping_form_for(columns)
    if form.validate_on_submit():
        with attempt(form) as outcome:
            services.save_mapping(run, header_row, form.mapping(), form.defaults())
            job_id = services.start_preview(run, current_user.id)
        if outcome.ok:
            services.launch(job_id)
            return redirect(url_for("imports.view_run", run_id=run.id))
    return _render_mapping(run, form, columns, header_row, 422)


def _render_mapping(run, form, columns, header_row, code):
    rows = run.sample or []
    return render_template("imports/mapping.html", run=run, form=form, columns=columns,
                           header_row=header_row, title_rows=rows[:header_row - 1],
                           field_labels={k: f.label for k, f in FIELD_BY_KEY.items()},
                           expires_at=services.upload_expires_at(run)), code


@bp.route("/<int:run_id>")
@roles_required(*EDITORS)
def view_run(run_id: int):
    run = get_scoped_or_404(ImportRun, run_id)
    job = db.session.scalar(scoped(Job).where(Job.id == run.job_id)) if run.job_id else None
    state = job_state(job) if job is not None else None
    running = job is not None and not job.finished
    form = CommitForm()
    if request.method == "GET":
        options = run.options or {}
        form.valid_rows_only.data = bool(options.get("valid_rows_only"))
        form.update_existing.data = bool(options.get("update_existing"))
    can_commit = (not running and run.previewed_at is not None
                  and run.status in (ImportStatus.PREVIEWED, ImportStatus.FAILED))
    return render_template("imports/run.html", run=run, job=job, state=state, running=running,
                           form=form, can_commit=can_commit,
                           has_problems_file=services.problems_path(run) is not None,
                           expires_at=services.upload_expires_at(run))


@bp.route("/<int:run_id>/commit", methods=["POST"])
@roles_required(*EDITORS)
@confirm_first(ImportRun, _l(
    "The members are written to the register; an import cannot be undone as a whole "
    "afterwards."),
    action=_l("Import the members"))
def commit(run_id: int):
    run = get_scoped_or_404(ImportRun, run_id)
    form = CommitForm()
    if not form.validate_on_submit():
        flash(_("The form expired; try again."), "error")
        return redirect(url_for("imports.view_run", run_id=run.id))
    with attempt() as outcome:
        job_id = services.start_commit(run, current_user.id,
                                       update_existing=form.update_existing.data,
                                       valid_rows_only=form.valid_rows_only.data)
    if not outcome.ok:
        return redirect(url_for("imports.view_run", run_id=run.id))
    services.launch(job_id)
    return redirect(url_for("imports.view_run", run_id=run.id))


@bp.route("/<int:run_id>/problems.xlsx")
@roles_required(*EDITORS)
def problems(run_id: int):
    run = get_scoped_or_404(ImportRun, run_id)
    path = services.problems_path(run)
    if path is None:
        abort(404)
    return send_file(path, mimetype=XLSX, as_attachment=True,
                     download_name=f"import-{run.id}-problems.xlsx")


@bp.route("/export", methods=["GET", "POST"])
@roles_required(*OFFICE)
def export_members():
    """The register export runs as a background job: its page shows the progress, then the
    download link (small registers too, so it always behaves the same)."""
    cooperative = current_cooperative()
    form = ExportForm() if request.method == "POST" else ExportForm(request.args)
    if request.method == "POST" and form.validate():
        with attempt(form) as outcome:
            job = start_export(cooperative, current_user.id, form.as_of.data, form.format.data)
        if outcome.ok:
            return start_and_follow(job)
    code = 422 if request.method == "POST" else 200
    return render_template("imports/export.html", form=form), code
