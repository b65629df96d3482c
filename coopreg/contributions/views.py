"""Pages of the contributions area: dues generation, receipts (with member search, printing
and reversal), member statements, collection sheets, remittances and acknowledgements,
closing periods, the reconciliation with its lines, arrears, the cash-up and statement
imports.

Thin: validate the form, call one service, commit once, flash, redirect. Treasurers and admins
write; everyone reads the ledger; arrears (phone numbers) are for the office roles.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import selectinload

from coopreg.agreements.models import Agreement
from coopreg.auth.access import ALL_ROLES, roles_required
from coopreg.auth.models import Role
from coopreg.contributions import jobs as contribution_jobs
from coopreg.contributions import payers, reports, services, statements
from coopreg.contributions.forms import (
    METHOD_LABELS,
    AcknowledgeForm,
    ClosePeriodForm,
    GenerateDuesForm,
    LinkLineForm,
    MappingForm,
    ReceiptForm,
    ReceiptFromLineForm,
    RemittanceForm,
    ReverseForm,
    SheetChooseForm,
    SheetPostForm,
    StatementUploadForm,
    ThirdPartyPaymentForm,
    WriteOffForm,
)
from coopreg.contributions.models import (
    Due,
    PaymentMethod,
    Receipt,
    Remittance,
    Statement,
    StatementLine,
    StatementSource,
    ThirdPartyPayment,
)
from coopreg.core.confirm import confirm_first
from coopreg.core.diskspace import DiskFull, write_atomically
from coopreg.core.errors import DomainError, KeyReused
from coopreg.core.forms import choices, put_error_on_form
from coopreg.core.money import amount_for_typing, from_minor
from coopreg.core.templating import money, render_in_language, show_month, translated_labels
from coopreg.core.tenancy import current_cooperative, get_scoped_or_404, masked_ids, scoped
from coopreg.core.text import ascii_digits, ascii_int
from coopreg.core.unit_of_work import attempt, button_post, form_page
from coopreg.extensions import db
from coopreg.jobs.services import create_job
from coopreg.jobs.views import start_and_follow
from coopreg.members.forms import STATUS_LABELS
from coopreg.members.models import Member

bp = Blueprint("contributions", __name__)
MONEY = (Role.ADMIN, Role.TREASURER)
OFFICE = (Role.ADMIN, Role.SECRETARY, Role.TREASURER)


@bp.app_context_processor
def _contributions_context():
    return {"method_labels": {m.value: label for m, label in METHOD_LABELS.items()},
            "can_handle_money": request.endpoint is not None
            and _role() in MONEY,
            "member_status_labels": translated_labels(STATUS_LABELS)}


@bp.app_template_filter("plain_amount")
def plain_amount(minor: int | None) -> str:
    """Minor units as a person types the amount ("1500.00"): no separators, no currency."""
    if minor is None:
        return ""
    return str(from_minor(minor, current_cooperative().currency))


def _role():
    from flask import g
    return g.get("role")


def _agreements() -> list[Agreement]:
    return list(db.session.scalars(scoped(Agreement).options(selectinload(
        Agreement.institution)).order_by(Agreement.reference)))


def _agreement_choices() -> list:
    return choices((a.id, f"{a.reference} · {a.institution.short_name}")
                   for a in _agreements())


def _chosen_agreement() -> Agreement | None:
    """The agreement named by ?agreement_id=, else the first one."""
    agreement_id = request.args.get("agreement_id", "")
    if agreement_id:
        return get_scoped_or_404(Agreement, agreement_id)
    agreements = _agreements()
    return agreements[0] if agreements else None


def _month_arg(name: str = "period") -> date | None:
    try:
        return services.parse_month(request.args.get(name))
    except DomainError:
        return None


def _new_key() -> str:
    return str(uuid.uuid4())


# ---- landing --------------------------------------------------------------------------------

@bp.route("/")
@roles_required(*ALL_ROLES)
def index():
    cooperative = current_cooperative()
    today = date.today()
    figures = {
        "receipts_today": reports.receipts_on(cooperative.id, today),
        "credit": reports.members_credit_total(cooperative.id),
        "unmatched": statements.unmatched_count(cooperative.id),
    }
    recent = db.session.scalars(scoped(Receipt).options(selectinload(Receipt.member),
                                                        selectinload(Receipt.reversal))
                                .order_by(Receipt.id.desc()).limit(10)).all()
    return render_template("contributions/index.html", figures=figures, recent=recent,
                           agreements=_agreements())


# ---- dues -----------------------------------------------------------------------------------

@bp.route("/dues/generate", methods=["GET", "POST"])
@roles_required(*MONEY)
def generate_dues():
    cooperative = current_cooperative()
    form = GenerateDuesForm()
    form.agreement_id.choices = _agreement_choices()
    if request.method == "GET":
        form.through.data = f"{date.today():%Y-%m}"
    preview = None
    if form.validate_on_submit():
        with attempt(form) as outcome:
            agreement = get_scoped_or_404(Agreement, form.agreement_id.data)
            start, through = services.dues_months(agreement, form.start.data,
                                                  form.through.data, form.from_start.data)
            # the first press shows what would be created; only the confirmation creates it
            asked = f"{agreement.id}:{start:%Y-%m}:{through:%Y-%m}"
            if form.confirm.data != asked:
                preview = services.preview_dues(agreement, start, through)
                form.confirm.data = asked
            else:
                job = create_job(cooperative.id, contribution_jobs.KIND, current_user.id,
                                 {"agreement_id": agreement.id, "start": start.isoformat(),
                                  "through": through.isoformat()})
        if outcome.ok:
            if preview is None:
                return start_and_follow(job)
            return render_template("contributions/generate.html", form=form, preview=preview,
                                   agreement=agreement)
    form.confirm.data = ""
    code = 422 if request.method == "POST" else 200
    return render_template("contributions/generate.html", form=form, preview=None), code


# ---- receipts -------------------------------------------------------------------------------

RECEIPTS_PER_PAGE = 50
STATEMENT_LINES_PER_PAGE = 500
REMITTANCES_PER_PAGE = 100


@bp.route("/receipts")
@roles_required(*ALL_ROLES)
def receipts():
    cooperative = current_cooperative()
    stmt = scoped(Receipt)
    q = request.args.get("q", "").strip()[:100]
    if ascii_int(q) is not None:
        stmt = stmt.where(Receipt.number == ascii_int(q))
    elif q:
        ids = [m.id for m in services.search_members(cooperative.id, q, limit=50,
                                                     whole_ids=masked_ids())]
        stmt = stmt.where(Receipt.member_id.in_(ids or [-1]))
    chosen = reports.RECEIPT_SORTS.read(request.args)
    rows, after = reports.RECEIPT_SORTS.page(
        stmt.options(selectinload(Receipt.member), selectinload(Receipt.reversal)), chosen,
        request.args.get("after"), RECEIPTS_PER_PAGE)
    totals = (reports.receipt_totals(stmt) if q
              else reports.cooperative_receipt_totals(cooperative.id))
    return render_template("contributions/receipts.html", receipts=rows, q=q,
                           sorted=chosen, after=after, totals=totals)


@bp.route("/members/search")
@roles_required(*MONEY)
def member_search():
    """Up to 10 members for the search-as-you-type box (JSON)."""
    cooperative = current_cooperative()
    found = services.search_members(cooperative.id, request.args.get("q", "")[:100])
    return jsonify([{"id": m.id, "label": f"{m.member_number} · {m.full_name}",
                     "locality": m.locality or ""} for m in found])


def _member_from_form(form) -> int | None:
    """The member chosen in the search box; without JavaScript, the one member the typed
    text finds."""
    if ascii_int(form.member_id.data) is not None:
        return ascii_int(form.member_id.data)
    found = services.search_members(current_cooperative().id, form.member_query.data or "",
                                    limit=2)
    return found[0].id if len(found) == 1 else None


@bp.route("/receipts/new", methods=["GET", "POST"])
@roles_required(*MONEY)
def new_receipt():
    cooperative = current_cooperative()
    form = ReceiptForm()
    if request.method == "GET":
        form.received_on.data = date.today()
        form.idempotency_key.data = _new_key()
        form.collector.data = current_user.name
        member_id = request.args.get("member_id", "")
        if ascii_digits(member_id):
            member = get_scoped_or_404(Member, member_id)
            form.member_id.data = str(member.id)
            form.member_query.data = f"{member.member_number} · {member.full_name}"
    code = 422
    if form.validate_on_submit():
        with attempt(form) as outcome:
            receipt, created = services.record_receipt(cooperative, services.ReceiptInput(
                member_id=_member_from_form(form), received_on=form.received_on.data,
                amount=form.amount.data, method=form.method.data,
                external_reference=form.external_reference.data,
                collector=form.collector.data, note=form.note.data,
                idempotency_key=form.idempotency_key.data), current_user.id)
        if not outcome.ok:
            code = outcome.error.status_code
            if isinstance(outcome.error, KeyReused):
                form.idempotency_key.data = _new_key()  # sending it again is a new receipt
        else:
            if created:
                flash(_("Receipt %(number)d recorded.", number=receipt.number), "success")
            else:
                flash(_("This form was already sent: receipt %(number)d was recorded then.",
                        number=receipt.number), "info")
            return redirect(url_for("contributions.view_receipt", receipt_id=receipt.id))
    if not form.idempotency_key.data:
        form.idempotency_key.data = _new_key()
    code = code if request.method == "POST" else 200
    return render_template("contributions/receipt_form.html", form=form), code


@bp.route("/receipts/<int:receipt_id>")
@roles_required(*ALL_ROLES)
def view_receipt(receipt_id: int):
    receipt = get_scoped_or_404(Receipt, receipt_id)
    context = {"receipt": receipt, "allocations": services.receipt_allocations(receipt),
               "unallocated": services.receipt_unallocated(receipt),
               "blockers": services.reversal_blockers(receipt),
               "reverse_form": ReverseForm(formdata=None), "print_date": date.today()}
    language = receipt.member.language
    if request.args.get("lang") == "member" and language:
        # the slip the member takes home, in the member's own language
        return render_in_language(language, "contributions/receipt.html",
                                  in_member_language=True, **context)
    return render_template("contributions/receipt.html", **context)


@bp.route("/receipts/<int:receipt_id>/print")
@roles_required(*ALL_ROLES)
def print_receipt(receipt_id: int):
    """The slip the member takes home, in the member's language: the cooperative's name and
    contact, the member's number and masked ID, what it paid and what is still owed, the
    amount in figures and words, the collector, a signature line — and nothing to click."""
    from flask_babel import get_locale

    from coopreg.members.display import show_id
    from coopreg.members.national_ids import mask_id

    receipt = get_scoped_or_404(Receipt, receipt_id)
    language = receipt.member.language or str(get_locale() or "en")
    slip = services.receipt_slip(receipt, language)
    masked = mask_id(show_id(receipt.member)) if receipt.member.id_number else ""
    return render_in_language(language, "contributions/receipt_print.html", receipt=receipt,
                              slip=slip, masked_id=masked, print_date=date.today(),
                              cooperative=current_cooperative())


@bp.route("/receipts/<int:receipt_id>/reverse", methods=["POST"])
@roles_required(*MONEY)
@confirm_first(Receipt, _l(
    "The receipt is reversed for good: its payments are taken off the dues and the reversal"
    " is kept beside it."),
    action=_l("Reverse the receipt"))
def reverse_receipt(receipt_id: int):
    receipt = get_scoped_or_404(Receipt, receipt_id)
    form = ReverseForm()
    return button_post(
        form, lambda: services.reverse_receipt(receipt, form.reason.data, current_user.id),
        back=url_for("contributions.view_receipt", receipt_id=receipt.id),
        done=_("Receipt %(number)d reversed; its payments were taken off the dues.",
               number=receipt.number),
        invalid=_("Give the reason for the reversal."))


@bp.route("/members/<int:member_id>/statement")
@roles_required(*ALL_ROLES)
def member_statement(member_id: int):
    member = get_scoped_or_404(Member, member_id)
    statement = reports.member_statement(member)
    # in the member's own language, for the copy they take home
    return render_in_language(member.language, "contributions/statement.html", member=member,
                              statement=statement, print_date=date.today())


# ---- write-offs -----------------------------------------------------------------------------

WRITE_OFF_CONSEQUENCE = _l(
    "The due and its payments stay in the ledger; what is open leaves the arrears and the "
    "collection sheet, is never remitted, and shows as written off in the reconciliation.")


@bp.route("/dues/<int:due_id>/write-off", methods=["GET", "POST"])
@roles_required(*MONEY)
@confirm_first(Due, WRITE_OFF_CONSEQUENCE, action=_l("Write it off"))
def write_off(due_id: int):
    """Write off what is open of a due, with a reason; the form asks for confirmation (a
    write-off cannot be undone)."""
    due = get_scoped_or_404(Due, due_id)
    form = WriteOffForm()
    return form_page(
        form, lambda: services.write_off_due(due, form.reason.data, current_user.id),
        done=lambda written: _("Written off: %(amount)s of %(member)s's due for %(month)s.",
                               amount=_money(written.amount_minor),
                               member=due.member.full_name, month=show_month(due.period)),
        then=url_for("contributions.member_statement", member_id=due.member_id),
        template="contributions/write_off.html", due=due,
        existing=services.due_write_off(due), open_minor=services.due_open_minor(due),
        consequence=WRITE_OFF_CONSEQUENCE)


@bp.route("/members/<int:member_id>/write-off", methods=["GET", "POST"])
@roles_required(*MONEY)
@confirm_first(Member, WRITE_OFF_CONSEQUENCE, action=_l("Write it all off"))
def write_off_member(member_id: int):
    """Write off everything a member still owes (a deceased member, one gone for good), with
    a reason; confirmed like a single due's write-off."""
    member = get_scoped_or_404(Member, member_id)
    form = WriteOffForm()
    dues = services.open_dues(member.id)
    return form_page(
        form, lambda: services.write_off_member_dues(member, form.reason.data, current_user.id),
        done=lambda made: _("Written off: %(amount)s in %(n)d due(s) of %(member)s.",
                            amount=_money(sum(w.amount_minor for w in made)), n=len(made),
                            member=member.full_name),
        then=url_for("contributions.member_statement", member_id=member.id),
        template="contributions/write_off_member.html", member=member, dues=dues,
        total=sum(open_minor for _due, open_minor in dues), consequence=WRITE_OFF_CONSEQUENCE)


