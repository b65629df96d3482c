"""Pages of the batches area: file layouts (admin), batches (prepare, preview, seal,
download, send, supersede) and the institution's answers. Thin: validate, call one service,
commit once, flash, redirect. Preparing, making again, superseding and sealing a batch run
as background jobs (`coopreg.batches.jobs`): the view checks at once, queues the job and shows
its progress page, whose "Continue" leads to the batch."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from coopreg.agreements.models import Agreement
from coopreg.agreements.services import agreements_of
from coopreg.auth.access import ALL_ROLES, EDITORS, roles_required
from coopreg.auth.forms import EmptyForm
from coopreg.auth.models import Role
from coopreg.batches import acks, services
from coopreg.batches import jobs as batch_jobs
from coopreg.batches import layouts as L
from coopreg.batches.forms import (
    CHANNEL_LABELS,
    STATUS_LABELS,
    AckMappingForm,
    AckUploadForm,
    ColumnForm,
    CopyLayoutForm,
    LayoutForm,
    NewBatchForm,
    NewLayoutForm,
    PolicyForm,
    SentForm,
)
from coopreg.batches.models import (
    Acknowledgement,
    AckStatus,
    Batch,
    BatchKind,
    FileFormat,
    FileLayout,
    LayoutColumn,
)
from coopreg.core.confirm import confirm_first
from coopreg.core.errors import DomainError
from coopreg.core.forms import choices, put_error_on_form
from coopreg.core.labels import label
from coopreg.core.spreadsheets import ReadLimits
from coopreg.core.tenancy import current_cooperative, current_role, db_id, get_scoped_or_404
from coopreg.core.unit_of_work import attempt, button_post, form_page
from coopreg.jobs.views import start_and_follow

bp = Blueprint("batches", __name__)
OFFICE = (Role.ADMIN, Role.SECRETARY, Role.TREASURER)
def _page_context() -> dict:
    return {"kind_labels": L.KIND_LABELS, "status_labels": STATUS_LABELS,
            "format_labels": L.FORMAT_LABELS, "channel_labels": CHANNEL_LABELS,
            "sources": L.SOURCES}


def _actor() -> int:
    return current_user.id


def _agreement_choices(cooperative_id: int):
    return choices((a.id, f"{a.reference} · {a.institution.short_name}")
                   for a in agreements_of(cooperative_id))


def _refuse_kind(batch_or_kind) -> object | None:
    """The batch's kind is prepared by another role: say so and go back (no change made)."""
    kind = getattr(batch_or_kind, "kind", batch_or_kind)
    if services.may_prepare(current_role(), kind):
        return None
    if BatchKind(kind) == BatchKind.REMITTANCE:
        flash(_("Remittance files are prepared by the treasurer or an admin."), "error")
    else:
        flash(_("Enrolment, update and exit files are prepared by the secretary or an "
                "admin."), "error")
    if hasattr(batch_or_kind, "id"):
        return redirect(url_for("batches.view_batch", batch_id=batch_or_kind.id))
    return redirect(url_for("batches.list_batches"))


def _batch_to_change(batch_id: int) -> tuple[Batch, object | None]:
    """The cooperative's batch (404 otherwise) and, when the current role does not prepare
    its kind, the redirect that says so (None when it does)."""
    batch = get_scoped_or_404(Batch, batch_id)
    return batch, _refuse_kind(batch)


def _domain_error(error: DomainError, target: str):
    flash(error.message, "error")
    if isinstance(error, batch_jobs.BatchBusy):
        return redirect(url_for("jobs.view_job", job_id=error.job_id))
    return redirect(target)


def _queue_for(batch_id: int, queue) -> object:
    """Make the draft again, seal or supersede (the button's form carries only its CSRF
    token): checked at once, then done by a background job whose page shows the progress."""
    batch, refused = _batch_to_change(batch_id)
    if refused is not None:
        return refused
    if not EmptyForm().validate_on_submit():
        abort(400)
    with attempt(report=False) as outcome:
        job = queue(batch, _actor())
    if not outcome.ok:
        return _domain_error(outcome.error, url_for("batches.view_batch", batch_id=batch.id))
    return start_and_follow(job)


# ---- batches ------------------------------------------------------------------------------------

BATCHES_PER_PAGE = 100


