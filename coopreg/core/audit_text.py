"""The audit log as a person reads it, in their language: what record (its name, not its
table), what was done, each field by its label with its values formatted (money from minor
units with the currency's sign, dates, statuses through the label table, yes/no), and who.

The stored events stay as they are (codes and plain values, append-only); this only says them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from flask_babel import format_date, format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from coopreg.core.labels import code_groups, codes_for, display
from coopreg.core.money import format_minor, format_share
from coopreg.core.sentences import is_kept, say

ENTITY_LABELS = codes_for("audit_entity", {
    "members": _l("Member"), "dependants": _l("Dependant"),
    "member_documents": _l("Member's document"),
    "member_status_changes": _l("Change of a member's status"),
    "correction_requests": _l("Member's correction request"),
    "cooperatives": _l("Cooperative"), "document_types": _l("Document of the checklist"),
    "users": _l("User"), "memberships": _l("Access to the cooperative"),
    "institutions": _l("Institution"), "schemes": _l("Scheme"),
    "scheme_branches": _l("Branch of a scheme"), "agreements": _l("Agreement"),
    "agreement_terms": _l("Terms of an agreement"),
    "agreement_schemes": _l("Scheme of an agreement"),
    "agreement_documents": _l("Document an agreement asks for"),
    "registrations": _l("Registration"), "registration_events": _l("Registration history"),
    "batches": _l("Batch"), "file_layouts": _l("File layout"),
    "layout_columns": _l("Column of a file layout"), "acknowledgements": _l("Answer file"),
    "ack_mappings": _l("How answer files are read"), "receipts": _l("Receipt"),
    "receipt_reversals": _l("Reversal of a receipt"), "remittances": _l("Remittance"),
    "remittance_acknowledgements": _l("Acknowledgement of a remittance"),
    "period_closes": _l("Closed period"), "collection_sheets": _l("Collection sheet"),
    "statements": _l("Bank statement"), "statement_sources": _l("Statement source"),
    "statement_matches": _l("Statement match"), "import_runs": _l("Member import"),
    "import_mappings": _l("Remembered import column"),
    "invitations": _l("Invitation"), "due_write_offs": _l("Write-off of a due"),
    "api_tokens": _l("API token"), "family_rules": _l("Family rule"),
    "dependant_registrations": _l("Dependant's registration"),
    "outside_coverages": _l("Coverage outside the cooperative"),
    "catalogue_adoptions": _l("Adoption of a catalogue item"),
    "catalogue_institutions": _l("Institution of the federation's catalogue"),
    "catalogue_layout_adoptions": _l("Adoption of a catalogue layout"),
    "catalogue_layouts": _l("File layout of the federation's catalogue"),
    "catalogue_schemes": _l("Scheme of the federation's catalogue"),
    "catalogue_template_adoptions": _l("Adoption of an agreement template"),
    "catalogue_templates": _l("Agreement template"),
    "category_placements": _l("Placement in a category"),
    "desk_agreements": _l("Agreement sent through the institution's desk"),
    "desk_tokens": _l("Institution desk's API token"),
    "federation_cooperatives": _l("Cooperative of a federation"),
    "federation_memberships": _l("Role in a federation"),
    "federations": _l("Federation"),
    "field_photos": _l("Photo taken in the field"),
    "income_declarations": _l("Declared income"),
    "institution_accounts": _l("Institution desk account"),
    "message_templates": _l("Message template"),
    "terms_payers": _l("Payer of an agreement's terms"),
    "terms_scale_rows": _l("Row of a contribution scale"),
    "third_party_payment_reversals": _l("Reversal of a third party's payment"),
    "third_party_payments": _l("Third party's payment"),
})

ACTION_LABELS = codes_for("audit_action", {
    "create": _l("Added"), "update": _l("Changed"), "delete": _l("Deleted")})

FIELD_LABELS = {
    "member_number": _l("Member number"), "first_name": _l("First name"),
    "middle_name": _l("Middle name"), "last_name": _l("Last name"),
    "second_last_name": _l("Second last name"), "sex": _l("Sex"),
    "date_of_birth": _l("Date of birth"), "id_type": _l("ID type"),
    "id_number": _l("ID number"), "phone": _l("Phone"), "address": _l("Address"),
    "name_extension": _l("Name extension"), "mothers_maiden_name": _l("Mother's maiden name"),
    "civil_status": _l("Civil status"), "nationality": _l("Nationality"),
    "tax_number": _l("Tax number"), "phone_unchecked": _l("Phone to check"),
    "province_code": _l("Province code"), "canton_code": _l("Canton code"),
    "district_code": _l("District code"),
    "locality": _l("Locality"), "sector": _l("Sector"), "occupation": _l("Occupation"),
    "declared_income_minor": _l("Declared income"), "joined_on": _l("Joined on"),
    "left_on": _l("Left on"), "status": _l("Status"), "status_reason": _l("Reason"),
    "status_date": _l("Status date"), "consent_given": _l("Consent to share data"),
    "consent_date": _l("Consent date"), "consent_method": _l("Consent given by"),
    "language": _l("Language"), "locale": _l("Language"), "notes": _l("Notes"),
    "note": _l("Note"), "name": _l("Name"), "relation": _l("Relationship"),
    "code": _l("Code"), "country": _l("Country"), "currency": _l("Currency"),
    "email": _l("Email"), "role": _l("Role"), "active": _l("Active"),
    "platform_admin": _l("Platform admin"), "changes": _l("Changes"),
    "reference": _l("Reference"), "valid_from": _l("Valid from"), "valid_to": _l("Valid to"),
    "signed_on": _l("Signed on"), "rule_kind": _l("Contribution rule"),
    "flat_amount_minor": _l("Flat amount"), "floor_minor": _l("Floor"),
    "ceiling_minor": _l("Ceiling"), "schedule": _l("Schedule"), "due_day": _l("Due day"),
    "grace_days": _l("Grace days"), "effective_from": _l("Effective from"),
    "from_status": _l("From"), "to_status": _l("To"), "reason": _l("Reason"),
    "reason_code": _l("Reason"), "rejection_reason": _l("The institution's reason"),
    "institution_member_number": _l("Institution's member number"),
    "coverage_start": _l("Coverage starts"), "coverage_end": _l("Coverage ends"),
    "kind": _l("Kind"), "number": _l("Number"), "period": _l("Period"),
    "total_minor": _l("Total"), "totals": _l("Totals"), "row_count": _l("Lines"),
    "sealed_at": _l("Sealed on"), "sent_on": _l("Sent on"), "sent_channel": _l("How"),
    "received_on": _l("Received on"), "amount_minor": _l("Amount"), "method": _l("Method"),
    "collector": _l("Collector"), "remitted_on": _l("Remitted on"),
    "acknowledged_on": _l("Acknowledged on"), "control_total_minor": _l("Control total"),
    "control_count": _l("Control count"), "collected_on": _l("Collected on"),
    "file_name": _l("File"), "original_filename": _l("File"), "filename": _l("File"),
    "header": _l("Header"), "position": _l("Position"), "format": _l("Format"),
    "file_format": _l("Format"), "rows_created": _l("Created"),
    "rows_updated": _l("Updated"), "rows_refused": _l("Refused"),
    "accepted_count": _l("Accepted"), "rejected_count": _l("Rejected"),
    "exit_flagged": _l("Exit to send"), "exit_flag_reason": _l("Reason"),
    "accepted_values": _l("Values meaning accepted"), "align": _l("Alignment"),
    "amount_column": _l("Amount column"), "applied_at": _l("Applied on"), "branch": _l("Branch"),
    "built_in_origin": _l("Built-in layout it started from"), "changed_at": _l("Changed on"),
    "closed_at": _l("Closed on"), "col_type": _l("Type"), "columns": _l("Columns"),
    "committed_at": _l("Imported on"), "contact": _l("Contact"), "date_column": _l("Date column"),
    "date_order": _l("Order of day, month and year"), "date_pattern": _l("Date format"),
    "decided_at": _l("Decided on"), "decimal_mark": _l("Decimal mark"), "decimals": _l("Decimals"),
    "delimiter": _l("Separator"), "description_column": _l("Description column"),
    "due_months": _l("Months with dues"), "effective_on": _l("Takes effect on"),
    "encoding": _l("Encoding"), "exit_flagged_on": _l("Exit flagged on"),
    "expires_at": _l("Expires on"), "external_reference": _l("External reference"),
    "field": _l("Field"), "file_path": _l("File"), "fixed_value": _l("Fixed value"),
    "footer_line": _l("Footer line"), "founded_on": _l("Founded on"),
    "header_key": _l("Column heading"), "header_line": _l("Header line"),
    "header_row": _l("Header row"), "how": _l("How"), "how_to_claim": _l("How to claim"),
    "id_format": _l("ID format"), "id_label": _l("Name of the ID"), "id_pattern": _l("ID pattern"),
    "implied_decimals": _l("Implied decimals"), "imported_at": _l("Imported on"),
    "include_header": _l("Header row included"), "last_login_at": _l("Last login"),
    "last_member_number": _l("Last member number"), "lines_added": _l("Lines added"),
    "lines_known": _l("Lines already known"), "lines_skipped": _l("Lines skipped"),
    "matched_at": _l("Matched on"), "member_benefits": _l("Member benefits"),
    "member_column": _l("Member column"), "member_number_pattern": _l("Member number pattern"),
    "member_share_bp": _l("Member's share"), "message": _l("Message"), "occurred_at": _l("When"),
    "pad": _l("Padding"), "previewed_at": _l("Previewed on"), "problem_count": _l("Problems"),
    "problem_policy": _l("When a line has problems"), "problems_file": _l("Problems file"),
    "rate_bp": _l("Rate"), "reference_column": _l("Reference column"),
    "rejected_values": _l("Values meaning rejected"),
    "remittance_deadline_days": _l("Days to remit"), "required": _l("Required"),
    "reversed_at": _l("Reversed on"), "rows_read": _l("Rows read"), "rows_skipped": _l("Skipped"),
    "rows_unchanged": _l("Unchanged"), "sent_note": _l("Note on sending"),
    "short_name": _l("Short name"), "size_bytes": _l("Size (bytes)"), "source": _l("Source"),
    "total_rows": _l("Rows"), "transform": _l("Transformation"),
    "unmatched_count": _l("Unmatched"), "warnings": _l("Warnings"), "width": _l("Width"),
    "written_off_at": _l("Written off on"),
    # API tokens, families and dependants (issues 17 and 19)
    "hint": _l("First characters of the token"), "scope": _l("It may"),
    "last_used_at": _l("Last used on"), "revoked_at": _l("Revoked on"),
    "institution_number": _l("Institution number"), "student": _l("Studying"),
    "disabled": _l("Lives with a disability"), "max_age": _l("Covered up to the age of"),
    "student_max_age": _l("Up to the age of, while studying"),
    "disabled_any_age": _l("At any age with a disability"),
    "surcharge_minor": _l("Surcharge per period paid by the member"),
    "dependants_mode": _l("Dependants in the file (enrolment)"),
    "declared_on": _l("Declared on"),
    # payers and scales (issue 17), federations and the desk (22), messaging (20), field (21)
    "suspended_accrue": _l("Suspended registrations keep accruing dues"),
    "branches": _l("Branches"), "terms": _l("Terms"),
    "applies_answers": _l("The institution's answers are applied at once"),
    "joined_at": _l("Joined on"),
    "shares_member_records": _l("The federation may see our members by name"),
    "content_type": _l("File type"), "size": _l("Size (bytes)"),
    "income_minor": _l("Income"), "institution_code": _l("Institution"),
    "contact_channel": _l("Channel"), "contact_consent": _l("Consent to be contacted"),
    "contact_opted_out_at": _l("Opted out on"), "body": _l("Message"), "event": _l("Event"),
    "subject": _l("Subject"), "fixed_minor": _l("Fixed amount"), "share_bp": _l("Share"),
    "through_cooperative": _l("Paid through the cooperative"),
    "income_from_minor": _l("Income from"), "payer1_share_bp": _l("First payer's share"),
    "payer2_share_bp": _l("Second payer's share"), "paid_on": _l("Paid on"),
    "payer_name": _l("Payer"),
}

# technical fields a person gains nothing from reading (kept in the stored event)
HIDDEN = frozenset({
    "id", "cooperative_id", "search_name", "number_key", "locality_key", "version",
    "register_version", "session_token", "password_hash", "sample", "layout_snapshot",
    "col_widths", "interpreted", "problems", "headers", "reason_params", "idempotency_key",
    "mapping", "options", "stored_name", "data_checksum", "sha256", "status_changed_at",
    "path", "spec",
})

_ACTORS = {"system": _l("the system"), "cli": _l("a command"), "tests": _l("a command")}
_TOTAL_LABELS = {"total": _l("Total"), "member_share": _l("Member's share"),
                 "cooperative_share": _l("Cooperative's share")}


@dataclass(frozen=True)
class ChangeLine:
    field: str
    before: str | None   # None: nothing before (a record created)
    after: str | None    # None: nothing after (a record deleted)


def who(actor_label: str | None) -> str:
    """The person (their email), or what acted for nobody in particular, in words."""
    text = (actor_label or "").strip()
    if text.startswith("job "):
        return _("background job %(id)s", id=text[4:])
    if text.split(":", 1)[0] in _ACTORS:
        return str(_ACTORS[text.split(":", 1)[0]])
    return text


def when(moment: datetime | None) -> str:
    return format_datetime(moment, "medium") if moment is not None else ""


@cache
def _enum_columns(entity: str) -> dict[str, type[enum.Enum]]:
    from coopreg.extensions import db

    for mapper in db.Model.registry.mappers:
        if getattr(mapper.class_, "__tablename__", None) == entity:
            found = {}
            for attr in mapper.column_attrs:
                enum_class = getattr(attr.columns[0].type, "enum_class", None)
                if enum_class is not None:
                    found[attr.key] = enum_class
            return found
    return {}


def _value(entity: str, key: str, value: Any, currency: str | None) -> str:
    if value is None or value == "":
        return "∅"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, str) and key in code_groups():  # a plain code ("upper")
        return display(value, key)
    enum_class = _enum_columns(entity).get(key)
    if enum_class is not None:
        try:
            return display(enum_class(value))
        except ValueError:
            return str(value)
    if key.endswith("_minor") and isinstance(value, int) and currency:
        return format_minor(value, currency)
    if key.endswith("_bp") and isinstance(value, int):  # basis points: a share
        return format_share(Decimal(value) / 10000, digits=2)
    if is_kept(value):  # a sentence kept as its code: said in the reader's language
        return say(value)
    if key == "totals" and isinstance(value, dict) and currency:
        def amount(v):
            return format_minor(v, currency) if isinstance(v, int) else v
        return "; ".join(f"{_TOTAL_LABELS.get(k, k)}: {amount(v)}" for k, v in value.items())
    if isinstance(value, str) and len(value) >= 10 and value[4:5] == "-" and value[7:8] == "-":
        try:
            if len(value) == 10:
                return format_date(date.fromisoformat(value), "medium")
            return format_datetime(datetime.fromisoformat(value), "medium")
        except ValueError:
            pass
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def change_lines(entity: str, action: str, changes: dict[str, Any],
                 currency: str | None) -> list[ChangeLine]:
    """Each changed field of an event, labelled and formatted in the current language."""
    lines = []
    reason_params = (changes.get("reason_params") or {})
    for key, change in changes.items():
        if key in HIDDEN or key.endswith("_id") or not isinstance(change, dict):
            continue
        before, after = change.get("before"), change.get("after")
        if key == "reason_code":
            params_before = reason_params.get("before") or {}
            params_after = reason_params.get("after") or {}
            text_before = say({"code": before, "params": params_before}) if before else None
            text_after = say({"code": after, "params": params_after}) if after else None
        else:
            text_before = _value(entity, key, before, currency)
            text_after = _value(entity, key, after, currency)
        if action == "create":
            if after is None:
                continue
            lines.append(ChangeLine(str(FIELD_LABELS.get(key, key)), None, text_after))
        elif action == "delete":
            lines.append(ChangeLine(str(FIELD_LABELS.get(key, key)), text_before, None))
        else:
            lines.append(ChangeLine(str(FIELD_LABELS.get(key, key)), text_before, text_after))
    return lines