def _money(minor: int) -> str:
    return money(minor, current_cooperative().currency)


# ---- collection sheet -----------------------------------------------------------------------

@bp.route("/collection", methods=["GET", "POST"])
@roles_required(*MONEY)
def collection_sheet():
    cooperative = current_cooperative()
    if request.method == "POST":
        return _post_collection_sheet(cooperative)
    choose = SheetChooseForm(request.args)
    choose.agreement_id.choices = _agreement_choices()
    if not request.args.get("collected_on"):
        choose.collected_on.data = date.today()
    lines, post_form, agreement = None, None, None
    if request.args.get("agreement_id") and choose.validate():
        agreement = get_scoped_or_404(Agreement, choose.agreement_id.data)
        after = _sheet_cursor(request.args.get("after"))
        lines = services.expected_collection(agreement, choose.collected_on.data,
                                             choose.locality.data,
                                             include_deceased=choose.include_deceased.data,
                                             **_sheet_page(after))
        post_form = SheetPostForm(formdata=None)
        post_form.after.data = "" if after is None else str(after)
        post_form.include_deceased.data = "1" if choose.include_deceased.data else ""
        post_form.agreement_id.data = agreement.id
        post_form.collected_on.data = choose.collected_on.data.isoformat()
        post_form.locality.data = choose.locality.data or ""
        post_form.collector.data = current_user.name
        post_form.idempotency_key.data = _new_key()
    return render_template("contributions/collection.html", choose=choose, lines=lines,
                           post_form=post_form, agreement=agreement, entered={})


