"""The templates' helpers that know the domain: national IDs (masked for viewers), the
user's role and what it may do. The domain-free filters are in `coopreg.core.templating`."""

from __future__ import annotations

from flask import Flask, g

from coopreg.auth.forms import ROLE_LABELS
from coopreg.auth.models import Role
from coopreg.members.display import show_id, show_tax_number
from coopreg.members.national_ids import id_type_label


def register(app: Flask) -> None:
    app.jinja_env.globals["show_id"] = show_id
    app.jinja_env.globals["show_tax_number"] = show_tax_number
    app.jinja_env.globals["id_type_label"] = lambda code: id_type_label(
        g.cooperative.country, code, g.cooperative.id_label)
    app.jinja_env.globals["Role"] = Role

    @app.context_processor
    def _context():
        role = g.get("role")
        return {
            "current_cooperative": g.get("cooperative"),
            "current_role": role,
            "can_edit_members": role in (Role.ADMIN, Role.SECRETARY),
            "is_admin": role == Role.ADMIN,
            "role_label": str(ROLE_LABELS[role]) if role in ROLE_LABELS else "",
        }
