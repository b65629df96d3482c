"""Batches through the API: the sealed files a script fetches (checked against the SHA-256
recorded at sealing, which the response carries in `X-Content-SHA256`) and the institution's
answer file posted back, read and previewed exactly as on the pages."""

from __future__ import annotations

import io
from typing import Any

from flask import abort, current_app, g, send_file
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from coopreg.api.auth import token_roles
from coopreg.api.common import (
    PageArgs,
    api_blueprint,
    found,
    newest_first,
    page_schema,
    utc_iso,
    where_given,
)
from coopreg.api.problems import problem
from coopreg.auth.access import ALL_ROLES, EDITORS
from coopreg.auth.models import OutsideRole, Role
from coopreg.batches import acks, services
from coopreg.batches.models import Acknowledgement, Batch, BatchKind, BatchStatus, FileFormat
from coopreg.core.errors import DomainError
from coopreg.core.spreadsheets import ReadLimits
from coopreg.core.tenancy import get_scoped_or_404, scoped
from coopreg.core.unit_of_work import attempt, checkpoint
from coopreg.extensions import db

PREFIX = "/batches"
OFFICE = (Role.ADMIN, Role.SECRETARY, Role.TREASURER)  # as the pages: viewers never download
INSTITUTION = OutsideRole.INSTITUTION
# Tokens held outside a cooperative reach the batches their area lets them see: role → an
# object with statement(token), download(token, batch, export_dir), answer(token, batch,
# data, filename, limits) and answer_statement(token) (an institution's desk: its batches,
# its logged download, its answer).
OUTSIDE_BATCHES: dict[str, Any] = {}
blp = api_blueprint("batches", "Batch files sent to the institution, and its answers.")
MEDIA_TYPES = {FileFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml"
                                ".sheet",
               FileFormat.CSV: "text/csv", FileFormat.FIXED: "text/plain"}


class BatchOut(Schema):
    id = fields.Integer(required=True)
    reference = fields.String(required=True)
    kind = fields.Function(lambda b: b.kind.value, required=True,
                           metadata={"enum": [k.value for k in BatchKind]})
    status = fields.Function(lambda b: b.status.value, required=True,
                             metadata={"enum": [s.value for s in BatchStatus]})
    agreement_id = fields.Integer(required=True)
    period = fields.Date(allow_none=True)
    row_count = fields.Integer(allow_none=True)
    total_minor = fields.Integer(allow_none=True, metadata={
        "description": "Remittances: the total in minor units of the cooperative's currency."})
    sha256 = fields.String(allow_none=True, metadata={
        "description": "SHA-256 of the sealed file, recorded when it was sealed."})
    sealed_at = fields.Function(lambda b: utc_iso(b.sealed_at), allow_none=True,
                                metadata={"format": "date-time", "type": "string"})
    sent_on = fields.Date(allow_none=True)


class BatchListArgs(PageArgs):
    status = fields.String(load_default="", validate=validate.OneOf(
        [""] + [s.value for s in BatchStatus]))


class AnswerUpload(Schema):
    file = Upload(required=True, metadata={
        "description": "The institution's answer (xlsx, ods, xls or CSV)."})


class AnswerOut(Schema):
    id = fields.Integer(required=True)
    batch_id = fields.Integer(required=True)
    file_name = fields.String(required=True)
    status = fields.Function(lambda a: a.status.value, required=True)
    read = fields.Boolean(attribute="interpreted", required=True, metadata={
        "description": "False: the columns wait for a person's mapping on the answer's page."})
    rows = fields.Integer(attribute="row_count", required=True)
    accepted = fields.Integer(attribute="accepted_count", required=True)
    rejected = fields.Integer(attribute="rejected_count", required=True)
    unmatched = fields.Integer(attribute="unmatched_count", required=True)
    with_problems = fields.Integer(attribute="problem_count", required=True)


BatchPage = page_schema(BatchOut, "BatchPage")


def _outside():
    """What a token held outside a cooperative may reach (None for a cooperative's token)."""
    return OUTSIDE_BATCHES.get(g.role) if g.cooperative is None else None


