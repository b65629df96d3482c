"""Members through the API: the register's list (keyset-paginated, with the page's filters
and search), one member with its ETag, created and changed by the form's rules (a change
needs `If-Match`), status changes and dependants; IDs masked for viewers as on the pages."""

from __future__ import annotations

from flask import abort, g, jsonify
from flask_babel import gettext as _
from marshmallow import Schema, fields, validate

from coopreg.api.auth import token_roles
from coopreg.api.common import AmountString, PageArgs, api_blueprint, found, page_schema
from coopreg.api.problems import problem
from coopreg.auth.access import ALL_ROLES, EDITORS
from coopreg.core.errors import DomainError
from coopreg.core.money import from_minor
from coopreg.core.phones import NATIONAL, phone_as
from coopreg.core.tenancy import get_scoped_or_404, masked_ids
from coopreg.core.unit_of_work import attempt
from coopreg.members import services
from coopreg.members.display import show_id, show_tax_number
from coopreg.members.forms import MemberForm
from coopreg.members.models import (
    CivilStatus,
    ConsentMethod,
    DependantRelation,
    Member,
    MemberStatus,
    Sector,
    Sex,
)

PREFIX = "/members"
blp = api_blueprint("members", "The member register.")


class MemberSummary(Schema):
    id = fields.Integer(required=True)
    member_number = fields.String(required=True)
    first_name = fields.String(required=True)
    middle_name = fields.String(allow_none=True)
    last_name = fields.String(required=True)
    second_last_name = fields.String(allow_none=True)
    id_type = fields.String(allow_none=True)
    id_number = fields.Function(lambda m: show_id(m) or None, allow_none=True, metadata={
        "description": "Formatted for the country; masked for viewers."})
    phone = fields.String(allow_none=True, metadata={
        "description": "In E.164 (+50688881234); a number the register could not read in the "
                       "cooperative's country is given as typed, with `phone_unchecked`."})
    locality = fields.String(allow_none=True)
    status = fields.Function(lambda m: m.status.value, required=True,
                             metadata={"enum": [s.value for s in MemberStatus]})
    joined_on = fields.Date(required=True)


class MemberDetail(MemberSummary):
    sex = fields.Function(lambda m: m.sex.value, required=True)
    date_of_birth = fields.Date(required=True)
    name_extension = fields.String(allow_none=True, metadata={"description": "Jr., III…"})
    mothers_maiden_name = fields.String(allow_none=True)
    civil_status = fields.Function(lambda m: getattr(m.civil_status, "value", None),
                                   allow_none=True,
                                   metadata={"enum": [c.value for c in CivilStatus]})
    nationality = fields.String(allow_none=True, metadata={
        "description": "ISO 3166 alpha-2 country code."})
    tax_number = fields.Function(lambda m: show_tax_number(m) or None, allow_none=True,
                                 metadata={"description": "Masked for viewers."})
    email = fields.String(allow_none=True)
    phone_national = fields.Function(lambda m: phone_as(m.phone, NATIONAL, g.cooperative.country)
                                     or None, allow_none=True,
                                     metadata={"description": "The phone in the national "
                                                              "form people write."})
    phone_unchecked = fields.Boolean(required=True)
    address = fields.String(allow_none=True)
    province_code = fields.String(allow_none=True, metadata={
        "description": "Official code of the address's province (Costa Rica)."})
    canton_code = fields.String(allow_none=True)
    district_code = fields.String(allow_none=True)
    left_on = fields.Date(allow_none=True)
    sector = fields.Function(lambda m: m.sector.value, required=True,
                             metadata={"enum": [s.value for s in Sector]})
    occupation = fields.String(allow_none=True)
    declared_income = fields.Function(
        lambda m: None if m.declared_income_minor is None
        else str(from_minor(m.declared_income_minor, g.cooperative.currency)),
        allow_none=True, metadata={"type": "string", "description": "Monthly, decimal."})
    consent_given = fields.Boolean(required=True)
    consent_date = fields.Date(allow_none=True)
    consent_method = fields.Function(
        lambda m: m.consent_method.value if m.consent_method else None, allow_none=True)
    language = fields.String(allow_none=True)
    version = fields.Integer(required=True, metadata={
        "description": "Moves on with every change; also the ETag."})


class MemberListArgs(PageArgs):
    q = fields.String(load_default="", validate=validate.Length(max=100), metadata={
        "description": "Member number, national ID, phone or words of the name."})
    status = fields.String(load_default="", validate=validate.OneOf(
        [""] + [s.value for s in MemberStatus]))


MemberPage = page_schema(MemberSummary, "MemberPage")


