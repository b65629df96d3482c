"""Template filters and globals: money, dates, IDs (masked for viewers), the current context."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask import Flask, g, render_template
from flask_babel import (
    force_locale,
    format_date,
    format_datetime,
    format_decimal,
    get_locale,
    get_translations,
)
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from coopreg.auth.models import Role
from coopreg.core import audit_text
from coopreg.core.labels import display, label, labels_for
from coopreg.core.languages import LANGUAGE_NAMES
from coopreg.core.money import format_money, format_share, from_minor
from coopreg.core.sentences import say
from coopreg.members.national_ids import format_id, id_type_label, mask_id


def money(minor: int | None, currency: str | None = None) -> str:
    """Minor units as the page's language writes money, with the currency's sign (₡, ₱)."""
    if minor is None:
        return ""
    currency = currency or g.cooperative.currency
    return format_money(from_minor(minor, currency), currency)


def percent(value, digits: int = 1) -> str:
    """A share (0.232, a Decimal or a Fraction-free ratio) as "23.2%" / "23,2 %"."""
    if value is None:
        return ""
    return format_share(value if isinstance(value, Decimal | int) else Decimal(str(value)),
                        digits=digits)


def show_date(value: date | datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, "short")
    return format_date(value, fmt)


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


ROLE_LABELS = labels_for(Role, {Role.ADMIN: _l("Admin"), Role.SECRETARY: _l("Secretary"),
                               Role.TREASURER: _l("Treasurer"), Role.VIEWER: _l("Viewer")})


def request_translations():
    """The catalogue of the language in use, looked up once per language per request.
    Flask-Babel finds the request's locale and catalogue again on every call (five context
    lookups); a page calls gettext dozens of times. `force_locale` (documents printed in the
    member's language) swaps the locale object, which this notices."""
    ctx = g.get("_flask_babel")
    locale = getattr(ctx, "babel_locale", None)
    if locale is None:
        return get_translations()
    memo = getattr(ctx, "coopreg_catalogue", None)
    if memo is None or memo[0] is not locale:
        memo = ctx.coopreg_catalogue = (locale, get_translations())
    return memo[1]


def render_in_language(language: str | None, template: str, **context) -> str:
    """A document to print in `language` (a member's): its words, dates and numbers; None
    keeps the page's own language."""
    if not language:
        return render_template(template, **context)
    with force_locale(language):
        return render_template(template, **context)


def translated_labels(labels: dict) -> dict:
    """Lazy labels (statuses, sectors…) as text in the request's language, made once per
    language and kept: a list page shows them on every row."""
    key = (str(get_locale()), id(labels))
    found = _TRANSLATED_LABELS.get(key)
    if found is None:
        found = _TRANSLATED_LABELS[key] = {k: str(v) for k, v in labels.items()}
    return found


_TRANSLATED_LABELS: dict[tuple[str, int], dict] = {}


def register(app: Flask) -> None:
    # templates' gettext through the per-request catalogue (installed over Flask-Babel's)
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: request_translations().ugettext(s),
        ngettext=lambda s, p, n: request_translations().ungettext(s, p, n),
        pgettext=lambda c, s: request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: request_translations().unpgettext(c, s, p, n),
        newstyle=True)
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["percent"] = percent
    app.jinja_env.filters["show_date"] = show_date
    app.jinja_env.filters["number"] = lambda value: format_decimal(value or 0)
    app.jinja_env.globals["show_id"] = show_id
    app.jinja_env.globals["label"] = label
    app.jinja_env.globals["display"] = display
    app.jinja_env.globals["audit_who"] = audit_text.who
    app.jinja_env.globals["audit_when"] = audit_text.when
    app.jinja_env.globals["audit_changes"] = lambda e: audit_text.change_lines(
        e.entity, e.action, e.changes or {}, getattr(g.get("cooperative"), "currency", None))
    app.jinja_env.globals["say"] = say
    app.jinja_env.globals["language_names"] = LANGUAGE_NAMES
    app.jinja_env.globals["id_type_label"] = lambda code: id_type_label(
        g.cooperative.country, code, g.cooperative.id_label)
    app.jinja_env.globals["Role"] = Role
    app.jinja_env.globals["get_locale"] = get_locale

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

    app.jinja_env.filters["nl2br"] = lambda text: Markup("<br>").join(
        (text or "").splitlines())
