"""Pages of contribution scales (issue 17): placing a member in a category of an agreement's
scale from a date, and a member's declared income from a date (which moves them between the
brackets). Routes of the agreements blueprint (`agreements.*`), posted from the agreement's
page; thin, like the rest of it."""

from __future__ import annotations

from datetime import date

from flask import g, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from coopreg.agreements import services
from coopreg.agreements.family_views import _post
from coopreg.agreements.forms import CategoryPlacementForm, IncomeDeclarationForm
from coopreg.agreements.models import Agreement, RuleKind
from coopreg.agreements.views import bp
from coopreg.auth.access import EDITORS, roles_required
from coopreg.core.forms import choices
from coopreg.core.tenancy import get_scoped_or_404
from coopreg.members import services as member_services


@bp.app_context_processor
def _scales_context():
    return {"scale_section": _scale_section}


def _scale_section(agreement: Agreement) -> dict | None:
    """The agreement page's scale: the rows in force today, who is placed where lately, and
    (for editors) the forms that place a member or record their income from a date."""
    terms = services.terms_on(agreement, date.today()) or (
        agreement.terms[-1] if agreement.terms else None)
    if terms is None or terms.rule_kind not in (RuleKind.SCALE, RuleKind.CATEGORY):
        return None
    editor = g.get("role") in EDITORS
    form = None
    if editor and terms.rule_kind == RuleKind.CATEGORY:
        form = _placement_form(terms, formdata=None)
    elif editor:
        form = IncomeDeclarationForm(formdata=None)
    return {"terms": terms, "form": form,
            "placements": (services.category_placements(agreement)
                           if terms.rule_kind == RuleKind.CATEGORY else [])}


def _placement_form(terms, **kwargs) -> CategoryPlacementForm:
    form = CategoryPlacementForm(**kwargs)
    form.code.choices = choices((r.code, r.code) for r in terms.scale_rows)
    return form


def _back(agreement: Agreement):
    return redirect(url_for("agreements.view_agreement", agreement_id=agreement.id) + "#scale")


@bp.route("/<int:agreement_id>/categories", methods=["POST"])
@roles_required(*EDITORS)
def place_in_category(agreement_id: int):
    agreement = get_scoped_or_404(Agreement, agreement_id)
    terms = agreement.terms[-1]
    form = _placement_form(terms)
    _post(form, lambda: services.place_in_category(
        agreement, services.registered_member(agreement, form.member_number.data),
        form.code.data, form.effective_from.data, current_user.id),
        _("Category recorded; the dues of the periods from that date follow it."),
        _("The category was not recorded:"))
    return _back(agreement)


@bp.route("/<int:agreement_id>/incomes", methods=["POST"])
@roles_required(*EDITORS)
def declare_income(agreement_id: int):
    agreement = get_scoped_or_404(Agreement, agreement_id)
    form = IncomeDeclarationForm()
    _post(form, lambda: member_services.declare_income(
        services.registered_member(agreement, form.member_number.data), form.income.data,
        form.effective_from.data, current_user.id),
        _("Income recorded; the dues of the periods from that date follow its bracket."),
        _("The income was not recorded:"))
    return _back(agreement)
