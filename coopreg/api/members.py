"""Members through the API: the register's list (keyset-paginated, with the page's filters
and search) and one member, IDs masked for viewers as on the pages."""

from __future__ import annotations

from flask import g
from marshmallow import Schema, fields, validate

from coopreg.api.auth import token_roles
from coopreg.api.common import PageArgs, api_blueprint, page_schema
from coopreg.auth.access import ALL_ROLES
from coopreg.core.phones import NATIONAL, phone_as
from coopreg.core.tenancy import get_scoped_or_404, masked_ids
from coopreg.members import services
from coopreg.members.display import show_id, show_tax_number
from coopreg.members.models import CivilStatus, Member, MemberStatus

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
    occupation = fields.String(allow_none=True)
    left_on = fields.Date(allow_none=True)
    consent_given = fields.Boolean(required=True)
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
    return {"items": page.members, "next_cursor": page.next_cursor}


@blp.route("/<int:member_id>")
@token_roles(*ALL_ROLES)
@blp.etag
@blp.response(200, MemberDetail)
def get_member(member_id: int):
    """One member of the token's cooperative (404 for any other), with its ETag."""
    member = get_scoped_or_404(Member, member_id)
    blp.set_etag({"member": member.id, "version": member.version})
    return member
