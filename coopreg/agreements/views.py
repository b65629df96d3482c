"""Pages of the agreements area: institutions and schemes, agreements and their terms, each
member's registrations, the campaign view per agreement and the coverage-gap report.

Thin: validate the form, call one service, commit once, flash, redirect."""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from coopreg.agreements import documents, services
from coopreg.agreements.coverage import (
    BRANCH_LABELS,
    DIMENSION_COLUMNS,
    DIMENSIONS,
    coverage_report,
)
from coopreg.agreements.forms import (
    MONTH_LABELS,
    REGISTRATION_STATUS_LABELS,
    RULE_LABELS,
    SCHEDULE_LABELS,
    AgreementForm,
    EnrolForm,
    InstitutionForm,
    NewAgreementForm,
    SchemeForm,
    TermsForm,
    TransitionForm,
)
from coopreg.agreements.jobs import COVERAGE_EXPORT
from coopreg.agreements.models import (
    REGISTRATION_LIFECYCLE,
    Agreement,
    Institution,
    Registration,
    RegistrationStatus,
    Scheme,
)
from coopreg.auth.access import ALL_ROLES, EDITORS, roles_required
from coopreg.auth.forms import EmptyForm
from coopreg.auth.models import Role
from coopreg.cooperatives.models import DocumentType
from coopreg.core.confirm import confirm_first
from coopreg.core.forms import choices
from coopreg.core.languages import LANGUAGES
from coopreg.core.money import from_minor
from coopreg.core.templating import render_in_language
from coopreg.core.tenancy import current_cooperative, get_scoped_or_404, masked_ids, scoped
from coopreg.core.unit_of_work import attempt, form_page
from coopreg.extensions import db
from coopreg.jobs.services import create_job
from coopreg.jobs.views import start_and_follow
from coopreg.members.forms import RELATION_CHOICES, SECTOR_LABELS, STATUS_LABELS
from coopreg.members.models import Member, Sex
from coopreg.members.services import localities

bp = Blueprint("agreements", __name__)
S = RegistrationStatus
FUNNEL = (S.PENDING, S.READY, S.SUBMITTED, S.REGISTERED, S.REJECTED)
MAX_REFUSALS_SHOWN = 15


@bp.app_context_processor
def _agreements_context():
    return {"branch_labels": BRANCH_LABELS,
            "registration_status_labels": REGISTRATION_STATUS_LABELS,
            "member_agreements": _member_agreements}


def _member_agreements(member: Member) -> dict:
    """What the member page shows: registrations, the branches covered, and (for editors)
    the agreements the member can still be enrolled in."""
    registrations = services.member_registrations(member)
    covered = {b for r in registrations for b in services.covered_branches(r)}
    form = None
    if g.get("role") in EDITORS:
        enrollable = services.enrollable_agreements(member)
        if enrollable:
            form = EnrolForm(formdata=None)
            form.agreement_id.choices = choices(
                (a.id, f"{a.reference} · {a.institution.short_name}") for a in enrollable)
    return {"registrations": registrations,
            "covered": [b for b in BRANCH_LABELS if b in covered],
            "enrol_form": form}


def _flash_bulk(result: services.BulkResult, done_message: str) -> None:
    if result.done:
        flash(done_message, "success")
    if result.refused:
        flash(ngettext("%(num)d member was left out:", "%(num)d members were left out:",
                       len(result.refused)), "warning")
        for member, reasons in result.refused[:MAX_REFUSALS_SHOWN]:
            flash(f"{member.member_number} {member.full_name}: {' '.join(reasons)}",
                  "warning")
        if len(result.refused) > MAX_REFUSALS_SHOWN:
            flash(_("… and %(n)d more.", n=len(result.refused) - MAX_REFUSALS_SHOWN),
                  "warning")
    if not result.done and not result.refused:
        flash(_("Nothing was selected."), "warning")


def _warn_registered_elsewhere(agreement: Agreement, members: list[Member]) -> None:
    """Say which of the members just enrolled are registered (or being registered) with the
    same institution through another cooperative of the federation: nothing more about it."""
    elsewhere = services.registered_elsewhere(agreement, [m.id for m in members])
    shown = [m for m in members if m.id in elsewhere]
    for member in shown[:MAX_REFUSALS_SHOWN]:
        flash(_("%(number)s %(name)s is registered or being registered with %(institution)s "
                "through another cooperative of the federation.", number=member.member_number,
                name=member.full_name, institution=agreement.institution.short_name),
              "warning")
    if len(shown) > MAX_REFUSALS_SHOWN:
        flash(_("… and %(n)d more.", n=len(shown) - MAX_REFUSALS_SHOWN), "warning")


