"""Receipts through the API: a payment recorded with an `Idempotency-Key` (the same key with
the same body answers the first receipt; with another body, 409), read, and reversed — the
same service as the receipt form, so numbers stay gap-free and the money rules the same."""

from __future__ import annotations

import re

from flask import g, request
from flask_babel import gettext as _
from marshmallow import Schema, fields, validate

from coopreg.api.auth import token_roles
from coopreg.api.common import (
    AmountString,
    PageArgs,
    api_blueprint,
    found,
    newest_first,
    page_schema,
    utc_iso,
    where_given,
)
from coopreg.api.problems import problem
from coopreg.auth.access import ALL_ROLES
from coopreg.auth.models import Role
from coopreg.contributions import services
from coopreg.contributions.models import PaymentMethod, Receipt, ReceiptReversal
from coopreg.core.errors import KeyReused
from coopreg.core.money import from_minor
from coopreg.core.tenancy import get_scoped_or_404, scoped
from coopreg.core.unit_of_work import attempt
from coopreg.extensions import db

PREFIX = "/receipts"
KEY = re.compile(r"[A-Za-z0-9:._-]{8,76}")  # kept as "api:<key>" (80 at most)
MONEY = (Role.ADMIN, Role.TREASURER)  # as the pages: who records and reverses money
blp = api_blueprint("receipts", "Payments received from members.")


def _amount(receipt: Receipt) -> str:
    return str(from_minor(receipt.amount_minor, g.cooperative.currency))


def _reversed(receipt: Receipt) -> bool:
    return db.session.scalar(scoped(ReceiptReversal).where(
        ReceiptReversal.receipt_id == receipt.id).with_only_columns(ReceiptReversal.id)
    ) is not None


class ReceiptOut(Schema):
    id = fields.Integer(required=True)
    number = fields.Integer(required=True, metadata={"description": "Gap-free, per cooperative."})
    member_id = fields.Integer(required=True)
    received_on = fields.Date(required=True)
    amount = fields.Function(_amount, required=True, metadata={
        "type": "string", "description": "Decimal, in the cooperative's currency: the "
                                         "member's money."})
    currency = fields.Function(lambda r: g.cooperative.currency, required=True)
    method = fields.Function(lambda r: r.method.value, required=True,
                             metadata={"enum": [m.value for m in PaymentMethod]})
    external_reference = fields.String(allow_none=True)
    collector = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    reversed = fields.Function(_reversed, required=True, metadata={"type": "boolean"})
    created_at = fields.Function(lambda r: utc_iso(r.created_at), required=True,
                                 metadata={"type": "string", "format": "date-time"})


class ReceiptIn(Schema):
    member_id = fields.Integer(required=True, validate=validate.Range(min=1))
    received_on = fields.Date(required=True)
    # a decimal written as a string (never a float); above zero, checked by the receipts' rule
    amount = AmountString(required=True, as_string=True,
                            metadata={"type": "string", "example": "2500.00"})
    method = fields.String(required=True, validate=validate.OneOf(
        [m.value for m in PaymentMethod]))
    external_reference = fields.String(load_default=None, allow_none=True,
                                       validate=validate.Length(max=80))
    collector = fields.String(load_default=None, allow_none=True,
                              validate=validate.Length(max=120))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=300))


class ReversalIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=3, max=300))


class ReceiptListArgs(PageArgs):
    member_id = fields.Integer(load_default=None, validate=validate.Range(min=1))


ReceiptPage = page_schema(ReceiptOut, "ReceiptPage")
IDEMPOTENCY = {"in": "header", "name": "Idempotency-Key", "required": True,
               "schema": {"type": "string", "pattern": "^[A-Za-z0-9:._-]{8,76}$"},
               "description": "One per payment: a retry with the same key and body answers "
                              "the receipt already recorded; another body is refused (409)."}


@blp.route("/", methods=["POST"])
@token_roles(*MONEY)
@blp.arguments(ReceiptIn)
@blp.response(201, ReceiptOut)
@blp.alt_response(200, schema=ReceiptOut, description="The same key and body again: the "
                                                      "receipt recorded the first time.")
@blp.alt_response(409, description="The key was used with another body.")
@blp.doc(parameters=[IDEMPOTENCY])
def record_receipt(data):
    """Record a payment; it pays the member's oldest open dues."""
    key = (request.headers.get("Idempotency-Key") or "").strip()
    if not KEY.fullmatch(key):
        return problem(428, _("Send an Idempotency-Key header of 8 to 76 letters, digits or "
                              ":._- (one per payment)."), slug="idempotency-key-required")
    with attempt(None, report=False) as outcome:
        receipt, created = services.record_receipt(g.cooperative, services.ReceiptInput(
            member_id=data["member_id"], received_on=data["received_on"],
            amount=data["amount"], method=data["method"],
            external_reference=data["external_reference"], collector=data["collector"],
            note=data["note"], idempotency_key=f"api:{key}"), g.api_token.user_id)
    if not outcome.ok:
        error = outcome.error
        if isinstance(error, KeyReused):
            return problem(409, error.message, slug="idempotency-key-reused")
        return problem(422, error.message, slug="receipt-refused",
                       errors={error.field or "body": [error.message]})
    return receipt, 201 if created else 200


@blp.route("/")
@token_roles(*ALL_ROLES)
@blp.arguments(ReceiptListArgs, location="query")
@blp.response(200, ReceiptPage)
def list_receipts(args):
    """Receipts, newest first; of one member with `member_id`."""
    return newest_first(where_given(scoped(Receipt), Receipt, args, "member_id"), Receipt,
                        args)


@blp.route("/<int:receipt_id>")
@token_roles(*ALL_ROLES)
@blp.response(200, ReceiptOut)
def get_receipt(receipt_id: int):
    """One receipt of the token's cooperative."""
    return get_scoped_or_404(Receipt, receipt_id)


@blp.route("/<int:receipt_id>/reversal", methods=["POST"])
@token_roles(*MONEY)
@found(Receipt, "receipt_id")
@blp.arguments(ReversalIn)
@blp.response(201, ReceiptOut)
@blp.alt_response(409, description="Already reversed, or its dues were remitted.")
def reverse_receipt(data, receipt_id: int):
    """Reverse a wrong receipt (never edited nor deleted): its payments leave the dues."""
    receipt = get_scoped_or_404(Receipt, receipt_id)
    blockers = services.reversal_blockers(receipt)
    if blockers:
        return problem(409, " ".join(blockers), slug="cannot-reverse")
    with attempt(None, report=False) as outcome:
        services.reverse_receipt(receipt, data["reason"], g.api_token.user_id)
    if not outcome.ok:
        return problem(422, outcome.error.message, slug="reversal-refused",
                       errors={outcome.error.field or "reason": [outcome.error.message]})
    return receipt
