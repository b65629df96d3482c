"""Agreements through the API: agreements and their terms (read), registrations (read, and
moved through the allowed transitions of `REGISTRATION_TRANSITIONS` by the same service as
the registration's page), and the coverage report's figures as JSON (the page's numbers)."""

from __future__ import annotations

from flask import abort, g
from marshmallow import Schema, fields, validate

from coopreg.agreements import services
from coopreg.agreements.coverage import DIMENSIONS, coverage_report
from coopreg.agreements.models import (
    REGISTRATION_LIFECYCLE,
    Agreement,
    Branch,
    Registration,
    RegistrationStatus,
    RuleKind,
    Schedule,
)
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
from coopreg.core.money import from_minor
from coopreg.core.tenancy import get_scoped_or_404, scoped
from coopreg.core.unit_of_work import attempt

PREFIX = ""  # /agreements, /registrations and /coverage
blp = api_blueprint("agreements", "Agreements with institutions, their terms, the members' "
                                  "registrations under them, and the coverage they give.")


def _money(minor: int | None) -> str | None:
    return None if minor is None else str(from_minor(minor, g.cooperative.currency))


def _percent(bp: int | None) -> str | None:
    """Basis points as a percentage string ("12.50")."""
    return None if bp is None else f"{bp / 100:.2f}"


class TermsOut(Schema):
    id = fields.Integer(required=True)
    effective_from = fields.Date(required=True)
    rule_kind = fields.Function(lambda t: t.rule_kind.value, required=True,
                                metadata={"enum": [k.value for k in RuleKind]})
    flat_amount = fields.Function(lambda t: _money(t.flat_amount_minor), allow_none=True,
                                  metadata={"type": "string"})
    rate_percent = fields.Function(lambda t: _percent(t.rate_bp), allow_none=True,
                                   metadata={"type": "string"})
    floor = fields.Function(lambda t: _money(t.floor_minor), allow_none=True,
                            metadata={"type": "string"})
    ceiling = fields.Function(lambda t: _money(t.ceiling_minor), allow_none=True,
                              metadata={"type": "string"})
    member_share_percent = fields.Function(lambda t: _percent(t.member_share_bp),
                                           required=True, metadata={"type": "string"})
    schedule = fields.Function(lambda t: t.schedule.value, required=True,
                               metadata={"enum": [s.value for s in Schedule]})
    due_months = fields.Function(lambda t: t.month_list, required=True,
                                 metadata={"type": "array", "items": {"type": "integer"}})
    due_day = fields.Integer(required=True)
    grace_days = fields.Integer(required=True)
    remittance_deadline_days = fields.Integer(required=True)
    note = fields.String(allow_none=True)


class AgreementOut(Schema):
    id = fields.Integer(required=True)
    reference = fields.String(required=True)
    institution = fields.Function(lambda a: a.institution.name, required=True)
    schemes = fields.Function(lambda a: [s.name for s in a.schemes], required=True,
                              metadata={"type": "array", "items": {"type": "string"}})
    branches = fields.Function(lambda a: [b.value for b in a.branches], required=True,
                               metadata={"type": "array", "items": {
                                   "type": "string", "enum": [b.value for b in Branch]}})
    signed_on = fields.Date(allow_none=True)
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(allow_none=True)
    member_number_pattern = fields.String(allow_none=True)


class AgreementDetail(AgreementOut):
    terms = fields.List(fields.Nested(TermsOut), required=True, metadata={
        "description": "Every amendment, oldest first (never changed once made)."})


class RegistrationOut(Schema):
    id = fields.Integer(required=True)
    member_id = fields.Integer(required=True)
    agreement_id = fields.Integer(required=True)
    status = fields.Function(lambda r: r.status.value, required=True,
                             metadata={"enum": [s.value for s in RegistrationStatus]})
    allowed_transitions = fields.Function(
        lambda r: [s.value for s in REGISTRATION_LIFECYCLE.allowed(r.status)], required=True,
        metadata={"type": "array", "items": {"type": "string"},
                  "description": "The statuses it may move to now."})
    institution_member_number = fields.String(allow_none=True)
    coverage_start = fields.Date(allow_none=True)
    coverage_end = fields.Date(allow_none=True)
    rejection_reason = fields.String(allow_none=True)
    exit_flagged = fields.Boolean(required=True)
    status_changed_at = fields.Function(lambda r: utc_iso(r.status_changed_at),
                                        allow_none=True,
                                        metadata={"type": "string", "format": "date-time"})


class RegistrationListArgs(PageArgs):
    member_id = fields.Integer(load_default=None, validate=validate.Range(min=1))
    status = fields.String(load_default="", validate=validate.OneOf(
        [""] + [s.value for s in RegistrationStatus]))


