"""Pages of families and outside coverage: a scheme's family rules, the dependants enrolled
with a member's registration, and where a member is covered outside the cooperative. Routes of
the agreements blueprint (`agreements.*`); thin, like the rest of it."""

from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from coopreg.agreements import families
from coopreg.agreements.forms import (
    DEPENDANT_STATUS_LABELS,
    OUTSIDE_SOURCE_LABELS,
    DependantTransitionForm,
    EnrolDependantForm,
    FamilyRuleForm,
    OutsideCoverageForm,
)
from coopreg.agreements.models import (
    DEPENDANT_LIFECYCLE,
    DependantRegistration,
    DependantStatus,
    FamilyRule,
    OutsideCoverage,
    Registration,
    Scheme,
)
from coopreg.agreements.views import bp
from coopreg.auth.access import EDITORS, roles_required
from coopreg.auth.forms import EmptyForm
from coopreg.auth.models import Role
from coopreg.core.forms import choices
from coopreg.core.tenancy import get_scoped_or_404
from coopreg.core.unit_of_work import attempt
from coopreg.extensions import db
from coopreg.members.forms import RELATION_CHOICES
from coopreg.members.models import Dependant, Member


@bp.app_context_processor
def _families_context():
    return {"dependant_status_labels": DEPENDANT_STATUS_LABELS,
            "relation_labels": dict(RELATION_CHOICES),
            "outside_source_labels": OUTSIDE_SOURCE_LABELS,
            "dependant_cover": _dependant_cover, "family_section": _family_section,
            "outside_section": _outside_section, "family_rules_of": _family_rules_of,
            "family_rule_text": families.rule_text}


def _dependant_cover(dependant: Dependant) -> list[DependantRegistration]:
    """A dependant's registrations (the member page's Dependants table)."""
    return list(db.session.scalars(select(DependantRegistration).where(
        DependantRegistration.cooperative_id == dependant.cooperative_id,
        DependantRegistration.dependant_id == dependant.id)
        .order_by(DependantRegistration.id)))


def _family_section(registration: Registration) -> dict:
    """The registration page's dependants: their cover, the moves each can make, and (for
    editors) the member's dependants not yet enrolled."""
    rows = families.dependants_cover(registration.cooperative_id,
                                     [registration.id]).get(registration.id, [])
    enrolled_ids = {d.id for dr, d in rows
                    if dr.status not in (DependantStatus.REJECTED, DependantStatus.TERMINATED)}
    form = None
    editor = g.get("role") in EDITORS
    if editor:
        waiting = [d for d in registration.member.dependants if d.id not in enrolled_ids]
        if waiting:
            form = EnrolDependantForm(formdata=None)
            form.dependant_id.choices = choices((d.id, d.name) for d in waiting)
    moves = {dr.id: DEPENDANT_LIFECYCLE.allowed(dr.status) for dr, _d in rows} if editor else {}
    rules = families.family_rules(registration.cooperative_id,
                                  families.scheme_ids_of(registration.agreement))
    return {"rows": rows, "enrol_form": form, "moves": moves, "rules": rules,
            "transition_form": DependantTransitionForm(formdata=None) if editor else None}


def _outside_section(member: Member) -> dict:
    form = OutsideCoverageForm(formdata=None) if g.get("role") in EDITORS else None
    return {"rows": families.outside_coverages(member), "form": form}


def _family_rules_of(scheme: Scheme) -> dict:
    form = FamilyRuleForm(formdata=None) if g.get("role") == Role.ADMIN else None
    return {"rules": families.family_rules(scheme.cooperative_id, [scheme.id]), "form": form}


def _post(form, change, done: str, refused: str = "") -> None:
    """The one shape of these pages' posts: a valid form's change made in a savepoint, then
    `done` flashed, or what stopped it (a broken rule or a field's error) after `refused`."""
    if form.validate_on_submit():
        with attempt(report=False) as outcome:
            change()
        if outcome.ok:
            flash(done, "success")
            return
        messages = [outcome.error.message]
    else:
        messages = [m for errors in form.errors.values() for m in errors]
    for message in messages:
        flash(f"{refused} {message}".strip(), "error")


