"""Template filters and globals that know no domain: money, dates, the request's catalogue,
documents in a member's language. Those that know roles and national IDs are the app's
(`coopreg.jinja`)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from babel.dates import format_date as babel_format_date
from flask import Flask, g, has_app_context, render_template
from flask_babel import (
    force_locale,
    format_date,
    format_datetime,
    format_decimal,
    get_locale,
    get_translations,
)
from markupsafe import Markup

from coopreg.core import audit_text
from coopreg.core.cards import label_cells
from coopreg.core.labels import display, label
from coopreg.core.languages import LANGUAGE_NAMES
from coopreg.core.money import format_minor, format_share, from_minor
from coopreg.core.phones import phone_as
from coopreg.core.sentences import said_again, say
from coopreg.core.sorting import page_url, sort_url


def money(minor: int | None, currency: str | None = None) -> str:
    """Minor units as the page's language writes money, with the currency's sign (₡, ₱)."""
    return format_minor(minor, currency or g.cooperative.currency)


def percent(value, digits: int = 1) -> str:
    """A share (0.232, a Decimal or a Fraction-free ratio) as "23.2%" / "23,2 %"."""
    if value is None:
        return ""
    return format_share(value if isinstance(value, Decimal | int) else Decimal(str(value)),
                        digits=digits)


def amount(minor: int | None, currency: str | None = None) -> str:
    """Money as a localized number without its currency: for the cells of a wide table whose
    heading names the currency once."""
    if minor is None:
        return ""
    value: Decimal = from_minor(minor, currency or g.cooperative.currency)
    return format_decimal(value, format="#,##0.00" if value.as_tuple().exponent else "#,##0")


def show_date(value: date | datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, "short")
    return format_date(value, fmt)


def show_month(value: date | None) -> str:
    """A month as people say it, in the page's language ("nov 2026"), not "2026-11"."""
    if value is None:
        return ""
    if not has_app_context():  # a pure file writer called on its own: English
        return babel_format_date(value, "MMM y", locale="en")
    return format_date(value, "MMM y")


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
    app.jinja_env.filters["amount"] = amount
    app.jinja_env.filters["percent"] = percent
    app.jinja_env.filters["show_date"] = show_date
    app.jinja_env.filters["phone"] = phone_as  # the national form people write
    app.jinja_env.filters["show_month"] = show_month
    app.jinja_env.filters["said_again"] = said_again
    app.jinja_env.filters["number"] = lambda value: format_decimal(value or 0)
    app.jinja_env.globals["label"] = label
    app.jinja_env.globals["display"] = display
    app.jinja_env.globals["audit_who"] = audit_text.who
    app.jinja_env.globals["audit_when"] = audit_text.when
    app.jinja_env.globals["audit_changes"] = lambda e: audit_text.change_lines(
        e.entity, e.action, e.changes or {}, getattr(g.get("cooperative"), "currency", None))
    app.jinja_env.globals["say"] = say
    app.jinja_env.globals["language_names"] = LANGUAGE_NAMES
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["sort_url"] = sort_url
    app.jinja_env.globals["page_url"] = page_url
    app.jinja_env.filters["cards"] = label_cells

    app.jinja_env.filters["nl2br"] = lambda text: Markup("<br>").join(
        (text or "").splitlines())
