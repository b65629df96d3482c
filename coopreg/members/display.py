"""How the register shows a national ID to the person reading: formatted for the
cooperative's country, and masked for viewers (the templates' `show_id`)."""

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
