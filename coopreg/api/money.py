"""Contributions through the API, read only: dues (by member, agreement, period and whether
paid), remittances passed on to the institution, and an agreement's reconciliation as JSON
(the reconciliation page's figures, from the same report). Amounts are decimal strings in the
cooperative's currency."""

from __future__ import annotations

from datetime import date

from flask import g
from marshmallow import Schema, fields, validate
from sqlalchemy import and_, func, select

from coopreg.agreements.models import Agreement
from coopreg.api.auth import token_roles
from coopreg.api.common import (
    PageArgs,
    api_blueprint,
    newest_first,
    page_schema,
    utc_iso,
    where_given,
)
from coopreg.auth.access import ALL_ROLES
from coopreg.contributions import reports
from coopreg.contributions.models import Due, DueTotal, Remittance
from coopreg.core.money import from_minor
from coopreg.core.tenancy import get_scoped_or_404, scoped
from coopreg.extensions import db

PREFIX = ""  # /dues, /remittances, /agreements/{id}/reconciliation
blp = api_blueprint("money", "Dues, remittances and the reconciliation of an agreement.")
DUE_STATUSES = ("open", "paid", "written_off")


def _money(minor: int | None) -> str | None:
    return None if minor is None else str(from_minor(minor, g.cooperative.currency))


def _amount(attribute: str, description: str = "", required: bool = True) -> fields.Function:
    return fields.Function(lambda obj: _money(_get(obj, attribute)), required=required,
                           allow_none=not required,
                           metadata={"type": "string", "description": description})


def _get(obj, attribute: str):
    return obj[attribute] if isinstance(obj, dict) else getattr(obj, attribute)