def _sheet_cursor(value: str | None) -> int | None:
    return ascii_int(value)


def _sheet_page(after: int | None) -> dict:
    return {"after": after, "limit": current_app.config["COLLECTION_SHEET_PER_PAGE"]}


def _post_collection_sheet(cooperative):
    form = SheetPostForm()
    agreement = get_scoped_or_404(Agreement, form.agreement_id.data)
    try:
        collected_on = date.fromisoformat(form.collected_on.data or "")
    except ValueError:
        abort(400)
    member_ids = [int(v) for v in request.form.getlist("member") if ascii_int(v) is not None]
    entries = [services.SheetEntry(member_id=m, amount=request.form.get(f"amount-{m}", ""),
                                   method=request.form.get(f"method-{m}") or None,
                                   reference=request.form.get(f"reference-{m}") or None)
               for m in member_ids]
    code = 422
    if form.validate_on_submit():
        with attempt(form) as outcome:
            sheet, receipts = services.post_collection_sheet(
                cooperative, agreement, collected_on, form.collector.data, form.method.data,
                entries, form.control_count.data, form.control_total.data,
                form.idempotency_key.data, current_user.id)
        if not outcome.ok:
            code = outcome.error.status_code
            if isinstance(outcome.error, KeyReused):
                form.idempotency_key.data = _new_key()  # sending it again is a new sheet
        else:
            flash(_("Collection sheet posted: %(n)d receipts, %(first)s to %(last)s.",
                    n=len(receipts), first=receipts[0].number, last=receipts[-1].number),
                  "success")
            return redirect(url_for("contributions.reconciliation", agreement_id=agreement.id))
    # show the sheet again, with what was typed
    choose = SheetChooseForm(formdata=None)
    choose.agreement_id.choices = _agreement_choices()
    choose.agreement_id.data = agreement.id
    choose.collected_on.data = collected_on
    choose.locality.data = form.locality.data
    choose.include_deceased.data = form.include_deceased.data == "1"
    lines = services.expected_collection(agreement, collected_on, form.locality.data,
                                         include_deceased=choose.include_deceased.data,
                                         **_sheet_page(_sheet_cursor(form.after.data)))
    entered = {e.member_id: e for e in entries}
    return render_template("contributions/collection.html", choose=choose, lines=lines,
                           post_form=form, agreement=agreement, entered=entered), code