class TransitionIn(Schema):
    to_status = fields.String(required=True, validate=validate.OneOf(
        [s.value for s in RegistrationStatus]))
    reason = fields.String(load_default=None, allow_none=True,
                           validate=validate.Length(max=300), metadata={
                               "description": "Needed to suspend, terminate, or go back to "
                                              "pending from ready."})
    institution_member_number = fields.String(load_default=None, allow_none=True,
                                              validate=validate.Length(max=40), metadata={
                                                  "description": "Needed for registered."})
    coverage_start = fields.Date(load_default=None, allow_none=True, metadata={
        "description": "Needed for registered."})
    rejection_reason = fields.String(load_default=None, allow_none=True,
                                     validate=validate.Length(max=300), metadata={
                                         "description": "Needed for rejected."})


class BranchFigures(Schema):
    branch = fields.Function(lambda c: c.branch.value, required=True,
                             metadata={"enum": [b.value for b in Branch]})
    total = fields.Integer(required=True, metadata={
        "description": "Active members it concerns (for maternity, the women)."})
    covered = fields.Integer(required=True)
    outside = fields.Integer(required=True, metadata={
        "description": "Not covered here, covered outside the cooperative (declared)."})
    not_covered = fields.Integer(required=True)
    gap = fields.Integer(required=True, metadata={"description": "Covered neither here "
                                                                 "nor outside."})
    share = fields.Function(lambda c: str(c.share), required=True, metadata={
        "type": "string", "description": "Covered share, 0 to 1, four decimals."})


class GroupFigures(Schema):
    key = fields.Function(lambda g_: "" if g_.key is None else str(g_.key), required=True)
    label = fields.Function(lambda g_: str(g_.label), required=True)
    total = fields.Integer(required=True)
    branches = fields.List(fields.Nested(BranchFigures), required=True)


class CoverageOut(Schema):
    as_of = fields.Date(required=True)
    total_active = fields.Integer(required=True)
    covered_any = fields.Integer(required=True, metadata={
        "description": "Active members covered for at least one branch."})
    women = fields.Integer(required=True)
    covered_outside_any = fields.Integer(required=True)
    dependants_covered = fields.Integer(required=True)
    branches = fields.List(fields.Nested(BranchFigures), required=True)
    breakdowns = fields.Dict(keys=fields.String(validate=validate.OneOf(
        [name for name, _title in DIMENSIONS])), values=fields.List(fields.Nested(GroupFigures)),
        required=True, metadata={"description": "By sector, sex, age band and locality."})


AgreementPage = page_schema(AgreementOut, "AgreementPage")
RegistrationPage = page_schema(RegistrationOut, "RegistrationPage")


@blp.route("/agreements/")
@token_roles(*ALL_ROLES)
@blp.arguments(PageArgs, location="query")
@blp.response(200, AgreementPage)
def list_agreements(args):
    """The cooperative's agreements, newest first."""
    return newest_first(scoped(Agreement), Agreement, args)


@blp.route("/agreements/<int:agreement_id>")
@token_roles(*ALL_ROLES)
@blp.response(200, AgreementDetail)
def get_agreement(agreement_id: int):
    """One agreement with every amendment of its terms."""
    return get_scoped_or_404(Agreement, agreement_id)


@blp.route("/agreements/<int:agreement_id>/registrations")
@token_roles(*ALL_ROLES)
@found(Agreement, "agreement_id")
@blp.arguments(RegistrationListArgs, location="query")
@blp.response(200, RegistrationPage)
def list_registrations(args, agreement_id: int):
    """The registrations under an agreement, newest first; filter by member or status."""
    stmt = scoped(Registration).where(Registration.agreement_id == agreement_id)
    return newest_first(where_given(stmt, Registration, args, "member_id", "status"),
                        Registration, args)


@blp.route("/registrations/<int:registration_id>")
@token_roles(*ALL_ROLES)
@blp.response(200, RegistrationOut)
def get_registration(registration_id: int):
    """One registration, with the statuses it may move to now."""
    return get_scoped_or_404(Registration, registration_id)


@blp.route("/registrations/<int:registration_id>/transition", methods=["POST"])
@token_roles(*EDITORS)
@found(Registration, "registration_id")
@blp.arguments(TransitionIn)
@blp.response(200, RegistrationOut)
def transition_registration(data, registration_id: int):
    """Move a registration to another status: only the allowed transitions, with what each
    needs (ready: nothing missing; registered: the institution's number and the coverage
    start; rejected: the institution's reason; suspended, terminated: a reason)."""
    registration = get_scoped_or_404(Registration, registration_id)
    with attempt(None, report=False) as outcome:
        services.transition_registration(
            registration, data["to_status"], g.api_token.user_id, reason=data["reason"],
            institution_number=data["institution_member_number"],
            coverage_start=data["coverage_start"], rejection_reason=data["rejection_reason"])
    if not outcome.ok:
        error = outcome.error
        abort(problem(422, error.message, slug="transition-refused",
                      errors={error.field or "to_status": [error.message]}))
    return registration


@blp.route("/coverage")
@token_roles(*ALL_ROLES)
@blp.response(200, CoverageOut)
def coverage():
    """The coverage report's figures (the coverage page's numbers): active members covered
    per branch, overall and by sector, sex, age band and locality."""
    return coverage_report(g.cooperative.id)
