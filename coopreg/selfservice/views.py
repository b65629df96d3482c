"""The member's pages (`/me`): sign in with a code (sent, or printed on the card), the record
(registrations, dependants' cover, months per scheme, dues, receipts, contact), the awareness
sheet of their schemes, the statement and receipts to download, a request to correct their
details, STOP, sign out. Server-rendered, no JavaScript, small; in the member's language.

The office's side (`/self-service`, blueprint `selfservice_office`): the members' correction
requests (accept or reject) and a new printed sign-in code for a member."""

from __future__ import annotations

import time
from dataclasses import asdict
from datetime import date

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from coopreg.auth.access import ACCESS_ATTR, roles_required
from coopreg.auth.models import Role
from coopreg.core.audit import set_actor
from coopreg.core.labels import labels_for
from coopreg.core.languages import speaking
from coopreg.core.money import format_minor
from coopreg.core.tenancy import current_cooperative, get_scoped_or_404
from coopreg.core.unit_of_work import attempt, button_post, checkpoint
from coopreg.members.models import Member
from coopreg.messaging.jobs import start_delivery
from coopreg.selfservice import services

bp = Blueprint("selfservice", __name__)
office = Blueprint("selfservice_office", __name__)
EDITORS = (Role.ADMIN, Role.SECRETARY)
SESSION_MINUTES = 15


def member_page(view):
    """Open without a staff login: the view checks the member's own session."""
    setattr(view, ACCESS_ATTR, ("member",))
    return view


class SignInForm(FlaskForm):
    cooperative = StringField(_l("Cooperative code"), validators=[DataRequired(), Length(max=20)])
    member_number = StringField(_l("Member number"), validators=[DataRequired(), Length(max=20)])


class CodeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=12)])


class CardForm(FlaskForm):
    cooperative = StringField(_l("Cooperative code"), validators=[DataRequired(), Length(max=20)])
    member_number = StringField(_l("Member number"), validators=[DataRequired(), Length(max=20)])
    card_code = StringField(_l("Code on your card or receipt"),
                            validators=[DataRequired(), Length(max=20)])


class ButtonForm(FlaskForm):
    pass


# The details a member may ask to correct (services.CORRECTABLE), as the form names them.
CORRECTION_LABELS = {
    "first_name": _l("First name"), "middle_name": _l("Middle name"),
    "last_name": _l("Last name"), "second_last_name": _l("Second last name"),
    "date_of_birth": _l("Date of birth"), "id_number": _l("ID number"), "phone": _l("Phone"),
    "email": _l("Email"), "address": _l("Address"), "locality": _l("Locality"),
    "occupation": _l("Occupation"),
}


class CorrectionForm(FlaskForm):
    """One box per detail (left empty: no change) and a note."""

    note = TextAreaField(_l("Note for the office"), validators=[Optional(), Length(max=500)])


for _name in services.CORRECTABLE:
    setattr(CorrectionForm, _name, StringField(
        CORRECTION_LABELS[_name], validators=[Optional(), Length(max=services.MAX_VALUE)]))


STATUS_LABELS = labels_for(services.CorrectionStatus, {
    "pending": _l("Waiting for the office"), "accepted": _l("Accepted"),
    "rejected": _l("Rejected")})


class RejectForm(FlaskForm):
    reason = StringField(_l("Reason (the member reads it)"),
                         validators=[DataRequired(), Length(max=300)])


def _signed_in() -> tuple[int, int] | None:
    member_id, cooperative_id = session.get("member_id"), session.get("member_cooperative_id")
    since = session.get("member_since") or 0
    if member_id is None or time.time() - since > SESSION_MINUTES * 60:
        return None
    return int(member_id), int(cooperative_id)


@bp.route("/", methods=["GET", "POST"])
@member_page
def sign_in():
    form = SignInForm()
    if form.validate_on_submit():
        sent = services.send_code(form.cooperative.data, form.member_number.data)
        session["member_code"] = asdict(sent)
        session["member_account"] = (f"{form.cooperative.data.strip().upper()}:"
                                     f"{form.member_number.data.strip()}")
        if sent.member_id is not None:
            checkpoint()
            start_delivery(services.find_member(form.cooperative.data,
                                                form.member_number.data).cooperative_id)
        flash(_("If the number is right, a code is on its way to your phone or email."), "info")
        return redirect(url_for("selfservice.enter_code"))
    return render_template("selfservice/sign_in.html", form=form,
                           card_form=CardForm(prefix="card")), (
        422 if request.method == "POST" else 200)