# ---- remittances ----------------------------------------------------------------------------

@bp.route("/remittances")
@roles_required(*ALL_ROLES)
def remittances():
    agreement = _chosen_agreement()
    rows, totals, after = [], None, None
    chosen = reports.REMITTANCE_SORTS.read(request.args)
    if agreement is not None:
        stmt = scoped(Remittance).where(Remittance.agreement_id == agreement.id)
        rows, after = reports.REMITTANCE_SORTS.page(
            stmt.options(selectinload(Remittance.acknowledgement)), chosen,
            request.args.get("after"), REMITTANCES_PER_PAGE)
        totals = reports.remittance_totals(stmt)
    return render_template("contributions/remittances.html", agreement=agreement,
                           agreements=_agreements(), remittances=rows, totals=totals,
                           sorted=chosen, after=after,
                           close_form=ClosePeriodForm(formdata=None),
                           closed=sorted(services.closed_periods(agreement), reverse=True)
                           if agreement else [])


@bp.route("/agreements/<int:agreement_id>/remittances/new", methods=["GET", "POST"])
@roles_required(*MONEY)
def new_remittance(agreement_id: int):
    agreement = get_scoped_or_404(Agreement, agreement_id)
    form = RemittanceForm()
    asked = (request.args.get("period") or "").strip()
    if request.method == "GET":
        # a month typed on this page and sent by its link stays in the field, even unreadable
        form.period.data = asked or f"{services.previous_month(date.today()):%Y-%m}"
        form.remitted_on.data = date.today()
    try:
        period = services.parse_month(form.period.data)
    except DomainError:
        period = None
    if form.validate_on_submit() and period is not None:
        with attempt(form) as outcome:
            remittance = services.record_remittance(
                agreement, period, form.remitted_on.data, form.amount.data,
                form.reference.data, current_user.id, note=form.note.data)
        if outcome.ok:
            flash(_("Remittance for %(month)s recorded.", month=show_month(period)), "success")
            return redirect(url_for("contributions.view_remittance",
                                    remittance_id=remittance.id))
    elif period is None and (request.method == "POST" or asked):
        form.period.errors = [_("Give the month as year-month, for example 2025-03.")]
    # the count and total from the agreement's running totals, the first lines by index
    dues = services.remittable_dues(agreement, period, limit=500) if period else []
    count, total = services.remittable_summary(agreement, period) if period else (0, 0)
    if request.method == "GET" and total:
        # the amount it expects, written as the user writes amounts
        form.amount.data = amount_for_typing(total, agreement.cooperative.currency)
    code = 422 if request.method == "POST" else 200
    return render_template("contributions/remittance_form.html", form=form,
                           agreement=agreement, period=period, dues=dues,
                           count=count, total=total), code