# ---- agreements list ------------------------------------------------------------------------

@bp.route("/")
@roles_required(*ALL_ROLES)
def list_agreements():
    cooperative = current_cooperative()
    chosen = services.AGREEMENT_SORTS.read(request.args)
    agreements = services.agreements_of(cooperative.id, chosen)
    counts = services.registrations_by_status(cooperative.id)
    totals: dict[str, int] = {}
    for by_status in counts.values():
        for status, n in by_status.items():
            totals[status] = totals.get(status, 0) + n
    today = date.today()
    return render_template("agreements/list.html", agreements=agreements, counts=counts,
                           totals=totals, sorted=chosen, funnel_statuses=FUNNEL, today=today)


# ---- institutions and schemes ---------------------------------------------------------------

@bp.route("/institutions")
@roles_required(*ALL_ROLES)
def institutions():
    rows = db.session.scalars(scoped(Institution).order_by(Institution.short_name)).all()
    return render_template("agreements/institutions.html", institutions=rows)


@bp.route("/institutions/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def new_institution():
    cooperative = current_cooperative()
    form = InstitutionForm()
    if request.method == "GET":
        form.country.data = cooperative.country
    return form_page(
        form, lambda: services.create_institution(cooperative, form.name.data,
                                                  form.short_name.data, form.country.data),
        done=_("Institution added. Now add its schemes."),
        then=url_for("agreements.institutions"),
        template="agreements/institution_form.html", institution=None)


@bp.route("/institutions/<int:institution_id>/edit", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit_institution(institution_id: int):
    institution = get_scoped_or_404(Institution, institution_id)
    form = InstitutionForm(obj=institution)
    return form_page(
        form, lambda: services.update_institution(institution, form.name.data,
                                                  form.short_name.data, form.country.data),
        done=_("Changes saved."), then=url_for("agreements.institutions"),
        template="agreements/institution_form.html", institution=institution)


@bp.route("/institutions/<int:institution_id>/schemes/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def new_scheme(institution_id: int):
    institution = get_scoped_or_404(Institution, institution_id)
    form = SchemeForm()
    return form_page(
        form, lambda: services.create_scheme(institution, form.name.data, form.branches.data,
                                             form.member_benefits.data, form.how_to_claim.data),
        done=_("Scheme added."), then=url_for("agreements.institutions"),
        template="agreements/scheme_form.html", institution=institution, scheme=None)


@bp.route("/schemes/<int:scheme_id>/edit", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit_scheme(scheme_id: int):
    scheme = get_scoped_or_404(Scheme, scheme_id)
    form = SchemeForm()
    if request.method == "GET":
        form.name.data = scheme.name
        form.branches.data = [b.value for b in scheme.branches]
        form.member_benefits.data = scheme.member_benefits or ""
        form.how_to_claim.data = scheme.how_to_claim or ""
    return form_page(
        form, lambda: services.update_scheme(scheme, form.name.data, form.branches.data,
                                             form.member_benefits.data, form.how_to_claim.data),
        done=_("Changes saved."), then=url_for("agreements.institutions"),
        template="agreements/scheme_form.html", institution=scheme.institution, scheme=scheme)


# ---- agreements -----------------------------------------------------------------------------

def _agreement_choices(form: AgreementForm) -> None:
    cooperative = current_cooperative()
    institutions_ = db.session.scalars(scoped(Institution).order_by(Institution.short_name)).all()
    form.institution_id.choices = choices((i.id, f"{i.short_name} · {i.name}")
                                          for i in institutions_)
    form.scheme_ids.choices = choices(
        (s.id, f"{i.short_name}: {s.name}") for i in institutions_ for s in i.schemes)
    form.document_type_ids.choices = choices(
        (t.id, t.name) for t in db.session.scalars(select(DocumentType).where(
            DocumentType.cooperative_id == cooperative.id, DocumentType.active.is_(True))
            .order_by(DocumentType.position, DocumentType.id)))


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def new_agreement():
    cooperative = current_cooperative()
    form = NewAgreementForm()
    _agreement_choices(form)
    if not form.institution_id.choices:
        flash(_("Add the institution and its schemes first."), "warning")
        return redirect(url_for("agreements.new_institution"))
    return form_page(
        form, lambda: services.create_agreement(cooperative, form.agreement_data(),
                                                form.terms_data(), current_user.id),
        done=lambda agreement: _("Agreement %(ref)s added.", ref=agreement.reference),
        then=lambda agreement: url_for("agreements.view_agreement", agreement_id=agreement.id),
        template="agreements/agreement_form.html", agreement=None)


@bp.route("/<int:agreement_id>/edit", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit_agreement(agreement_id: int):
    agreement = get_scoped_or_404(Agreement, agreement_id)
    form = AgreementForm(obj=agreement if request.method == "GET" else None)
    _agreement_choices(form)
    if request.method == "GET":
        form.scheme_ids.data = [link.scheme_id for link in agreement.scheme_links]
        form.document_type_ids.data = [link.document_type_id
                                       for link in agreement.document_links]
    return form_page(
        form, lambda: services.update_agreement(agreement, form.agreement_data()),
        done=_("Changes saved."),
        then=url_for("agreements.view_agreement", agreement_id=agreement.id),
        template="agreements/agreement_form.html", agreement=agreement)


@bp.route("/<int:agreement_id>/terms/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def amend_terms(agreement_id: int):
    agreement = get_scoped_or_404(Agreement, agreement_id)
    currency = current_cooperative().currency
    form = TermsForm()
    latest = agreement.terms[-1] if agreement.terms else None
    if request.method == "GET" and latest is not None:
        form.rule_kind.data = latest.rule_kind.value
        for name, column in (("flat_amount", "flat_amount_minor"), ("floor", "floor_minor"),
                             ("ceiling", "ceiling_minor")):
            amount = from_minor(getattr(latest, column), currency)
            getattr(form, name).data = "" if amount is None else str(amount)
        form.rate_percent.data = "" if latest.rate_bp is None else _bp(latest.rate_bp)
        form.member_share_percent.data = _bp(latest.member_share_bp)
        form.schedule.data = latest.schedule.value
        form.due_months.data = latest.month_list
        form.due_day.data = latest.due_day
        form.grace_days.data = latest.grace_days
        form.remittance_deadline_days.data = latest.remittance_deadline_days
        form.suspended_no_dues.data = not latest.suspended_accrue
        for i, payer in enumerate(latest.third_payers[:2], start=1):
            getattr(form, f"payer{i}_kind").data = payer.kind.value
            getattr(form, f"payer{i}_name").data = payer.name
            getattr(form, f"payer{i}_share_percent").data = (
                "" if payer.share_bp is None else _bp(payer.share_bp))
            getattr(form, f"payer{i}_fixed_amount").data = (
                "" if payer.fixed_minor is None else str(from_minor(payer.fixed_minor,
                                                                    currency)))
            getattr(form, f"payer{i}_direct").data = not payer.through_cooperative
        form.scale.data = services.scale_text(latest, currency)
    if form.validate_on_submit():
        with attempt(form) as outcome:
            services.amend_terms(agreement, form.terms_data(), current_user.id)
        if outcome.ok:
            flash(_("New terms recorded from %(date)s; the earlier terms stay on record.",
                    date=form.effective_from.data.isoformat()), "success")
            return redirect(url_for("agreements.view_agreement", agreement_id=agreement.id))
    code = 422 if request.method == "POST" else 200
    return render_template("agreements/terms_form.html", form=form, agreement=agreement), code


def _bp(value: int) -> str:
    """Basis points as a percentage people read: 1050 → '10.5'."""
    return f"{value // 100}.{value % 100:02d}".rstrip("0").rstrip(".")


@bp.route("/<int:agreement_id>")
@roles_required(*ALL_ROLES)
def view_agreement(agreement_id: int):
    agreement = get_scoped_or_404(Agreement, agreement_id)
    today = date.today()
    current = services.terms_on(agreement, today)
    year = today.year
    return render_template("agreements/view.html", agreement=agreement, current=current,
                           counts=services.funnel(agreement), funnel_statuses=FUNNEL,
                           periods=services.periods_between(agreement, date(year, 1, 1),
                                                            date(year, 12, 31)),
                           year=year, month_labels=MONTH_LABELS, pct=_bp,
                           schedule_labels=SCHEDULE_LABELS, rule_labels=RULE_LABELS)


# ---- the campaign ---------------------------------------------------------------------------

def _filters() -> dict:
    args = request.values
    return {"q": args.get("q", "").strip()[:100], "sector": args.get("sector", ""),
            "sex": args.get("sex", ""), "locality": args.get("locality", "")[:120]}


def _search(filters: dict) -> dict:
    """The filters as the services take them: a viewer's ID search matches whole IDs only."""
    return {**filters, "whole_ids": masked_ids()}


@bp.route("/<int:agreement_id>/campaign")
@roles_required(*ALL_ROLES)
def campaign(agreement_id: int):
    agreement = get_scoped_or_404(Agreement, agreement_id)
    status = request.args.get("status", "pending")
    if status not in S._value2member_map_ and status != "flagged":
        status = "pending"
    filters = _filters()
    chosen = services.REGISTRATION_SORTS.read(request.args)
    registrations, cursor = services.registrations_page(agreement, status, _search(filters),
                                                        after=request.args.get("after"),
                                                        order=chosen)
    problems = (services.readiness_problems_many(registrations)
                if status in ("pending", "rejected", "ready") else {})
    return render_template("agreements/campaign.html", agreement=agreement, status=status,
                           registrations=registrations, cursor=cursor, problems=problems,
                           sorted=chosen,
                           counts=services.funnel(agreement, filters), funnel_statuses=FUNNEL,
                           filters=filters, sector_labels=SECTOR_LABELS,
                           localities=localities(agreement.cooperative_id), sexes=list(Sex),
                           can_mark_ready=status in ("pending", "rejected"))


@bp.route("/<int:agreement_id>/not-enrolled")
@roles_required(*ALL_ROLES)
def not_enrolled(agreement_id: int):
    agreement = get_scoped_or_404(Agreement, agreement_id)
    filters = _filters()
    chosen = services.NOT_ENROLLED_SORTS.read(request.args)
    members, cursor = services.not_enrolled_page(agreement, _search(filters),
                                                 after=request.args.get("after"), order=chosen)
    counts = services.funnel(agreement, filters)  # its not-enrolled figure is the list's
    return render_template("agreements/not_enrolled.html", agreement=agreement,
                           status="not_enrolled", members=members, cursor=cursor,
                           sorted=chosen,
                           filters=filters, matching=counts["not_enrolled"],
                           counts=counts, funnel_statuses=FUNNEL,
                           sector_labels=SECTOR_LABELS, sexes=list(Sex),
                           localities=localities(agreement.cooperative_id),
                           ended=agreement.valid_to is not None
                           and agreement.valid_to < date.today())


def _ids(name: str) -> list[int]:
    ids = []
    for value in request.form.getlist(name):
        try:
            ids.append(int(value))
        except ValueError:
            abort(400)
    return ids


@bp.route("/<int:agreement_id>/enrol", methods=["POST"])
@roles_required(*EDITORS)
def enrol(agreement_id: int):
    agreement = get_scoped_or_404(Agreement, agreement_id)
    filters = _filters()
    back = url_for("agreements.not_enrolled", agreement_id=agreement.id,
                   **{k: v for k, v in filters.items() if v})
    if not EmptyForm().validate_on_submit():
        abort(400)
    if request.form.get("scope") == "all":
        member_ids = services.not_enrolled_ids(agreement, filters)
    else:
        member_ids = _ids("member_id")
    with attempt() as outcome:
        result = services.enrol_members(agreement, member_ids, current_user.id)
    if not outcome.ok:
        return redirect(back)
    _flash_bulk(result, ngettext("%(num)d member enrolled in %(ref)s (pending).",
                                 "%(num)d members enrolled in %(ref)s (pending).",
                                 len(result.done), ref=agreement.reference))
    _warn_registered_elsewhere(agreement, [r.member for r in result.done])
    return redirect(back)


@bp.route("/<int:agreement_id>/mark-ready", methods=["POST"])
@roles_required(*EDITORS)
def mark_ready(agreement_id: int):
    agreement = get_scoped_or_404(Agreement, agreement_id)
    status = request.form.get("status", "pending")
    if status not in S._value2member_map_:
        status = "pending"
    if not EmptyForm().validate_on_submit():
        abort(400)
    result = services.mark_ready_many(agreement, _ids("registration_id"), current_user.id)
    _flash_bulk(result, ngettext("%(num)d registration marked ready.",
                                 "%(num)d registrations marked ready.", len(result.done)))
    return redirect(url_for("agreements.campaign", agreement_id=agreement.id, status=status))


@bp.route("/members/<int:member_id>/enrol", methods=["POST"])
@roles_required(*EDITORS)
def enrol_member(member_id: int):
    member = get_scoped_or_404(Member, member_id)
    form = EnrolForm()
    form.agreement_id.choices = choices(
        (a.id, a.reference) for a in services.enrollable_agreements(member))
    if not form.validate_on_submit():
        flash(_("Choose an agreement the member is not enrolled in."), "error")
        return redirect(url_for("members.view_member", member_id=member.id) + "#registrations")
    agreement = get_scoped_or_404(Agreement, form.agreement_id.data)
    with attempt() as outcome:
        registration = services.enrol_member(agreement, member, current_user.id)
    if not outcome.ok:
        return redirect(url_for("members.view_member", member_id=member.id) + "#registrations")
    flash(_("%(name)s enrolled in %(ref)s.", name=member.full_name, ref=agreement.reference),
          "success")
    _warn_registered_elsewhere(agreement, [member])
    return redirect(url_for("agreements.view_registration", registration_id=registration.id))


# ---- one registration -----------------------------------------------------------------------

ACTION_LABELS = {
    S.READY: _l("Mark ready"),
    S.SUBMITTED: _l("Mark submitted"),
    S.REJECTED: _l("Record the institution's rejection"),
    S.SUSPENDED: _l("Suspend"),
    S.TERMINATED: _l("Terminate (exit)"),
}


def _actions(registration: Registration, posted: TransitionForm | None = None) -> list[dict]:
    """One small form per change the registration can go through, with the fields it needs."""
    actions = []
    for target in S:
        if not REGISTRATION_LIFECYCLE.can(registration.status, target):
            continue
        if target == S.REGISTERED:
            if registration.status == S.SUBMITTED:
                label, fields = _("Record the registration"), ["institution_member_number",
                                                              "coverage_start"]
            else:
                label, fields = _("Resume coverage"), ["reason"]
        elif target == S.PENDING:
            if registration.status == S.TERMINATED:
                label, fields = _("Enrol again"), []
            else:
                label, fields = _("Back to pending"), ["reason"]
        elif target == S.REJECTED:
            label, fields = ACTION_LABELS[target], ["rejection_reason"]
        elif target in (S.SUSPENDED, S.TERMINATED):
            label, fields = ACTION_LABELS[target], ["reason"]
        else:
            label, fields = ACTION_LABELS[target], []
        if posted is not None and posted.to_status.data == target.value:
            form = posted
        else:
            form = TransitionForm(formdata=None, prefix=target.value)
            form.to_status.data = target.value
        actions.append({"target": target, "label": label, "fields": fields, "form": form,
                        "danger": target == S.TERMINATED})
    return actions


def _render_registration(registration: Registration, posted: TransitionForm | None = None,
                         code: int = 200):
    problems = (services.readiness_problems(registration)
                if registration.status in (S.PENDING, S.REJECTED, S.READY) else [])
    actions = _actions(registration, posted)
    stray: list[str] = []
    if posted is not None and not any(a["form"] is posted for a in actions):
        # the change asked for is not one this registration can go through
        stray = list(posted.form_errors) + [m for errors in posted.errors.values()
                                            if isinstance(errors, list) for m in errors]
    return render_template(
        "agreements/registration.html", registration=registration,
        member=registration.member, agreement=registration.agreement, problems=problems,
        actions=actions, stray_errors=stray,
        branches=registration.agreement.branches), code


@bp.route("/registrations/<int:registration_id>")
@roles_required(*ALL_ROLES)
def view_registration(registration_id: int):
    registration = get_scoped_or_404(Registration, registration_id)
    return _render_registration(registration)


def _terminating() -> bool:
    """The posted transition ends the registration (the only irreversible one)."""
    return any(key.endswith("to_status") and value == S.TERMINATED.value
               for key, value in request.form.items())


@bp.route("/registrations/<int:registration_id>/transition", methods=["POST"])
@roles_required(*EDITORS)
@confirm_first(Registration, _l(
    "Terminating ends this registration: an exit goes to the institution in the next exit "
    "batch."),
    action=_l("Terminate (exit)"), when=_terminating)
def transition(registration_id: int):
    registration = get_scoped_or_404(Registration, registration_id)
    target = request.form.get("to_status") or next(
        (request.form.get(f"{s.value}-to_status") for s in S
         if request.form.get(f"{s.value}-to_status")), "")
    prefix = target if f"{target}-to_status" in request.form else ""
    form = TransitionForm(prefix=prefix)
    if not form.validate_on_submit():
        return _render_registration(registration, form, 422)
    with attempt(form) as outcome:
        services.transition_registration(
            registration, form.to_status.data, current_user.id, reason=form.reason.data,
            institution_number=form.institution_member_number.data,
            coverage_start=form.coverage_start.data,
            rejection_reason=form.rejection_reason.data)
    if not outcome.ok:
        registration = get_scoped_or_404(Registration, registration_id)
        return _render_registration(registration, form, 422)
    flash(_("Registration is now %(status)s.",
            status=REGISTRATION_STATUS_LABELS[registration.status]), "success")
    return redirect(url_for("agreements.view_registration", registration_id=registration.id))


# ---- printable documents for members -------------------------------------------------------

def _render_in(language: str | None, template: str, **context) -> str:
    """Render a document in `language` (None: the page's own), dates and numbers included:
    the same switch as receipts and member statements (`force_locale`)."""
    context.update(relation_labels=dict(RELATION_CHOICES), member_status_labels=STATUS_LABELS,
                   document_language=language or str(get_locale()))
    return render_in_language(language, template, **context)


def _chosen_language(default: str | None) -> str | None:
    """The language picked on the page (?lang=), else `default`."""
    chosen = request.args.get("lang", "")
    return chosen if chosen in LANGUAGES else default


@bp.route("/members/<int:member_id>/registration-summary")
@roles_required(*ALL_ROLES)
def registration_summary(member_id: int):
    """One member's registrations, to print and hand over, in the member's language."""
    member = get_scoped_or_404(Member, member_id)
    return _render_in(member.language, "agreements/registration_summary.html",
                      summary=documents.registration_summary(member), member=member)


@bp.route("/<int:agreement_id>/awareness-sheet")
@roles_required(*ALL_ROLES)
def awareness_sheet(agreement_id: int):
    """What the agreement gives members and how to claim it, in the language chosen."""
    agreement = get_scoped_or_404(Agreement, agreement_id)
    return _render_in(_chosen_language(None), "agreements/awareness_sheet.html",
                      sheet=documents.awareness_sheet(agreement), agreement=agreement)


@bp.route("/<int:agreement_id>/awareness-sheet/members/<int:member_id>")
@roles_required(*ALL_ROLES)
def member_awareness_sheet(agreement_id: int, member_id: int):
    """The awareness sheet for one member: their name and registration status, in their
    language unless another one is chosen."""
    agreement = get_scoped_or_404(Agreement, agreement_id)
    member = get_scoped_or_404(Member, member_id)
    return _render_in(_chosen_language(member.language), "agreements/awareness_sheet.html",
                      sheet=documents.awareness_sheet(agreement, member), agreement=agreement)


# ---- the coverage-gap report ----------------------------------------------------------------

@bp.route("/coverage")
@roles_required(*ALL_ROLES)
def coverage():
    cooperative = current_cooperative()
    report = coverage_report(cooperative.id)
    return render_template("agreements/coverage.html", report=report, dimensions=DIMENSIONS,
                           dimension_columns=DIMENSION_COLUMNS)


@bp.route("/coverage/brief")
@roles_required(*ALL_ROLES)
def coverage_brief():
    """The report's figures, chart, date and method on one printable page, for advocacy, in
    the reader's language (chosen on the page; the page's own by default)."""
    report = coverage_report(current_cooperative().id)
    return _render_in(_chosen_language(None), "agreements/coverage_brief.html", report=report)


@bp.route("/coverage/export", methods=["POST"])
@roles_required(*ALL_ROLES)
def coverage_xlsx():
    """The report as a spreadsheet, made by a background job (its page shows the progress,
    then the download link)."""
    cooperative = current_cooperative()
    return start_and_follow(create_job(cooperative.id, COVERAGE_EXPORT, current_user.id, {}))


# the families' pages are routes of this blueprint too
from coopreg.agreements import family_views, scale_views  # noqa: E402,F401