@bp.route("/code", methods=["GET", "POST"])
@member_page
def enter_code():
    form = CodeForm()
    if form.validate_on_submit():
        stored = session.get("member_code")
        sent = services.CodeSent(**stored) if stored else None
        with attempt(form) as outcome:
            member_id = services.check_code(sent, form.code.data,
                                            session.get("member_account", ""))
        if outcome.ok:
            record = services.record_of(member_id, services.find_member(
                *session["member_account"].split(":", 1)).cooperative_id)
            _start_session(member_id, record.cooperative.id)
            return redirect(url_for("selfservice.record"))
    return render_template("selfservice/code.html", form=form), (
        422 if request.method == "POST" else 200)


def _language(found: services.MemberRecord) -> str:
    return found.member.language or found.cooperative.locale


def _member_record():
    """The signed-in member's record (None: sign in again), with the member's cooperative as
    the request's (its currency and name on the pages)."""
    who = _signed_in()
    if who is None:
        return None
    found = services.record_of(*who)
    if found is None:
        abort(404)
    g.cooperative = found.cooperative
    return found


def _download(html: str, name: str):
    """A document the member keeps: an HTML file to save or print, named by the app."""
    response = make_response(html)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.html"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/record")
@member_page
def record():
    found = _member_record()
    if found is None:
        return redirect(url_for("selfservice.sign_in"))
    currency = found.cooperative.currency
    language = _language(found)
    with speaking(language):
        return render_template("selfservice/record.html", record=found, language=language,
                               money=lambda minor: format_minor(minor, currency, language),
                               dependants=services.dependants_cover(found),
                               schemes=services.months_per_scheme(found),
                               requests=services.member_requests(found.member.id,
                                                                 found.cooperative.id),
                               labels=CORRECTION_LABELS, changes=services.requested_changes,
                               form=ButtonForm())


@bp.route("/receipts/<int:receipt_id>")
@member_page
def receipt(receipt_id: int):
    record = _member_record()
    if record is None:
        return redirect(url_for("selfservice.sign_in"))
    found = services.own_receipt(record.member.id, record.cooperative.id, receipt_id)
    if found is None:
        abort(404)
    language = _language(record)
    with speaking(language):
        return render_template("selfservice/receipt.html", receipt=found, record=record,
                               language=language,
                               money=lambda minor: format_minor(
                                   minor, record.cooperative.currency, language))


@bp.route("/receipts/<int:receipt_id>/download")
@member_page
def download_receipt(receipt_id: int):
    """The office's printed receipt slip (contributions/receipt_print.html), as a file."""
    from coopreg.members.display import show_id
    from coopreg.members.national_ids import mask_id

    record = _member_record()
    if record is None:
        return redirect(url_for("selfservice.sign_in"))
    found = services.own_receipt(record.member.id, record.cooperative.id, receipt_id)
    if found is None:
        abort(404)
    language = _language(record)
    masked = mask_id(show_id(found.member)) if found.member.id_number else ""
    with speaking(language):
        html = render_template("contributions/receipt_print.html", receipt=found,
                               slip=services.receipt_slip(found, language), masked_id=masked,
                               print_date=date.today(), cooperative=record.cooperative)
    return _download(html, f"receipt-{found.number}")


@bp.route("/statement")
@member_page
def statement():
    """The office's member statement, without its links and buttons, as a file."""
    record = _member_record()
    if record is None:
        return redirect(url_for("selfservice.sign_in"))
    with speaking(_language(record)):
        html = render_template("contributions/statement_print.html", member=record.member,
                               statement=record.statement, print_date=date.today(),
                               cooperative=record.cooperative)
    return _download(html, f"statement-{record.member.member_number}")


@bp.route("/schemes/<int:agreement_id>")
@member_page
def awareness(agreement_id: int):
    """The awareness sheet of an agreement the member is registered under (another: 404)."""
    record = _member_record()
    if record is None:
        return redirect(url_for("selfservice.sign_in"))
    sheet = services.own_awareness_sheet(record, agreement_id)
    if sheet is None:
        abort(404)
    language = _language(record)
    with speaking(language):
        return render_template("selfservice/awareness.html", sheet=sheet,
                               agreement=sheet.agreement, cooperative=record.cooperative,
                               document_language=language, language=language)


@bp.route("/correction", methods=["GET", "POST"])
@member_page
def correction():
    """Ask the office to correct one's details: nothing changes until a secretary accepts."""
    record = _member_record()
    if record is None:
        return redirect(url_for("selfservice.sign_in"))
    language = _language(record)
    with speaking(language):
        form = CorrectionForm()
        if form.validate_on_submit():
            set_actor(None, f"member {record.member.member_number}")
            with attempt(form) as outcome:
                services.request_correction(
                    record.member.id, record.cooperative.id,
                    {name: getattr(form, name).data for name in services.CORRECTABLE},
                    form.note.data)
            if outcome.ok:
                flash(_("Your request was sent to the office. Nothing changes until they "
                        "accept it."), "success")
                return redirect(url_for("selfservice.record"))
        return render_template("selfservice/correction.html", form=form, record=record,
                               language=language, names=services.CORRECTABLE), (
            422 if request.method == "POST" else 200)