@bp.route("/remittances/<int:remittance_id>")
@roles_required(*ALL_ROLES)
def view_remittance(remittance_id: int):
    remittance = get_scoped_or_404(Remittance, remittance_id)
    lines = services.remittance_batch_lines(remittance.agreement, remittance.period)
    ack_form = AcknowledgeForm(formdata=None)
    ack_form.acknowledged_on.data = date.today()
    batch_url, files = None, _remittance_files(remittance)
    if "batches.new_batch" in current_app.view_functions and not any(
            f["holds"] for f in files):
        batch_url = url_for("batches.new_batch", agreement_id=remittance.agreement_id,
                            kind="remittance", period=f"{remittance.period:%Y-%m}")
    return render_template("contributions/remittance.html", remittance=remittance,
                           columns=payers.payer_columns(remittance.agreement,
                                                        remittance.period),
                           lines=lines[:1000], line_count=len(lines), ack_form=ack_form,
                           batch_url=batch_url, files=files)


# The remittance batches (files) of an agreement and month, with whether each holds the lines:
# the batches area sits beside this one, so the app factory connects its finder here
# (`coopreg._connect_areas`).
REMITTANCE_FILES: dict[str, Callable[[int, date], list[tuple[object, bool]]]] = {}


def _remittance_files(remittance: Remittance) -> list[dict]:
    """The remittance batches (files) made for this remittance's agreement and month:
    reference, status, link, and whether it holds the lines (then no second file is
    offered)."""
    finder = REMITTANCE_FILES.get("batches")
    if finder is None:
        return []
    from coopreg.core.labels import label

    return [{"reference": b.reference, "status": label(b.status), "holds": holds,
             "url": url_for("batches.view_batch", batch_id=b.id),
             "download": url_for("batches.download", batch_id=b.id) if b.is_sealed else None}
            for b, holds in finder(remittance.agreement_id, remittance.period)]


@bp.route("/remittances/<int:remittance_id>/acknowledge", methods=["POST"])
@roles_required(*MONEY)
@confirm_first(Remittance, _l(
    "The institution's confirmation is recorded once and cannot be changed afterwards."),
    action=_l("Record the confirmation"))
def acknowledge_remittance(remittance_id: int):
    remittance = get_scoped_or_404(Remittance, remittance_id)
    form = AcknowledgeForm()
    return button_post(
        form, lambda: services.acknowledge_remittance(
            remittance, form.acknowledged_on.data, form.amount.data, form.reference.data,
            current_user.id),
        back=url_for("contributions.view_remittance", remittance_id=remittance.id),
        done=_("The institution's confirmation is recorded."),
        invalid=_("Give the date and the amount the institution confirms."))


# ---- payers: each payer's column, and what third parties paid ---------------------------------

@bp.route("/agreements/<int:agreement_id>/payers", methods=["GET", "POST"])
@roles_required(*ALL_ROLES)
def payers_page(agreement_id: int):
    """Each payer's money of an agreement's month (the member, the state and other third
    parties, the cooperative): due, paid, missing and late; what third parties paid, with
    the form to record a payment (treasurers and admins)."""
    agreement = get_scoped_or_404(Agreement, agreement_id)
    period = _month_arg() or services.previous_month(date.today())
    names = payers.payers_of_period(agreement, period)
    form = ThirdPartyPaymentForm()
    form.payer_name.choices = choices((n, n) for n in names)
    if request.method == "GET":
        form.paid_on.data = date.today()
    code = 200
    if request.method == "POST":
        if _role() not in MONEY:
            abort(403)
        if form.validate_on_submit():
            with attempt(form) as outcome:
                payers.record_third_party_payment(
                    agreement, form.payer_name.data, period, form.paid_on.data,
                    form.amount.data, form.reference.data, form.note.data, current_user.id)
            if outcome.ok:
                flash(_("%(payer)s's payment for %(month)s recorded.",
                        payer=form.payer_name.data, month=f"{period:%Y-%m}"), "success")
                return redirect(url_for("contributions.payers_page", agreement_id=agreement.id,
                                        period=f"{period:%Y-%m}"))
        code = 422
    return render_template("contributions/payers.html", agreement=agreement,
                           agreements=_agreements(), period=period, form=form,
                           columns=payers.payer_columns(agreement, period),
                           payments=payers.third_party_payments(agreement, period),
                           reverse_form=ReverseForm(formdata=None)), code


