"""The institution's desk (its own accounts), and the cooperative admin's page choosing which
agreements send through it."""

from __future__ import annotations

import io

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from coopreg.agreements.services import agreements_of
from coopreg.auth.access import roles_required
from coopreg.auth.forms import EmptyForm
from coopreg.auth.models import Role
from coopreg.batches.forms import AckUploadForm
from coopreg.batches.models import AckStatus, FileFormat
from coopreg.batches.services import FileRefused
from coopreg.cooperatives.models import Cooperative
from coopreg.core.spreadsheets import ReadLimits
from coopreg.core.tenancy import current_cooperative, db_id
from coopreg.core.unit_of_work import attempt, button_post
from coopreg.extensions import db
from coopreg.federations import desk
from coopreg.federations.access import desk_required
from coopreg.federations.forms import DeskModeForm

bp = Blueprint("desk", __name__)

MIMETYPES = {FileFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             FileFormat.CSV: "text/csv", FileFormat.FIXED: "text/plain"}


@bp.app_context_processor
def _desk_context():
    return {"desk_account": g.get("desk_account")}


def _batch_or_404(batch_id: int):
    batch = desk.desk_batch(g.desk_account, batch_id)
    if batch is None:
        abort(404)
    return batch


@bp.route("/")
@desk_required
def home():
    return render_template("federations/desk.html", account=g.desk_account,
                           batches=desk.desk_batches(g.desk_account))


@bp.route("/batches/<int:batch_id>")
@desk_required
def view_batch(batch_id: int):
    batch = _batch_or_404(batch_id)
    return _batch_page(batch, AckUploadForm())


def _batch_page(batch, form, code: int = 200):
    return render_template("federations/desk_batch.html", batch=batch,
                           cooperative=db.session.get(Cooperative, batch.cooperative_id),
                           events=desk.events_of(batch), answers=desk.answers_of(batch),
                           form=form, download_form=EmptyForm()), code


@bp.route("/batches/<int:batch_id>/download", methods=["POST"])
@desk_required
def download(batch_id: int):
    batch = _batch_or_404(batch_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    with attempt() as outcome:
        data, name = desk.download(g.desk_account, batch, current_user.id,
                                   current_app.config["EXPORT_DIR"])
    if not outcome.ok:
        if isinstance(outcome.error, FileRefused):
            return render_template("core/error.html", code=409, title=_("File refused"),
                                   message=outcome.error.message), 409
        return redirect(url_for("desk.view_batch", batch_id=batch.id))
    return send_file(io.BytesIO(data), mimetype=MIMETYPES[batch.file_format],
                     as_attachment=True, download_name=name, max_age=0)


@bp.route("/batches/<int:batch_id>/answer", methods=["POST"])
@desk_required
def upload_answer(batch_id: int):
    batch = _batch_or_404(batch_id)
    form = AckUploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        with attempt(form) as outcome:
            ack = desk.receive_answer(g.desk_account, batch, upload.read(),
                                      upload.filename or "answer", current_user.id,
                                      ReadLimits.from_config(current_app.config))
        if outcome.ok:
            flash(ngettext("Answer received and applied (%(num)d line).",
                           "Answer received and applied (%(num)d lines).", ack.row_count)
                  if ack.status == AckStatus.APPLIED else
                  ngettext("Answer received (%(num)d line): the cooperative applies it.",
                           "Answer received (%(num)d lines): the cooperative applies it.",
                           ack.row_count), "success")
            return redirect(url_for("desk.view_batch", batch_id=batch.id))
    return _batch_page(batch, form, 422)


# ---- the cooperative's side ------------------------------------------------------------------
@bp.route("/settings")
@roles_required(Role.ADMIN)
def settings():
    """Which agreements send their batches through the institution's desk."""
    cooperative = current_cooperative()
    chosen = desk.desk_settings(cooperative)
    rows = []
    for agreement in agreements_of(cooperative.id):
        setting = chosen.get(agreement.id)
        mode = "none" if setting is None else "desk_applied" if setting.applies_answers \
            else "desk"
        rows.append((agreement, DeskModeForm(mode=mode, prefix=f"a{agreement.id}")))
    return render_template("federations/desk_settings.html", rows=rows)


@bp.route("/settings", methods=["POST"])
@roles_required(Role.ADMIN)
def set_mode():
    cooperative = current_cooperative()
    agreement_id = request.form.get("agreement", type=db_id)
    form = DeskModeForm(prefix=f"a{agreement_id}")
    return button_post(form, lambda: desk.set_desk_mode(cooperative, agreement_id or 0,
                                                        form.mode.data),
                       back=url_for("desk.settings"),
                       invalid=_("Choose how the batches reach the institution."),
                       done=lambda reference: _("Saved for %(ref)s.", ref=reference))

