"""The audit log as a person reads it, in their language: what record (its name, not its
table), what was done, each field by its label with its values formatted (money from minor
units with the currency's sign, dates, statuses through the label table, yes/no), and who.

The stored events stay as they are (codes and plain values, append-only); this only says them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from flask_babel import format_date, format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from coopreg.core.labels import codes_for, display
from coopreg.core.money import format_minor
from coopreg.core.sentences import say

ENTITY_LABELS = codes_for("audit_entity", {
    "members": _l("Member"), "dependants": _l("Dependant"),
    "member_documents": _l("Member's document"),
    "member_status_changes": _l("Change of a member's status"),
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
}

# technical fields a person gains nothing from reading (kept in the stored event)
HIDDEN = frozenset({
    "id", "cooperative_id", "search_name", "number_key", "locality_key", "version",
    "register_version", "session_token", "password_hash", "sample", "layout_snapshot",
    "col_widths", "interpreted", "problems", "headers", "reason_params", "idempotency_key",
    "mapping", "options", "stored_name", "data_checksum", "sha256", "status_changed_at",
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
    enum_class = _enum_columns(entity).get(key)
    if enum_class is not None:
        try:
            return display(enum_class(value))
        except ValueError:
            return str(value)
    if key.endswith("_minor") and isinstance(value, int) and currency:
        return format_minor(value, currency)
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