@bp.route("/third-party-payments/<int:third_party_payment_id>/reverse", methods=["POST"])
@roles_required(*MONEY)
@confirm_first(ThirdPartyPayment, _l(
    "The payment is reversed for good: it stops counting and the payer owes that amount "
    "again; the reversal is kept beside it."),
    action=_l("Reverse the payment"))
def reverse_third_party_payment(third_party_payment_id: int):
    payment = get_scoped_or_404(ThirdPartyPayment, third_party_payment_id)
    form = ReverseForm()
    if form.validate_on_submit():
        with attempt() as outcome:
            payers.reverse_third_party_payment(payment, form.reason.data, current_user.id)
        if outcome.ok:
            flash(_("The payment of %(payer)s was reversed.", payer=payment.payer_name),
                  "success")
    else:
        flash(_("Give the reason for the reversal."), "error")
    return redirect(url_for("contributions.payers_page", agreement_id=payment.agreement_id,
                            period=f"{payment.period:%Y-%m}"))


@bp.route("/agreements/<int:agreement_id>/close", methods=["POST"])
@roles_required(*MONEY)
@confirm_first(Agreement, _l(
    "Closing is final: no more dues or remittance for that month; late payments go into the"
    " next remittance as adjustments."),
    action=_l("Close the period"))
def close_period(agreement_id: int):
    agreement = get_scoped_or_404(Agreement, agreement_id)
    form = ClosePeriodForm()

    def close():
        period = services.parse_month(form.period.data)
        services.close_period(agreement, period, current_user.id)
        return period

    return button_post(
        form, close, back=url_for("contributions.reconciliation", agreement_id=agreement.id),
        done=lambda period: _("%(month)s is closed.", month=show_month(period)),
        invalid=_("Give the month to close."))


# ---- reconciliation -------------------------------------------------------------------------

@bp.route("/reconciliation")
@roles_required(*ALL_ROLES)
def reconciliation():
    agreement = _chosen_agreement()
    rows = reports.reconciliation(agreement) if agreement else []
    third_names, thirds = (payers.third_parties_by_period(agreement) if agreement
                           else ([], {}))
    return render_template("contributions/reconciliation.html", agreement=agreement,
                           agreements=_agreements(), rows=rows, third_names=third_names,
                           thirds=thirds,
                           credit=reports.members_credit_total(current_cooperative().id),
                           explanation=reports.reconciliation_explanation(),
                           close_form=ClosePeriodForm(formdata=None))


@bp.route("/agreements/<int:agreement_id>/reconciliation.xlsx")
@roles_required(*ALL_ROLES)
def reconciliation_xlsx(agreement_id: int):
    """The reconciliation of an agreement as a spreadsheet (a few hundred periods at most:
    made in the request)."""
    from flask import Response

    from coopreg.jobs.files import XLSX

    agreement = get_scoped_or_404(Agreement, agreement_id)
    data = reports.reconciliation_workbook(agreement, reports.reconciliation(agreement),
                                           payers.third_parties_by_period(agreement))
    code = current_cooperative().code
    filename = f"reconciliation-{code}-{agreement.id}-{date.today():%Y%m%d}.xlsx"
    return Response(data, mimetype=XLSX, headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})


@bp.route("/agreements/<int:agreement_id>/lines")
@roles_required(*ALL_ROLES)
def reconciliation_lines(agreement_id: int):
    agreement = get_scoped_or_404(Agreement, agreement_id)
    period = _month_arg() or services.month_start(date.today())
    kind = request.args.get("kind", "due")
    if kind not in reports.LINE_KINDS:
        kind = "due"
    chosen = reports.LINE_SORTS.read(request.args)
    lines, cursor = reports.reconciliation_lines(agreement, period, kind,
                                                 after=request.args.get("after"), order=chosen)
    titles = {"due": _("Dues"), "allocated": _("Dues with a payment"),
              "open": _("Dues still open"), "paid": _("Dues fully paid"),
              "written_off": _("Dues written off"),
              "unremitted": _("Paid, not remitted yet"), "remitted": _("Dues remitted"),
              "collected": _("Collected in the month"),
              "remittance": _("Lines of the remittance")}
    return render_template("contributions/lines.html", agreement=agreement, period=period,
                           kind=kind, title=titles[kind], lines=lines, cursor=cursor,
                           kinds=titles, sorted=chosen)


# ---- arrears and cash-up --------------------------------------------------------------------

def _arrears_filters(source=None) -> dict:
    """The arrears page's filters; without any, the one definition of arrears the home
    page's card counts (reports.default_arrears_days)."""
    source = request.args if source is None else source

    def number(name: str, default: int, high: int) -> int:
        value = source.get(name, "")
        return min(int(value), high) if ascii_digits(value) else default

    filters = {"min_days": number("days", reports.default_arrears_days(), 3650),
               "min_periods": number("periods", 1, 120)}
    agreement_id = source.get("agreement_id", "")
    if agreement_id:
        filters["agreement_id"] = get_scoped_or_404(Agreement, agreement_id).id
    return filters