@bp.route("/")
@roles_required(*ALL_ROLES)
def list_batches():
    cooperative = current_cooperative()
    args = request.args
    filters = {"agreement_id": args.get("agreement_id", type=db_id),
               "kind": args.get("kind", ""), "status": args.get("status", "")}
    chosen = services.BATCH_SORTS.read(args)
    batches, after, total = services.list_batches(cooperative.id, filters, chosen,
                                                  args.get("after"), BATCHES_PER_PAGE)
    return render_template("batches/list.html", batches=batches, after=after, total=total,
                           sorted=chosen, filters=filters, agreements=agreements_of(cooperative.id),
                           **_page_context())


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*OFFICE)
def new_batch():
    cooperative = current_cooperative()
    form = NewBatchForm()
    form.agreement_id.choices = _agreement_choices(cooperative.id)
    holding = None  # the remittance batch that already holds the period's lines
    if request.method == "GET":
        form.kind.data = request.args.get("kind") or (
            "remittance" if current_role() == Role.TREASURER else "enrolment")
        form.agreement_id.data = request.args.get("agreement_id", type=db_id)
        # the remittance page's "Produce the remittance file" names the month
        form.period.data = request.args.get("period", "")[:7]
    if form.validate_on_submit():
        refused = _refuse_kind(form.kind.data)
        if refused is not None:
            return refused
        agreement = get_scoped_or_404(Agreement, form.agreement_id.data)
        with attempt(report=False) as outcome:
            job = batch_jobs.queue_draft(cooperative, agreement, form.kind.data, _actor(),
                                         period=form.period.data or None,
                                         policy=form.policy.data)
        if isinstance(outcome.error, batch_jobs.BatchBusy):
            return _domain_error(outcome.error, url_for("batches.list_batches"))
        if outcome.ok:
            return start_and_follow(job)
        put_error_on_form(form, outcome.error)
        holding = getattr(outcome.error, "batch", None)
    code = 422 if request.method == "POST" else 200
    return render_template("batches/new.html", form=form, holding=holding,
                           **_page_context()), code


@bp.route("/<int:batch_id>")
@roles_required(*ALL_ROLES)
def view_batch(batch_id: int):
    batch = get_scoped_or_404(Batch, batch_id)
    which = "problems" if request.args.get("lines") == "problems" else "all"
    counts = services.line_counts(batch)
    lines = services.batch_lines(batch, which)
    id_columns = {i for i, c in enumerate(batch.layout_snapshot["columns"])
                  if c["source"] == "member.id_number"}
    return render_template(
        "batches/view.html", batch=batch, counts=counts, lines=lines, which=which,
        id_columns=id_columns, totals=services.batch_totals(batch),
        answered=services.answered_line_ids(batch) if batch.is_sealed else {},
        acknowledgements=services.acknowledgements_of(batch),
        replaced_by=services.superseded_by(batch),
        running_job=batch_jobs.running_job(batch.cooperative_id, batch_jobs.KINDS,
                                           batch_id=batch.id),
        can_prepare=services.may_prepare(current_role(), batch.kind),
        can_answer=current_role() in EDITORS and batch.status in acks.ANSWERABLE,
        policy_form=PolicyForm(policy=batch.problem_policy), sent_form=SentForm(
            sent_on=date.today()), empty_form=EmptyForm(),
        notes=[note for notes in BATCH_NOTES.values() for note in notes(batch)],
        **_page_context())


# Areas above that know more of a batch's journey (the institution's desk: when it downloaded
# the file, when its answer arrived) add lines to its page: name → notes(batch) → sentences.
BATCH_NOTES: dict[str, Callable[[Batch], list[str]]] = {}


@bp.route("/<int:batch_id>/policy", methods=["POST"])
@roles_required(*OFFICE)
def set_policy(batch_id: int):
    batch, refused = _batch_to_change(batch_id)
    if refused is not None:
        return refused
    target = url_for("batches.view_batch", batch_id=batch.id)
    form = PolicyForm()
    return button_post(form, lambda: services.set_policy(batch, form.policy.data), back=target,
                       done=_("Saved."),
                       invalid=_("Choose what to do with lines that have problems."),
                       refused=lambda error: _domain_error(error, target))


@bp.route("/<int:batch_id>/refresh", methods=["POST"])
@roles_required(*OFFICE)
def refresh(batch_id: int):
    return _queue_for(batch_id, batch_jobs.queue_refresh)


@bp.route("/<int:batch_id>/seal", methods=["POST"])
@roles_required(*OFFICE)
@confirm_first(Batch, _l(
    "Sealing writes the file once and for good, and moves the registrations on (enrolment: "
    "submitted; exit: terminated)."),
    action=_l("Seal: write the file"))