@blp.route("/")
@token_roles(*ALL_ROLES)
@blp.arguments(MemberListArgs, location="query")
@blp.response(200, MemberPage)
def list_members(args):
    """The register, by name; `next_cursor` leads to the next page."""
    page = services.list_members(g.cooperative.id, q=args["q"], status=args["status"],
                                 after=args["cursor"], per_page=args["limit"],
                                 whole_ids=masked_ids())
    # written straight from the rows (what MemberSummary would dump, held equal by a test):
    # marshmallow's dump of 50 rows cost more than reading them
    return jsonify({"items": [summary(row) for row in page.members],
                    "next_cursor": page.next_cursor})


def summary(row) -> dict:
    """One row of the list as `MemberSummary` has it."""
    return {"id": row.id, "member_number": row.member_number, "first_name": row.first_name,
            "middle_name": row.middle_name, "last_name": row.last_name,
            "second_last_name": row.second_last_name, "id_type": row.id_type,
            "id_number": show_id(row) or None, "phone": row.phone, "locality": row.locality,
            "status": row.status.value, "joined_on": row.joined_on.isoformat()}


@blp.route("/<int:member_id>")
@token_roles(*ALL_ROLES)
@blp.etag
@blp.response(200, MemberDetail)
def get_member(member_id: int):
    """One member of the token's cooperative (404 for any other), with its ETag."""
    member = get_scoped_or_404(Member, member_id)
    blp.set_etag({"member": member.id, "version": member.version})
    return member


# ---- changes: the same rules as the member form (services.clean_member_data) ----

class MemberIn(Schema):
    """A member's details as the form has them; every rule of the form applies (the national
    ID checked and normalised for the country, the phone, the dates, duplicates…)."""
    member_number = fields.String(allow_none=True, validate=validate.Length(max=20), metadata={
        "description": "Leave out to get the next number."})
    first_name = fields.String(required=True, validate=validate.Length(max=100))
    middle_name = fields.String(allow_none=True, validate=validate.Length(max=100))
    last_name = fields.String(required=True, validate=validate.Length(max=100))
    second_last_name = fields.String(allow_none=True, validate=validate.Length(max=100))
    sex = fields.String(required=True, validate=validate.OneOf([s.value for s in Sex]))
    date_of_birth = fields.Date(required=True)
    id_type = fields.String(allow_none=True, validate=validate.Length(max=20))
    id_number = fields.String(allow_none=True, validate=validate.Length(max=40))
    phone = fields.String(allow_none=True, validate=validate.Length(max=30))
    address = fields.String(allow_none=True, validate=validate.Length(max=300))
    locality = fields.String(allow_none=True, validate=validate.Length(max=120))
    sector = fields.String(required=True, validate=validate.OneOf([s.value for s in Sector]))
    occupation = fields.String(allow_none=True, validate=validate.Length(max=120))
    declared_income = AmountString(allow_none=True, as_string=True, metadata={
        "type": "string", "example": "150000.00", "description": "Monthly, a decimal string."})
    joined_on = fields.Date(allow_none=True, metadata={"description": "Today when left out."})
    consent_given = fields.Boolean()
    consent_date = fields.Date(allow_none=True)
    consent_method = fields.String(allow_none=True, validate=validate.OneOf(
        [None] + [c.value for c in ConsentMethod]))
    language = fields.String(allow_none=True, validate=validate.Length(max=5))
    notes = fields.String(allow_none=True, validate=validate.Length(max=2000))
    confirm_duplicate = fields.Boolean(load_default=False, metadata={
        "description": "True to add or save although members with the same names and date "
                       "of birth exist (the 409 lists them)."})


class MemberPatch(MemberIn):
    """Only the fields sent change (loaded as partial: none is required); `If-Match` must
    carry the ETag read."""


class StatusIn(Schema):
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in MemberStatus]))
    effective_on = fields.Date(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=300))


class DependantOut(Schema):
    id = fields.Integer(required=True)
    member_id = fields.Integer(required=True)
    name = fields.String(required=True)
    relation = fields.Function(lambda d: d.relation.value, required=True,
                               metadata={"enum": [r.value for r in DependantRelation]})
    date_of_birth = fields.Date(allow_none=True)
    id_number = fields.Function(
        lambda d: show_id(None, d.member.id_type, d.id_number) or None, allow_none=True,
        metadata={"description": "Formatted for the country; masked for viewers."})
    student = fields.Boolean(required=True)
    disabled = fields.Boolean(required=True)


class DependantIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    relation = fields.String(required=True, validate=validate.OneOf(
        [r.value for r in DependantRelation]))
    date_of_birth = fields.Date(load_default=None, allow_none=True)
    id_number = fields.String(load_default=None, allow_none=True,
                              validate=validate.Length(max=40))
    student = fields.Boolean(load_default=False)
    disabled = fields.Boolean(load_default=False)


