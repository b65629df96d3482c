"""Login, logout, choosing the current cooperative, and one's own account."""

from __future__ import annotations

import time

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale, refresh
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user

from coopreg.auth import invitations, login_limits, services, tokens
from coopreg.auth.access import ALL_ROLES, login_only, public, roles_required
from coopreg.auth.forms import (
    ROLE_LABELS,
    ApiTokenForm,
    ChangePasswordForm,
    ChooseCooperativeForm,
    EmptyForm,
    JoinForm,
    LanguageForm,
    LoginForm,
    PageLanguageForm,
)
from coopreg.auth.passwords import verify_password
from coopreg.core.audit import set_actor
from coopreg.core.confirm import confirm_first
from coopreg.core.forms import choices
from coopreg.core.labels import display
from coopreg.core.languages import LANGUAGE_COOKIE, LANGUAGE_COOKIE_AGE, LANGUAGES
from coopreg.core.security import safe_next
from coopreg.core.tenancy import get_scoped_or_404
from coopreg.core.text import ascii_digits
from coopreg.core.unit_of_work import attempt, button_post

bp = Blueprint("auth", __name__)


LAST_COOPERATIVE_COOKIE = "coopreg_cooperative"


def _reopen_last_cooperative(user) -> None:
    """The cooperative this browser last chose, when the person still holds a role there: who
    works for several cooperatives is not asked at every login (the cookie holds an id only,
    and the role is checked again on every request)."""
    remembered = request.cookies.get(LAST_COOPERATIVE_COOKIE, "")
    if ascii_digits(remembered) and user.role_in(int(remembered)) is not None:
        session["cooperative_id"] = int(remembered)


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.index"))
    form = LoginForm()
    if form.validate_on_submit():
        # the try is taken before the password is checked (login_limits.py)
        login_try = login_limits.take_try(form.email.data)
        if not login_try.allowed:
            abort(429)
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append(_("Wrong email or password."))
        else:
            login_try.succeeded()
            next_url = safe_next(request.args.get("next"))
            session.clear()  # a fresh session at login: no fixation
            login_user(user)
            session.permanent = True
            session["login_at"] = time.time()
            _reopen_last_cooperative(user)
            set_actor(user.id, user.email)
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
        return render_template("auth/login.html", form=LoginForm(), language_form=form), 422
    target = safe_next(request.args.get("next")) or url_for("auth.login")
    response = redirect(target)
    response.set_cookie(LANGUAGE_COOKIE, form.language.data, max_age=LANGUAGE_COOKIE_AGE,
                        secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
                        httponly=True, samesite="Lax")
    return response