def seal(batch_id: int):
    return _queue_for(batch_id, batch_jobs.queue_seal)


@bp.route("/<int:batch_id>/discard", methods=["POST"])
@roles_required(*OFFICE)
@confirm_first(Batch, _l(
    "The draft is dropped: no file is written and its lines wait for the next batch."),
    action=_l("Discard the draft"))
def discard(batch_id: int):
    batch, refused = _batch_to_change(batch_id)
    if refused is not None:
        return refused
    target = url_for("batches.view_batch", batch_id=batch.id)
    return button_post(EmptyForm(), lambda: services.discard_batch(batch), back=target,
                       done=_("Draft %(ref)s discarded.", ref=batch.reference),
                       refused=lambda error: _domain_error(error, target))


@bp.route("/<int:batch_id>/download")
@roles_required(*OFFICE)
def download(batch_id: int):
    batch = get_scoped_or_404(Batch, batch_id)
    try:
        data, name = services.verified_file(batch, current_app.config["EXPORT_DIR"])
    except services.FileRefused as error:
        return render_template("core/error.html", code=409, title=_("File refused"),
                               message=error.message), 409
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("batches.view_batch", batch_id=batch.id))
    mimetype = {FileFormat.XLSX: "application/vnd.openxmlformats-officedocument."
                                 "spreadsheetml.sheet",
                FileFormat.CSV: "text/csv", FileFormat.FIXED: "text/plain"}[batch.file_format]
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True,
                     download_name=name, max_age=0)


@bp.route("/<int:batch_id>/sent", methods=["POST"])
@roles_required(*OFFICE)
@confirm_first(Batch, _l(
    "Once marked sent, the batch cannot be taken back; a mistake is mended by a batch that "
    "supersedes it."),
    action=_l("Mark sent"))
def mark_sent(batch_id: int):
    batch, refused = _batch_to_change(batch_id)
    if refused is not None:
        return refused
    target = url_for("batches.view_batch", batch_id=batch.id)
    form = SentForm()
    return button_post(
        form, lambda: services.mark_sent(batch, form.sent_on.data, form.channel.data,
                                         form.note.data),
        back=target, done=_("Batch %(ref)s marked sent.", ref=batch.reference),
        invalid=_("Give the date and how it was sent."),
        refused=lambda error: _domain_error(error, target))


@bp.route("/<int:batch_id>/supersede", methods=["POST"])
@roles_required(*OFFICE)
@confirm_first(Batch, _l(
    "This batch is marked superseded for good and a new draft is made to replace it."),
    action=_l("Make a batch that supersedes it"))
def supersede(batch_id: int):
    return _queue_for(batch_id, batch_jobs.queue_supersede)


# ---- acknowledgements -----------------------------------------------------------------------