class Month(fields.Date):
    """A month as `YYYY-MM` (or any day of it, `YYYY-MM-DD`): its first day."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and len(value) == 7:
            value += "-01"
        day = super()._deserialize(value, attr, data, **kwargs)
        return day.replace(day=1)


class DueOut(Schema):
    id = fields.Integer(required=True)
    member_id = fields.Integer(required=True)
    agreement_id = fields.Integer(required=True)
    registration_id = fields.Integer(required=True)
    period = fields.Date(required=True, metadata={"description": "The month's first day."})
    due_date = fields.Date(required=True)
    grace_until = fields.Date(required=True)
    member_share = _amount("member_share_minor", "What the member owes.")
    cooperative_share = _amount("cooperative_share_minor", "The cooperative's part.")
    paid = _amount("paid_minor", "Of the member's share, paid (net of reversals).")
    written_off = _amount("written_off_minor", "Of the member's share, written off.")
    open = _amount("open_minor", "Of the member's share, still owed.")
    status = fields.String(required=True, metadata={"enum": list(DUE_STATUSES)})


class DueListArgs(PageArgs):
    member_id = fields.Integer(load_default=None, validate=validate.Range(min=1))
    agreement_id = fields.Integer(load_default=None, validate=validate.Range(min=1))
    period = Month(load_default=None, metadata={"description": "A month: `YYYY-MM`."})
    status = fields.String(load_default="", validate=validate.OneOf(("",) + DUE_STATUSES),
                           metadata={"description": "open: something still owed; paid: "
                                                    "fully paid; written_off: settled with a "
                                                    "write-off."})


class RemittanceOut(Schema):
    id = fields.Integer(required=True)
    agreement_id = fields.Integer(required=True)
    period = fields.Date(required=True)
    remitted_on = fields.Date(required=True)
    amount = _amount("amount_minor", "Both shares of the dues it passed on.")
    reference = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    acknowledged_on = fields.Function(
        lambda r: r.acknowledgement.acknowledged_on.isoformat() if r.acknowledgement else None,
        allow_none=True, metadata={"type": "string", "format": "date"})
    acknowledged_amount = fields.Function(
        lambda r: _money(r.acknowledgement.amount_minor) if r.acknowledgement else None,
        allow_none=True, metadata={"type": "string"})
    created_at = fields.Function(lambda r: utc_iso(r.created_at), required=True,
                                 metadata={"type": "string", "format": "date-time"})


class RemittanceListArgs(PageArgs):
    agreement_id = fields.Integer(load_default=None, validate=validate.Range(min=1))


class PeriodOut(Schema):
    """One row of the reconciliation page (`contributions.reports.PeriodFigures`)."""
    period = fields.Date(required=True)
    dues = fields.Integer(required=True)
    due = _amount("due_minor", "Members' share due.")
    cooperative_share = _amount("cooperative_share_minor", "The cooperative's share due.")
    due_total = _amount("due_total_minor", "Both shares: what the institution is owed.")
    allocated = _amount("allocated_minor", "Members' share paid towards the period's dues.")
    collected = _amount("collected_minor", "Members' money received in the month.")
    written_off = _amount("written_off_minor", "Members' share written off.")
    open = _amount("open_minor", "Members' share neither paid nor written off.")
    paid_dues = fields.Integer(required=True, metadata={"description": "Dues fully paid."})
    paid_total = _amount("paid_total_minor", "Both shares of the fully paid dues.")
    unremitted = _amount("unremitted_minor", "Both shares paid, not remitted yet.")
    remitted = _amount("remitted_minor", "Both shares remitted.")
    remittance_id = fields.Function(lambda f: f.remittance.id if f.remittance else None,
                                    allow_none=True, metadata={"type": "integer"})
    remittance = fields.Function(
        lambda f: _money(f.remittance.amount_minor) if f.remittance else None, allow_none=True,
        metadata={"type": "string", "description": "The period's remittance, both shares."})
    acknowledged = _amount("acknowledged_minor", "What the institution acknowledged.",
                           required=False)
    grace_until = fields.Date(allow_none=True)
    closed = fields.Boolean(required=True)
    flags = fields.List(fields.String(), required=True, metadata={
        "description": "What needs a look, in the caller's language."})


class ReconciliationOut(Schema):
    agreement_id = fields.Integer(required=True)
    currency = fields.String(required=True)
    members_credit = fields.String(required=True, metadata={
        "description": "Money received from members and not yet applied to any due."})
    periods = fields.List(fields.Nested(PeriodOut), required=True, metadata={
        "description": "Newest first."})


DuePage = page_schema(DueOut, "DuePage")
RemittancePage = page_schema(RemittanceOut, "RemittancePage")


@blp.route("/dues/")
@token_roles(*ALL_ROLES)
@blp.arguments(DueListArgs, location="query")
@blp.response(200, DuePage)
def list_dues(args):
    """Dues, newest first; of one member, agreement, month (`period=2026-11`) or status."""
    paid = func.coalesce(DueTotal.paid_minor, 0)
    gone = func.coalesce(DueTotal.written_off_minor, 0)
    stmt = where_given(scoped(Due).outerjoin(DueTotal, DueTotal.due_id == Due.id), Due, args,
                       "member_id", "agreement_id", "period")
    status = {"open": Due.member_share_minor > paid + gone,
              "paid": paid >= Due.member_share_minor,
              "written_off": and_(gone > 0, paid < Due.member_share_minor,
                                  paid + gone >= Due.member_share_minor)}.get(args["status"])
    if status is not None:
        stmt = stmt.where(status)
    page = newest_first(stmt, Due, args)
    totals = {row.due_id: row for row in db.session.execute(
        select(DueTotal.due_id, DueTotal.paid_minor, DueTotal.written_off_minor)
        .where(DueTotal.due_id.in_([due.id for due in page["items"]])))}
    page["items"] = [_due_row(due, totals.get(due.id)) for due in page["items"]]
    return page


def _due_row(due: Due, total) -> dict:
    paid = int(total.paid_minor) if total else 0
    gone = int(total.written_off_minor) if total else 0
    open_minor = max(due.member_share_minor - paid - gone, 0)
    status = ("paid" if paid >= due.member_share_minor
              else "open" if open_minor else "written_off")
    return {**{name: getattr(due, name) for name in (
        "id", "member_id", "agreement_id", "registration_id", "period", "due_date",
        "grace_until", "member_share_minor", "cooperative_share_minor")},
        "paid_minor": paid, "written_off_minor": gone, "open_minor": open_minor,
        "status": status}


@blp.route("/remittances/")
@token_roles(*ALL_ROLES)
@blp.arguments(RemittanceListArgs, location="query")
@blp.response(200, RemittancePage)
def list_remittances(args):
    """Remittances passed on to institutions, newest first; of one agreement."""
    return newest_first(where_given(scoped(Remittance), Remittance, args, "agreement_id"),
                        Remittance, args)


@blp.route("/remittances/<int:remittance_id>")
@token_roles(*ALL_ROLES)
@blp.response(200, RemittanceOut)
def get_remittance(remittance_id: int):
    """One remittance, with the institution's acknowledgement when recorded."""
    return get_scoped_or_404(Remittance, remittance_id)


@blp.route("/agreements/<int:agreement_id>/reconciliation")
@token_roles(*ALL_ROLES)
@blp.response(200, ReconciliationOut)
def reconciliation(agreement_id: int):
    """An agreement's reconciliation, period by period: the reconciliation page's figures
    (due, paid, written off, open, to remit, remitted, acknowledged) and its flags."""
    agreement = get_scoped_or_404(Agreement, agreement_id)
    return {"agreement_id": agreement.id, "currency": g.cooperative.currency,
            "members_credit": _money(reports.members_credit_total(g.cooperative.id)),
            "periods": reports.reconciliation(agreement, today=date.today())}