def _batches():
    outside = _outside()
    return scoped(Batch) if outside is None else outside.statement(g.api_token)


def _batch_or_404(batch_id: int) -> Batch:
    if _outside() is None:
        return get_scoped_or_404(Batch, batch_id)
    batch = db.session.scalar(_batches().where(Batch.id == batch_id))
    if batch is None:
        abort(404)
    return batch


@blp.route("/")
@token_roles(*ALL_ROLES, INSTITUTION)
@blp.arguments(BatchListArgs, location="query")
@blp.response(200, BatchPage)
def list_batches(args):
    """The cooperative's batches, newest first; filter by status (`sealed`, `sent`…). An
    institution's desk token lists the batches sent to it through the desk."""
    return newest_first(where_given(_batches(), Batch, args, "status"), Batch, args)


@blp.route("/<int:batch_id>")
@token_roles(*ALL_ROLES, INSTITUTION)
@blp.response(200, BatchOut)
def get_batch(batch_id: int):
    """One batch of the token's cooperative (or of the desk's batches)."""
    return _batch_or_404(batch_id)


@blp.route("/<int:batch_id>/file")
@token_roles(*OFFICE, INSTITUTION)
@blp.response(200, content_type="application/octet-stream", description=(
    "The sealed file, as sealed; its SHA-256 in the `X-Content-SHA256` header."))
@blp.alt_response(409, description="The file is missing or no longer matches its checksum.")
def download_batch(batch_id: int):
    """The sealed file, checked against the SHA-256 recorded when it was sealed. A desk
    token's download is logged as the desk's is."""
    batch = _batch_or_404(batch_id)
    outside = _outside()
    try:
        if outside is None:
            data, name = services.verified_file(batch, current_app.config["EXPORT_DIR"])
        else:
            data, name = outside.download(g.api_token, batch, current_app.config["EXPORT_DIR"])
            # a GET commits nothing: the institution's download is on record before the file
            # goes out, as at the desk
            checkpoint()
    except services.FileRefused as error:
        return problem(409, error.message, slug="file-refused")
    except DomainError as error:
        return problem(409, error.message, slug="not-sealed")
    response = send_file(io.BytesIO(data), mimetype=MEDIA_TYPES[batch.file_format],
                         as_attachment=True, download_name=name, max_age=0)
    response.headers["X-Content-SHA256"] = batch.sha256
    return response


@blp.route("/<int:batch_id>/answers", methods=["POST"])
@token_roles(*EDITORS, INSTITUTION)
@found(Batch, "batch_id", lambda batch_id: _batch_or_404(batch_id))
@blp.arguments(AnswerUpload, location="files")
@blp.response(201, AnswerOut)
def post_answer(files, batch_id: int):
    """Upload the institution's answer file: read and previewed as on the pages (applied by
    a person there, or through its own endpoint once the API offers it)."""
    batch = _batch_or_404(batch_id)
    upload = files["file"]
    outside = _outside()
    limits = ReadLimits.from_config(current_app.config)
    with attempt(None, report=False) as outcome:
        if outside is None:
            ack = acks.upload_acknowledgement(batch, upload.read(),
                                              upload.filename or "answer",
                                              g.api_token.user_id, limits)
        else:
            ack = outside.answer(g.api_token, batch, upload.read(),
                                 upload.filename or "answer", limits)
    if not outcome.ok:
        return problem(422, outcome.error.message, slug="answer-refused",
                       errors={"file": [outcome.error.message]})
    return db.session.get(Acknowledgement, ack.id)


@blp.route("/answers/<int:answer_id>")
@token_roles(*ALL_ROLES, INSTITUTION)
@blp.response(200, AnswerOut)
def get_answer(answer_id: int):
    """An answer file's reading: how many rows were accepted, rejected, matched nothing or
    have problems."""
    outside = _outside()
    if outside is None:
        return get_scoped_or_404(Acknowledgement, answer_id)
    answer = db.session.scalar(outside.answer_statement(g.api_token).where(
        Acknowledgement.id == answer_id))
    if answer is None:
        abort(404)
    return answer

