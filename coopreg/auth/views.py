"""Login, logout, choosing the current cooperative, and one's own account."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale, refresh
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from coopreg.auth import services
from coopreg.auth.access import login_only, public
from coopreg.auth.forms import (
    ChangePasswordForm,
    ChooseCooperativeForm,
    EmptyForm,
    LanguageForm,
    LoginForm,
    PageLanguageForm,
)
from coopreg.auth.passwords import verify_password
from coopreg.core.audit import set_actor
from coopreg.core.errors import DomainError
from coopreg.core.forms import choices, put_error_on_form
from coopreg.core.labels import display
from coopreg.core.languages import LANGUAGE_COOKIE, LANGUAGE_COOKIE_AGE, LANGUAGES
from coopreg.extensions import db, limiter, login_form_email

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str | None:
    """Only a path inside this site (no scheme, no host) is followed after login."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _failed(response) -> bool:
    return request.method == "POST" and response.status_code != 302


def _login_limit() -> str:
    return current_app.config["LOGIN_FAILURES_ALLOWED"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed)
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed, key_func=login_form_email)
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append(_("Wrong email or password."))
        else:
            next_url = _safe_next(request.args.get("next"))
            session.clear()  # a fresh session at login: no fixation
            login_user(user)
            session.permanent = True
            session["login_at"] = time.time()
            set_actor(user.id, user.email)
            db.session.commit()
            return redirect(next_url or url_for("core.index"))
    language_form = PageLanguageForm(language=str(get_locale()))
    return (render_template("auth/login.html", form=form, language_form=language_form),
            200 if request.method == "GET" else 401)


@bp.route("/language", methods=["POST"])
@public
def choose_language():
    """The language of the pages, chosen before logging in: kept by the browser in a cookie
    (a user's own choice in their account, when they made one, still comes first)."""
    form = PageLanguageForm()
    if not (form.validate_on_submit() and form.language.data in LANGUAGES):
        return render_template("auth/login.html", form=LoginForm(), language_form=form)
    target = _safe_next(request.args.get("next")) or url_for("auth.login")
    response = redirect(target)
    response.set_cookie(LANGUAGE_COOKIE, form.language.data, max_age=LANGUAGE_COOKIE_AGE,
                        secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
                        httponly=True, samesite="Lax")
    return response


@bp.route("/logout", methods=["POST"])
@login_only
def logout():
    form = EmptyForm()
    if form.validate_on_submit():
        services.rotate_session_token(current_user)
        db.session.commit()
        logout_user()
        session.clear()
        flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/cooperative", methods=["GET", "POST"])
@login_only
def choose_cooperative():
    memberships = sorted(current_user.memberships, key=lambda m: m.cooperative.name)
    form = ChooseCooperativeForm()
    form.cooperative_id.choices = choices(
        (m.cooperative_id, f"{m.cooperative.name} ({m.cooperative.code}) — {display(m.role)}")
        for m in memberships)
    if form.validate_on_submit():
        session["cooperative_id"] = form.cooperative_id.data
        return redirect(_safe_next(request.args.get("next")) or url_for("core.index"))
    return render_template("auth/choose_cooperative.html", form=form, memberships=memberships)


@bp.route("/account/language", methods=["POST"])
@login_only
def set_language():
    form = LanguageForm()
    if form.validate_on_submit():
        try:
            services.set_language(current_user, form.locale.data)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            refresh()  # this request's texts were already chosen in the old language
            flash(_("Language saved."), "success")
    back = _safe_next(request.form.get("next"))
    return redirect(back or url_for("auth.account"))


@bp.route("/account", methods=["GET", "POST"])
@login_only
def account():
    language_form = LanguageForm(locale=current_user.locale or "")
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not verify_password(current_user.password_hash, form.current_password.data):
            form.current_password.errors.append(_("This is not your current password."))
        else:
            try:
                services.set_password(current_user, form.password.data)
            except DomainError as error:
                db.session.rollback()
                put_error_on_form(form, error)
            else:
                db.session.commit()
                # the token changed: log in again in this browser so only this session lives on
                cooperative_id = session.get("cooperative_id")
                session.clear()
                login_user(current_user._get_current_object())
                session.permanent = True
                session["login_at"] = time.time()
                if cooperative_id:
                    session["cooperative_id"] = cooperative_id
                flash(_("Your password is changed. Other sessions were logged out."), "success")
                return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form, language_form=language_form)