@bp.route("/logout", methods=["POST"])
@login_only
def logout():
    form = EmptyForm()
    used_field_mode = False
    if form.validate_on_submit():
        # the field mode kept members on this browser (docs/field-mode.md): wiped now
        used_field_mode = "field_secret" in session
        services.rotate_session_token(current_user)
        logout_user()
        session.clear()
        flash(_("You are logged out."), "info")
    response = redirect(url_for("auth.login"))
    if used_field_mode:
        response.headers["Clear-Site-Data"] = '"storage"'
    return response


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
        response = redirect(safe_next(request.args.get("next")) or url_for("core.index"))
        # remembered on this browser, so the next login opens it without asking again
        response.set_cookie(LAST_COOPERATIVE_COOKIE, str(form.cooperative_id.data),
                            max_age=180 * 24 * 3600, httponly=True, samesite="Lax",
                            secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
        return response
    return render_template("auth/choose_cooperative.html", form=form, memberships=memberships,
                           waiting=len(invitations.open_invitations_for(current_user)))


@bp.route("/account/language", methods=["POST"])
@login_only
def set_language():
    form = LanguageForm()
    if form.validate_on_submit():
        with attempt() as outcome:
            services.set_language(current_user, form.locale.data)
        if outcome.ok:
            refresh()  # this request's texts were already chosen in the old language
            flash(_("Language saved."), "success")
    back = safe_next(request.form.get("next"))
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
            with attempt(form) as outcome:
                services.set_password(current_user, form.password.data)
            if outcome.ok:
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
    return render_template("auth/account.html", form=form, language_form=language_form,
                           waiting=len(invitations.open_invitations_for(current_user)))


@bp.route("/account/tokens", methods=["GET", "POST"])
@roles_required(*ALL_ROLES)
def api_tokens():
    """The person's API tokens in the current cooperative; a new one's secret is shown once,
    on the page that answers its creation (never stored, never shown again)."""
    form = ApiTokenForm()
    secret = None
    code = 200
    if form.validate_on_submit():
        with attempt(form) as outcome:
            _token, secret = tokens.create_token(current_user, g.cooperative, form.name.data,
                                                 form.scope.data, form.days.data)
        code = 201 if outcome.ok else 422
        if outcome.ok:
            form = ApiTokenForm(formdata=None)
    elif request.method == "POST":
        code = 422
    response = make_response(render_template(
        "auth/api_tokens.html", form=form, secret=secret, empty_form=EmptyForm(),
        tokens=tokens.tokens_of(current_user.id, g.cooperative.id)), code)
    response.headers["Cache-Control"] = "no-store"
    return response


def _own_token(token_id: int) -> tokens.ApiToken:
    token = get_scoped_or_404(tokens.ApiToken, token_id)
    if token.user_id != current_user.id:
        abort(404)
    return token


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@roles_required(*ALL_ROLES)
@confirm_first(_own_token, _l("The token stops working at once: every script that uses it is "
                              "refused from its next request."), action=_l("Revoke the token"))
def revoke_api_token(token_id: int):
    tokens.revoke_token(_own_token(token_id))
    flash(_("The token is revoked."), "success")
    return redirect(url_for("auth.api_tokens"))


@bp.route("/invitations")
@login_only
def list_invitations():
    """The invitations waiting for the logged-in person, from any cooperative."""
    return render_template("auth/invitations.html",
                           invitations=invitations.open_invitations_for(current_user),
                           empty_form=EmptyForm(), role_labels=ROLE_LABELS)


def _own_invitation_or_404(invitation_id: int):
    invitation = invitations.invitation_for(current_user, invitation_id)
    if invitation is None:
        abort(404)
    return invitation


@bp.route("/invitations/<int:invitation_id>/accept", methods=["POST"])
@login_only
def accept_invitation(invitation_id: int):
    invitation = _own_invitation_or_404(invitation_id)

    def accept():
        invitations.accept(invitation, current_user)
        session["cooperative_id"] = invitation.cooperative_id

    return button_post(EmptyForm(), accept, back=url_for("auth.list_invitations"),
                       done=_("Invitation accepted: you now work here."),
                       then=lambda _result: url_for("core.index"))


@bp.route("/invitations/<int:invitation_id>/decline", methods=["POST"])
@login_only
def decline_invitation(invitation_id: int):
    invitation = _own_invitation_or_404(invitation_id)
    return button_post(EmptyForm(), lambda: invitations.decline(invitation, current_user),
                       back=url_for("auth.list_invitations"),
                       done=_("Invitation declined."), category="info")


@bp.route("/invitations/join/<token>", methods=["GET", "POST"])
@public
def join(token: str):
    """An invitation's link. A newcomer makes their account here; someone with an account
    logs in (the answer to the form is the same either way: invitations.join)."""
    invitation = invitations.by_token(token)
    if invitation is None:
        abort(404)
    if current_user.is_authenticated:
        if invitation.email != current_user.email.lower():
            abort(404)
        return redirect(url_for("auth.list_invitations"))
    form = JoinForm(name=invitation.name)
    if form.validate_on_submit():
        set_actor(None, invitation.email)
        with attempt(form) as outcome:
            invitations.join(invitation, form.name.data, form.password.data)
        if outcome.ok:
            email = invitation.email
            flash(_("Log in as %(email)s to continue. A new account was made with the "
                    "password you chose; if the email already had an account, use its own "
                    "password and the invitation will be waiting.", email=email), "info")
            return redirect(url_for("auth.login", next=url_for("auth.list_invitations")))
    return render_template("auth/join.html", form=form, invitation=invitation,
                           role_labels=ROLE_LABELS), 200 if request.method == "GET" else 422
