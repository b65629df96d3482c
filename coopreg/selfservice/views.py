"""The member's pages (`/me`): sign in with a code, the record, a receipt, STOP, sign out.
Server-rendered, no JavaScript, small; in the member's language."""

from __future__ import annotations

import time
from dataclasses import asdict

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from coopreg.auth.access import ACCESS_ATTR
from coopreg.core.languages import speaking
from coopreg.core.money import format_minor
from coopreg.core.unit_of_work import attempt, checkpoint
from coopreg.messaging.jobs import start_delivery
from coopreg.selfservice import services

bp = Blueprint("selfservice", __name__)
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


class ButtonForm(FlaskForm):
    pass


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
    return render_template("selfservice/sign_in.html", form=form), (
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
            session.pop("member_code", None)
            session["member_id"] = member_id
            session["member_cooperative_id"] = record.cooperative.id
            session["member_since"] = time.time()
            return redirect(url_for("selfservice.record"))
    return render_template("selfservice/code.html", form=form), (
        422 if request.method == "POST" else 200)


@bp.route("/record")
@member_page
def record():
    who = _signed_in()
    if who is None:
        return redirect(url_for("selfservice.sign_in"))
    found = services.record_of(*who)
    if found is None:
        abort(404)
    currency = found.cooperative.currency
    language = found.member.language or found.cooperative.locale
    with speaking(language):
        return render_template("selfservice/record.html", record=found, language=language,
                               money=lambda minor: format_minor(minor, currency, language),
                               form=ButtonForm())


@bp.route("/receipts/<int:receipt_id>")
@member_page
def receipt(receipt_id: int):
    who = _signed_in()
    if who is None:
        return redirect(url_for("selfservice.sign_in"))
    found = services.own_receipt(who[0], who[1], receipt_id)
    if found is None:
        abort(404)
    record = services.record_of(*who)
    language = record.member.language or record.cooperative.locale
    with speaking(language):
        return render_template("selfservice/receipt.html", receipt=found, record=record,
                               language=language,
                               money=lambda minor: format_minor(
                                   minor, record.cooperative.currency, language))


@bp.route("/stop", methods=["POST"])
@member_page
def stop():
    who = _signed_in()
    if who is None or not ButtonForm().validate_on_submit():
        abort(403)
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