@bp.route("/<int:batch_id>/answers/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def upload_ack(batch_id: int):
    batch = get_scoped_or_404(Batch, batch_id)
    form = AckUploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        with attempt(form) as outcome:
            ack = acks.upload_acknowledgement(
                batch, upload.read(), upload.filename or "answer", _actor(),
                ReadLimits.from_config(current_app.config))
        if outcome.ok:
            if ack.interpreted:
                return redirect(url_for("batches.view_ack", ack_id=ack.id))
            return redirect(url_for("batches.ack_mapping", ack_id=ack.id))
    code = 422 if request.method == "POST" else 200
    return render_template("batches/ack_upload.html", form=form, batch=batch,
                           **_page_context()), code


@bp.route("/answers/<int:ack_id>/mapping", methods=["GET", "POST"])
@roles_required(*EDITORS)
def ack_mapping(ack_id: int):
    ack = get_scoped_or_404(Acknowledgement, ack_id)
    batch = ack.batch
    agreement = batch.agreement
    form = AckMappingForm()
    form.set_headers(ack.headers)
    proposal = acks.propose(ack)
    if request.method == "GET":
        form.fill(proposal)
    if form.validate_on_submit():
        if ack.status != AckStatus.UPLOADED:
            flash(_("This file was already %(status)s.", status=label(ack.status)), "error")
            return redirect(url_for("batches.view_ack", ack_id=ack.id))
        with attempt(form) as outcome:
            acks.save_mapping(agreement, {r: getattr(form, r).data
                                          for r in AckMappingForm.ROLE_FIELDS},
                              form.accepted_values.data, form.rejected_values.data,
                              form.date_order.data or None)
            acks.interpret(ack)
        if outcome.ok:
            return redirect(url_for("batches.view_ack", ack_id=ack.id))
    code = 422 if request.method == "POST" else 200
    return render_template("batches/ack_mapping.html", form=form, ack=ack, batch=batch,
                           sample=ack.lines[:5], proposal=proposal, **_page_context()), code


@bp.route("/answers/<int:ack_id>")
@roles_required(*ALL_ROLES)
def view_ack(ack_id: int):
    ack = get_scoped_or_404(Acknowledgement, ack_id)
    return render_template("batches/ack_view.html", ack=ack, batch=ack.batch,
                           empty_form=EmptyForm(), expires_at=acks.answer_expires_at(ack),
                           can_answer=current_role() in EDITORS, **_page_context())


@bp.route("/answers/<int:ack_id>/apply", methods=["POST"])
@roles_required(*EDITORS)
@confirm_first(Acknowledgement, _l(
    "Every matched registration changes at once (registered or rejected); an applied file "
    "cannot be applied again or taken back."),
    action=_l("Apply the answers"))
def apply_ack(ack_id: int):
    ack = get_scoped_or_404(Acknowledgement, ack_id)
    target = url_for("batches.view_ack", ack_id=ack.id)
    return button_post(
        EmptyForm(), lambda: acks.apply_acknowledgement(ack, _actor()), back=target,
        done=lambda _result: _("The answers were applied: %(a)d accepted, %(r)d rejected.",
                               a=ack.accepted_count, r=ack.rejected_count),
        refused=lambda error: _domain_error(error, target),
        then=lambda _result: url_for("batches.view_batch", batch_id=ack.batch_id))


@bp.route("/answers/<int:ack_id>/discard", methods=["POST"])
@roles_required(*EDITORS)
@confirm_first(Acknowledgement, _l(
    "The file is set aside for good: none of its answers will be applied."),
    action=_l("Set this file aside"))
def discard_ack(ack_id: int):
    ack = get_scoped_or_404(Acknowledgement, ack_id)
    target = url_for("batches.view_ack", ack_id=ack.id)
    return button_post(
        EmptyForm(), lambda: acks.discard_acknowledgement(ack), back=target,
        done=_("The file was set aside; nothing was applied."),
        refused=lambda error: _domain_error(error, target),
        then=lambda _result: url_for("batches.view_batch", batch_id=ack.batch_id))


# ---- layouts (admin) --------------------------------------------------------------------------

@bp.route("/layouts")
@roles_required(Role.ADMIN)
def layouts():
    cooperative = current_cooperative()
    chosen = services.LAYOUT_SORTS.read(request.args)
    layouts = services.layouts_of(cooperative.id, chosen)
    return render_template("batches/layouts.html", layouts=layouts, sorted=chosen,
                           problems={layout.id: services.layout_problems(layout)
                                     for layout in layouts},
                           **_page_context())


@bp.route("/layouts/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def new_layout():
    cooperative = current_cooperative()
    form = NewLayoutForm()
    form.agreement_id.choices = _agreement_choices(cooperative.id)
    form.built_in.choices = choices([("", _("An empty layout"))] + [
        (key, f"{L.KIND_LABELS[spec['kind']]}: {spec['name']}")
        for key, spec in L.BUILT_INS.items()])
    if form.validate_on_submit():
        agreement = get_scoped_or_404(Agreement, form.agreement_id.data)
        with attempt(form) as outcome:
            layout = services.create_layout(agreement, form.kind.data,
                                            form.built_in.data or None)
        if outcome.ok:
            flash(_("Layout made."), "success")
            return redirect(url_for("batches.edit_layout", layout_id=layout.id))
    code = 422 if request.method == "POST" else 200
    return render_template("batches/layout_new.html", form=form, built_ins=L.BUILT_INS,
                           **_page_context()), code


def _source_choices(layout: FileLayout):
    return [(key, str(source.label)) for key, source in L.SOURCES.items()
            if layout.kind in source.kinds]


@bp.route("/layouts/<int:layout_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit_layout(layout_id: int):
    layout = get_scoped_or_404(FileLayout, layout_id)
    form = LayoutForm(obj=layout if request.method == "GET" else None)
    if request.method == "GET":
        form.format.data = layout.format.value
    if form.validate_on_submit():
        with attempt(form) as outcome:
            services.update_layout(layout, form.data)
        if outcome.ok:
            flash(_("Changes saved."), "success")
            return redirect(url_for("batches.edit_layout", layout_id=layout.id))
    code = 422 if request.method == "POST" else 200
    column_form = ColumnForm(source_choices=_source_choices(layout), formdata=None)
    copy_form = CopyLayoutForm()
    copy_form.agreement_id.choices = [c for c in _agreement_choices(layout.cooperative_id)
                                      if c.value != layout.agreement_id]
    return render_template("batches/layout_edit.html", layout=layout, form=form,
                           column_form=column_form, copy_form=copy_form,
                           empty_form=EmptyForm(), problems=services.layout_problems(layout),
                           placeholders=L.PLACEHOLDERS, **_page_context()), code


@bp.route("/layouts/<int:layout_id>/columns", methods=["POST"])
@roles_required(Role.ADMIN)
def add_column(layout_id: int):
    layout = get_scoped_or_404(FileLayout, layout_id)
    form = ColumnForm(source_choices=_source_choices(layout))
    target = url_for("batches.edit_layout", layout_id=layout.id)
    if not form.validate_on_submit():
        flash(_("Check the column: %(errors)s", errors="; ".join(
            f"{getattr(form, name).label.text}: {' '.join(errs)}"
            for name, errs in form.errors.items())), "error")
        return redirect(target)
    return button_post(form, lambda: services.add_column(layout, form.data_dict()),
                       back=target, done=_("Column added."),
                       refused=lambda error: _domain_error(error, target))


def _column(layout_id: int, column_id: int) -> tuple[FileLayout, LayoutColumn]:
    layout = get_scoped_or_404(FileLayout, layout_id)
    column = get_scoped_or_404(LayoutColumn, column_id)
    if column.layout_id != layout.id:
        abort(404)
    return layout, column


@bp.route("/layouts/<int:layout_id>/columns/<int:column_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit_column(layout_id: int, column_id: int):
    layout, column = _column(layout_id, column_id)
    form = ColumnForm(obj=column if request.method == "GET" else None,
                      source_choices=_source_choices(layout))
    if request.method == "GET":
        form.col_type.data = column.col_type.value
    return form_page(form, lambda: services.update_column(column, form.data_dict()),
                     done=_("Column saved."),
                     then=url_for("batches.edit_layout", layout_id=layout.id),
                     template="batches/column_edit.html", layout=layout, column=column,
                     **_page_context())


@bp.route("/layouts/<int:layout_id>/columns/<int:column_id>/move", methods=["POST"])
@roles_required(Role.ADMIN)
def move_column(layout_id: int, column_id: int):
    layout, column = _column(layout_id, column_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.move_column(column, "up" if request.form.get("direction") == "up" else "down")
    return redirect(url_for("batches.edit_layout", layout_id=layout.id))


@bp.route("/layouts/<int:layout_id>/columns/<int:column_id>/delete", methods=["POST"])
@roles_required(Role.ADMIN)
def remove_column(layout_id: int, column_id: int):
    layout, column = _column(layout_id, column_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.remove_column(column)
    flash(_("Column removed."), "success")
    return redirect(url_for("batches.edit_layout", layout_id=layout.id))


@bp.route("/layouts/<int:layout_id>/copy", methods=["POST"])
@roles_required(Role.ADMIN)
def copy_layout(layout_id: int):
    layout = get_scoped_or_404(FileLayout, layout_id)
    target = url_for("batches.edit_layout", layout_id=layout.id)
    form = CopyLayoutForm()
    form.agreement_id.choices = _agreement_choices(layout.cooperative_id)
    if not form.validate_on_submit():
        flash(_("Choose the agreement to copy to."), "error")
        return redirect(target)
    agreement = get_scoped_or_404(Agreement, form.agreement_id.data)
    with attempt(report=False) as outcome:
        copy = services.copy_layout(layout, agreement)
    if not outcome.ok:
        return _domain_error(outcome.error, target)
    flash(_("Layout copied to %(ref)s.", ref=agreement.reference), "success")
    return redirect(url_for("batches.edit_layout", layout_id=copy.id))


@bp.route("/layouts/<int:layout_id>/delete", methods=["POST"])
@roles_required(Role.ADMIN)
@confirm_first(FileLayout, _l(
    "The layout and its columns are deleted; the next batch of this kind needs a new "
    "layout."),
    action=_l("Delete this layout"))
def delete_layout(layout_id: int):
    layout = get_scoped_or_404(FileLayout, layout_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.delete_layout(layout)
    flash(_("Layout deleted; batches already made keep their own copy."), "success")
    return redirect(url_for("batches.layouts"))