@bp.route("/arrears")
@roles_required(*OFFICE)
def arrears():
    """Members to call (still in the cooperative), then those who left, listed apart; the
    deceased only when asked for."""
    cooperative = current_cooperative()
    filters = _arrears_filters()
    include_deceased = request.args.get("deceased") == "1"
    chosen = reports.ARREARS_SORTS.read(request.args)
    rows = reports.arrears(cooperative.id, limit=500, order=chosen, **filters)
    count, total = reports.arrears_totals(cooperative.id, **filters)
    apart = [("departed", _("Departed members"), _("Members who left the cooperative: their "
                                                  "debts are settled apart (or written off)."))]
    if include_deceased:
        apart.append(("deceased", _("Deceased members"),
                      _("Not on the call list: write off what will never be paid.")))
    groups = [(name, title, hint, reports.arrears(cooperative.id, limit=500, group=name,
                                                  order=chosen, **filters),
               reports.arrears_totals(cooperative.id, group=name, **filters))
              for name, title, hint in apart]
    return render_template("contributions/arrears.html", rows=rows, count=count, total=total,
                           filters=filters, agreements=_agreements(), groups=groups,
                           include_deceased=include_deceased, sorted=chosen)


@bp.route("/arrears/export", methods=["POST"])
@roles_required(*OFFICE)
def arrears_xlsx():
    """The arrears list for follow-up, made by a background job (its page shows the
    progress, then the download link)."""
    cooperative = current_cooperative()
    params = _arrears_filters(request.form)
    params["include_deceased"] = request.form.get("deceased") == "1"
    return start_and_follow(create_job(cooperative.id, contribution_jobs.ARREARS_EXPORT,
                                       current_user.id, params))


@bp.route("/cash-up")
@roles_required(*ALL_ROLES)
def cash_up():
    cooperative = current_cooperative()
    try:
        end = date.fromisoformat(request.args.get("to", ""))
    except ValueError:
        end = date.today()
    try:
        start = date.fromisoformat(request.args.get("from", ""))
    except ValueError:
        start = end - timedelta(days=6)
    if start > end or (end - start).days > 366:
        start = end - timedelta(days=6)
    rows = reports.cash_up(cooperative.id, start, end)
    return render_template("contributions/cash_up.html", rows=rows, start=start, end=end,
                           totals=reports.cash_up_totals(rows),
                           methods=[m.value for m in PaymentMethod])


# ---- statements -----------------------------------------------------------------------------

def _upload_dir() -> Path:
    path = Path(current_app.config["IMPORT_DIR"]) / "statements"
    path.mkdir(parents=True, exist_ok=True)
    return path


@bp.route("/statements", methods=["GET", "POST"])
@roles_required(*MONEY)
def statements_page():
    cooperative = current_cooperative()
    form = StatementUploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read()
        filename = Path(upload.filename or "statement.csv").name
        with attempt(form) as outcome:
            source = statements.find_or_create_source(cooperative, form.source_name.data,
                                                      form.method.data)
            table = statements.read_statement_file(data, filename)
            _index, headers = statements.header_of(table)
            if statements.mapping_fits(source, headers):
                statement = statements.import_statement(cooperative, source, data, filename,
                                                        current_user.id)
            else:
                statement = None
        if outcome.ok:
            if statement is not None:
                _flash_import(statement)
                return redirect(url_for("contributions.view_statement",
                                        statement_id=statement.id))
            token = secrets.token_hex(16)
            suffix = Path(filename).suffix.lower()
            try:  # whole or nothing; a full disk says so
                write_atomically(_upload_dir() / f"{token}{suffix}", data)
            except DiskFull as error:
                flash(error.message, "error")
                return redirect(url_for("contributions.statements_page"))
            session["statement_upload"] = {"token": token, "suffix": suffix,
                                           "filename": filename, "source_id": source.id,
                                           "cooperative_id": cooperative.id}
            return redirect(url_for("contributions.statement_mapping"))
    recent = db.session.scalars(scoped(Statement).options(selectinload(Statement.source))
                                .order_by(Statement.id.desc()).limit(20)).all()
    sources = db.session.scalars(scoped(StatementSource).order_by(StatementSource.name)).all()
    code = 422 if request.method == "POST" else 200
    return render_template("contributions/statements.html", form=form, recent=recent,
                           sources=sources,
                           unmatched=statements.unmatched_count(cooperative.id)), code


def _flash_import(statement: Statement) -> None:
    flash(_("%(added)d new line(s) imported; %(known)d were already there; %(skipped)d "
            "debit or empty line(s) skipped.", added=statement.lines_added,
            known=statement.lines_known, skipped=statement.lines_skipped), "success")