DependantList = Schema.from_dict({"items": fields.List(fields.Nested(DependantOut),
                                                       required=True)}, name="DependantList")


def _etag(member: Member) -> dict:
    return {"member": member.id, "version": member.version}


def _current_values(member: Member) -> dict:
    """The member as the form would show it: what a PATCH starts from."""
    values = {name: getattr(member, name) for name in MemberForm.DATA_FIELDS
              if name != "declared_income"}
    income = from_minor(member.declared_income_minor, g.cooperative.currency)
    values["declared_income"] = None if income is None else str(income)
    return values


def _refused(error: DomainError):
    """The problem a broken rule answers; raised, so the ETag decorator of the view (which
    would tag a successful answer) is left out of it."""
    abort(problem(422, error.message, slug="member-refused",
                   errors={error.field or "body": [error.message]}))


def _duplicates(warning: services.DuplicateWarning):
    abort(problem(409, _("Members with the same names and date of birth exist; send "
                          "confirm_duplicate: true to save anyway."), slug="possible-duplicate",
                   extra={"duplicates": [{"id": m.id, "member_number": m.member_number}
                                         for m in warning.members]}))


@blp.route("/", methods=["POST"])
@token_roles(*EDITORS)
@blp.etag
@blp.arguments(MemberIn)
@blp.response(201, MemberDetail)
@blp.alt_response(409, description="Possible duplicates (listed in `duplicates`).")
def create_member(data):
    """Add a member (the form's rules); the ETag of the new record comes with it."""
    values = {name: data.get(name) for name in MemberForm.DATA_FIELDS}
    with attempt(None, report=False, expect=(services.DuplicateWarning,)) as outcome:
        member = services.create_member(g.cooperative, values,
                                        confirm_duplicate=data["confirm_duplicate"])
    if isinstance(outcome.error, services.DuplicateWarning):
        _duplicates(outcome.error)
    if outcome.error is not None:
        _refused(outcome.error)
    blp.set_etag(_etag(member))
    return member, 201


@blp.route("/<int:member_id>", methods=["PATCH"])
@token_roles(*EDITORS)
@found(Member, "member_id")
@blp.etag
@blp.arguments(MemberPatch(partial=True))
@blp.response(200, MemberDetail)
@blp.alt_response(409, description="Possible duplicates (listed in `duplicates`).")
def update_member(data, member_id: int):
    """Change some of a member's details. `If-Match` with the ETag read is required (428
    without it); 412 when someone changed the member since."""
    member = get_scoped_or_404(Member, member_id)
    blp.check_etag(_etag(member))
    confirm = data.pop("confirm_duplicate", False)
    values = {**_current_values(member), **data}
    with attempt(None, report=False, expect=(services.DuplicateWarning,)) as outcome:
        services.update_member(member, values, confirm_duplicate=confirm,
                               expected_version=member.version)
    if isinstance(outcome.error, services.DuplicateWarning):
        _duplicates(outcome.error)
    if outcome.error is not None:
        _refused(outcome.error)
    blp.set_etag(_etag(member))
    return member


@blp.route("/<int:member_id>/status", methods=["POST"])
@token_roles(*EDITORS)
@found(Member, "member_id")
@blp.arguments(StatusIn)
@blp.response(200, MemberDetail)
def change_status(data, member_id: int):
    """Move a member to another status (the register's allowed transitions), with the date
    and the reason kept in the history."""
    member = get_scoped_or_404(Member, member_id)
    with attempt(None, report=False) as outcome:
        services.change_member_status(member, data["status"], data["effective_on"],
                                      data["reason"], g.api_token.user_id)
    if outcome.error is not None:
        _refused(outcome.error)
    return member


@blp.route("/<int:member_id>/dependants")
@token_roles(*ALL_ROLES)
@blp.response(200, DependantList)
def list_dependants(member_id: int):
    """The people covered through a member; their IDs masked for viewers."""
    member = get_scoped_or_404(Member, member_id)
    return {"items": sorted(member.dependants, key=lambda d: d.id)}


@blp.route("/<int:member_id>/dependants", methods=["POST"])
@token_roles(*EDITORS)
@found(Member, "member_id")
@blp.arguments(DependantIn)
@blp.response(201, DependantOut)
def add_dependant(data, member_id: int):
    """Record a person covered through the member (the form's rules)."""
    member = get_scoped_or_404(Member, member_id)
    with attempt(None, report=False) as outcome:
        dependant = services.add_dependant(member, data["name"], data["relation"],
                                           data["date_of_birth"], data["id_number"],
                                           student=data["student"], disabled=data["disabled"])
    if outcome.error is not None:
        _refused(outcome.error)
    return dependant, 201
