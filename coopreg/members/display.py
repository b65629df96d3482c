"""How the register shows a national ID to the person reading: formatted for the
cooperative's country, and masked for viewers (the templates' `show_id`); the same for a
tax number, which in Costa Rica and Argentina is the person's ID (`show_tax_number`)."""

from __future__ import annotations

from flask import g

from coopreg.auth.models import Role
from coopreg.members.national_ids import format_id, mask_id


def show_id(member_or_none, id_type: str | None = None, number: str | None = None) -> str:
    """A national ID for display: formatted, and masked for viewers."""
    cooperative = g.cooperative
    if member_or_none is not None:
        id_type, number = member_or_none.id_type, member_or_none.id_number
    if not number:
        return ""
    formatted = format_id(cooperative.country, id_type, number)
    if g.get("role") == Role.VIEWER:
        return mask_id(formatted)
    return formatted


def show_tax_number(member) -> str:
    """A member's tax number for display: masked for viewers like the national ID (a
    Costa Rican's or Argentine's tax number is their ID)."""
    number = member.tax_number if member is not None else None
    if not number:
        return ""
    return mask_id(number) if g.get("role") == Role.VIEWER else number