@bp.route("/statements/mapping", methods=["GET", "POST"])
@roles_required(*MONEY)
def statement_mapping():
    cooperative = current_cooperative()
    pending = session.get("statement_upload")
    if not pending or pending.get("cooperative_id") != cooperative.id:
        flash(_("Upload the statement first."), "info")
        return redirect(url_for("contributions.statements_page"))
    source = get_scoped_or_404(StatementSource, pending["source_id"])
    path = _upload_dir() / f"{pending['token']}{pending['suffix']}"
    if not path.exists():
        session.pop("statement_upload", None)
        return redirect(url_for("contributions.statements_page"))
    data = path.read_bytes()
    table = statements.read_statement_file(data, pending["filename"])
    header_index, headers = statements.header_of(table)
    form = MappingForm()
    options = choices([("", "—")] + [(h, h) for h in headers if h])
    for name in ("date_column", "amount_column", "reference_column", "member_column",
                 "description_column"):
        getattr(form, name).choices = options
        if request.method == "GET" and getattr(source, name) in headers:
            getattr(form, name).data = getattr(source, name)
    if request.method == "GET":
        form.date_order.data = source.date_order
    if form.validate_on_submit():
        with attempt(form) as outcome:
            statements.save_mapping(source, headers, {
                name: getattr(form, name).data for name in (
                    "date_column", "amount_column", "reference_column", "member_column",
                    "description_column")}, form.date_order.data)
            statement = statements.import_statement(cooperative, source, data,
                                                    pending["filename"], current_user.id)
        if outcome.ok:
            path.unlink(missing_ok=True)
            session.pop("statement_upload", None)
            _flash_import(statement)
            return redirect(url_for("contributions.view_statement", statement_id=statement.id))
    sample = table.rows[header_index + 1:header_index + 6]
    code = 422 if request.method == "POST" else 200
    return render_template("contributions/mapping.html", form=form, source=source,
                           headers=headers, sample=sample,
                           filename=pending["filename"]), code


@bp.route("/statements/<int:statement_id>")
@roles_required(*MONEY)
def view_statement(statement_id: int):
    statement = get_scoped_or_404(Statement, statement_id)
    chosen = reports.STATEMENT_LINE_SORTS.read(request.args)
    lines, after = reports.STATEMENT_LINE_SORTS.page(
        scoped(StatementLine).where(StatementLine.statement_id == statement.id)
        .options(selectinload(StatementLine.match)), chosen, request.args.get("after"),
        STATEMENT_LINES_PER_PAGE)
    return render_template("contributions/statement_lines.html", statement=statement,
                           lines=lines, sorted=chosen, after=after)


@bp.route("/statements/queue")
@roles_required(*MONEY)
def statement_queue():
    cooperative = current_cooperative()
    chosen = reports.QUEUE_SORTS.read(request.args)
    lines = statements.unmatched_lines(cooperative.id, order=reports.QUEUE_SORTS.order_by(chosen))
    return render_template("contributions/queue.html", lines=lines, sorted=chosen,
                           candidates={line.id: statements.candidates(line, limit=5)
                                       for line in lines[:50]},
                           link_form=LinkLineForm(formdata=None))


@bp.route("/statement-lines/<int:statement_line_id>/link", methods=["POST"])
@roles_required(*MONEY)
def link_line(statement_line_id: int):
    line = get_scoped_or_404(StatementLine, statement_line_id)
    form = LinkLineForm()
    return button_post(
        form, lambda: statements.link_line(line, form.receipt_number.data, current_user.id),
        back=url_for("contributions.statement_queue"),
        done=lambda match: _("Line linked to receipt %(n)d.", n=match.receipt.number),
        invalid=_("Give a receipt number."))


@bp.route("/statement-lines/<int:statement_line_id>/receipt", methods=["GET", "POST"])
@roles_required(*MONEY)
def receipt_from_line(statement_line_id: int):
    cooperative = current_cooperative()
    line = get_scoped_or_404(StatementLine, statement_line_id)
    if line.match is not None:
        flash(_("This line is already matched."), "info")
        return redirect(url_for("contributions.view_receipt", receipt_id=line.match.receipt_id))
    form = ReceiptFromLineForm()
    if request.method == "GET":
        form.idempotency_key.data = _new_key()
        member = statements.member_named_on(line)
        if member is not None:
            form.member_id.data = str(member.id)
            form.member_query.data = f"{member.member_number} · {member.full_name}"
    code = 422
    if form.validate_on_submit():
        with attempt(report=False) as outcome:
            receipt, _match = statements.record_receipt_from_line(
                cooperative, line, _member_from_form(form), form.idempotency_key.data,
                current_user.id)
        if outcome.ok:
            flash(_("Receipt %(number)d recorded from the statement line.",
                    number=receipt.number), "success")
            return redirect(url_for("contributions.statement_queue"))
        else:
            if outcome.error.field not in ("member_id",):
                outcome.error.field = None
            put_error_on_form(form, outcome.error)
            code = outcome.error.status_code
            if isinstance(outcome.error, KeyReused):
                form.idempotency_key.data = _new_key()
    if not form.idempotency_key.data:
        form.idempotency_key.data = _new_key()
    code = code if request.method == "POST" else 200
    return render_template("contributions/line_receipt.html", form=form, line=line), code