# ---- a scheme's family rules -------------------------------------------------------------------

@bp.route("/schemes/<int:scheme_id>/family-rules", methods=["POST"])
@roles_required(Role.ADMIN)
def set_family_rule(scheme_id: int):
    scheme = get_scoped_or_404(Scheme, scheme_id)
    form = FamilyRuleForm()
    _post(form, lambda: families.set_family_rule(
        scheme, form.relation.data, max_age=form.max_age.data,
        student_max_age=form.student_max_age.data, disabled_any_age=form.disabled_any_age.data,
        surcharge=form.surcharge.data),
        _("Family rule saved."), _("The family rule was not saved:"))
    return redirect(url_for("agreements.edit_scheme", scheme_id=scheme.id) + "#families")


@bp.route("/family-rules/<int:rule_id>/remove", methods=["POST"])
@roles_required(Role.ADMIN)
def remove_family_rule(rule_id: int):
    rule = get_scoped_or_404(FamilyRule, rule_id)
    scheme_id = rule.scheme_id
    _post(EmptyForm(), lambda: families.remove_family_rule(rule), _("Family rule removed."))
    return redirect(url_for("agreements.edit_scheme", scheme_id=scheme_id) + "#families")


# ---- dependants enrolled with a registration ---------------------------------------------------

@bp.route("/registrations/<int:registration_id>/dependants", methods=["POST"])
@roles_required(*EDITORS)
def enrol_dependant(registration_id: int):
    registration = get_scoped_or_404(Registration, registration_id)
    # another cooperative's dependant is not found, whatever the form says
    dependant = get_scoped_or_404(Dependant, request.form.get("dependant_id"))
    form = EnrolDependantForm()
    form.dependant_id.choices = choices([(dependant.id, dependant.name)])
    _post(form, lambda: families.enrol_dependant(registration, dependant),
          _("%(name)s is enrolled with the member: sent in the member's next enrolment batch.",
            name=dependant.name), _("Not enrolled:"))
    return redirect(url_for("agreements.view_registration", registration_id=registration.id)
                    + "#dependants")


@bp.route("/dependant-registrations/<int:dependant_registration_id>/transition",
          methods=["POST"])
@roles_required(*EDITORS)
def transition_dependant(dependant_registration_id: int):
    enrolled = get_scoped_or_404(DependantRegistration, dependant_registration_id)
    form = DependantTransitionForm()
    _post(form, lambda: families.transition_dependant(
        enrolled, form.to_status.data, institution_number=form.institution_number.data,
        coverage_start=form.coverage_start.data, rejection_reason=form.rejection_reason.data),
        _("Changes saved."))
    return redirect(url_for("agreements.view_registration",
                            registration_id=enrolled.registration_id) + "#dependants")


# ---- covered outside the cooperative ---------------------------------------------------------

@bp.route("/members/<int:member_id>/outside-coverage", methods=["POST"])
@roles_required(*EDITORS)
def record_outside_coverage(member_id: int):
    member = get_scoped_or_404(Member, member_id)
    form = OutsideCoverageForm()
    _post(form, lambda: families.record_outside_coverage(
        member, form.source.data, form.branches.data, form.note.data, form.declared_on.data),
        _("Cover outside the cooperative recorded."), _("Not recorded:"))
    return redirect(url_for("members.view_member", member_id=member.id) + "#outside")


@bp.route("/outside-coverage/<int:row_id>/remove", methods=["POST"])
@roles_required(*EDITORS)
def remove_outside_coverage(row_id: int):
    row = get_scoped_or_404(OutsideCoverage, row_id)
    member_id = row.member_id
    _post(EmptyForm(), lambda: families.remove_outside_coverage(row), _("Removed."))
    return redirect(url_for("members.view_member", member_id=member_id) + "#outside")