@bp.route("/card", methods=["POST"])
@member_page
def card_sign_in():
    """Sign in with the code printed on the member's card or receipt (no message sent)."""
    form = CardForm(prefix="card")
    if form.validate_on_submit():
        account = f"{form.cooperative.data.strip().upper()}:{form.member_number.data.strip()}"
        with attempt(form) as outcome:
            member_id, cooperative_id = services.sign_in_with_card(
                form.cooperative.data, form.member_number.data, form.card_code.data, account)
        if outcome.ok:
            _start_session(member_id, cooperative_id)
            return redirect(url_for("selfservice.record"))
    return render_template("selfservice/sign_in.html", form=SignInForm(formdata=None),
                           card_form=form), 422


def _start_session(member_id: int, cooperative_id: int) -> None:
    for key in ("member_code", "member_account"):
        session.pop(key, None)
    session["member_id"] = member_id
    session["member_cooperative_id"] = cooperative_id
    session["member_since"] = time.time()


@bp.route("/stop", methods=["POST"])
@member_page
def stop():
    who = _signed_in()
    if who is None or not ButtonForm().validate_on_submit():
        abort(403)
    record = services.record_of(*who)
    if record is None:
        abort(404)
    set_actor(None, f"member {record.member.member_number}")
    services.stop_messages(*who)
    flash(_("You will get no more reminders. Tell the office to start them again."), "success")
    return redirect(url_for("selfservice.record"))


@bp.route("/sign-out", methods=["POST"])
@member_page
def sign_out():
    if not ButtonForm().validate_on_submit():
        abort(400)
    for key in ("member_id", "member_cooperative_id", "member_since", "member_code",
                "member_account"):
        session.pop(key, None)
    return redirect(url_for("selfservice.sign_in"))


# ---- the office's side ----------------------------------------------------------------------

@office.route("/corrections")
@roles_required(*EDITORS)
def corrections():
    """The members' correction requests: pending first (the secretary answers each)."""
    status = request.args.get("status", "pending")
    cooperative = current_cooperative()
    return render_template("selfservice/corrections.html",
                           requests=services.correction_requests(cooperative.id, status),
                           status=status, statuses=[s.value for s in services.CorrectionStatus],
                           status_labels={s.value: STATUS_LABELS[s.value]
                                          for s in services.CorrectionStatus},
                           pending=services.pending_count(cooperative.id),
                           labels=CORRECTION_LABELS, changes=services.requested_changes,
                           form=ButtonForm(), reject_form=RejectForm(formdata=None))


def _correction(request_id: int):
    from coopreg.selfservice.models import CorrectionRequest

    return get_scoped_or_404(CorrectionRequest, request_id)


@office.route("/corrections/<int:request_id>/accept", methods=["POST"])
@roles_required(*EDITORS)
def accept_correction(request_id: int):
    found = _correction(request_id)
    back = url_for("selfservice_office.corrections")

    def refused(error):
        flash(_("Not applied: %(reason)s", reason=error.message), "error")
        return redirect(back)

    return button_post(ButtonForm(), lambda: services.accept_correction(found, current_user.id),
                       back=back, refused=refused,
                       done=lambda member: _("%(name)s's details were corrected.",
                                             name=member.full_name))


@office.route("/corrections/<int:request_id>/reject", methods=["POST"])
@roles_required(*EDITORS)
def reject_correction(request_id: int):
    found = _correction(request_id)
    form = RejectForm()
    return button_post(form, lambda: services.reject_correction(found, form.reason.data,
                                                                current_user.id),
                       back=url_for("selfservice_office.corrections"),
                       invalid=_("Give the reason, for the member."),
                       done=_("The request was rejected; the member reads why."))


@office.route("/members/<int:member_id>/card-code", methods=["POST"])
@roles_required(*EDITORS)
def issue_card_code(member_id: int):
    """A new sign-in code to print on the member's card or receipt; the old one stops
    working. Shown once, on this page (never again: only its hash is kept)."""
    member = get_scoped_or_404(Member, member_id)
    form = ButtonForm()
    if not form.validate_on_submit():
        abort(400)
    with attempt(form) as outcome:
        code = services.issue_card_code(member, current_user.id)
    if not outcome.ok:
        flash(outcome.error.message, "error")
        return redirect(url_for("members.view_member", member_id=member.id))
    response = make_response(render_template(
        "selfservice/card_code.html", member=member, code=services.show_card_code(code),
        cooperative=current_cooperative()))
    response.headers["Cache-Control"] = "no-store"
    return response
