"""Forms for logging in, choosing a cooperative and managing one's account."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length, NumberRange

from coopreg.auth.models import Role
from coopreg.auth.passwords import MAX_LENGTH, MIN_LENGTH
from coopreg.core.forms import choices
from coopreg.core.labels import labels_for
from coopreg.core.languages import LANGUAGE_NAMES


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=MAX_LENGTH)],
                             render_kw={"autocomplete": "current-password"})


class ChooseCooperativeForm(FlaskForm):
    cooperative_id = SelectField(_l("Cooperative"), coerce=int, validators=[DataRequired()])


LANGUAGE_CHOICES = [("", _l("The cooperative's language")), *LANGUAGE_NAMES.items()]


class LanguageForm(FlaskForm):
    locale = SelectField(_l("Language"), choices=choices(LANGUAGE_CHOICES))


class PageLanguageForm(FlaskForm):
    """The language of the pages before logging in (kept in a cookie)."""

    language = SelectField(_l("Language"), choices=choices(LANGUAGE_NAMES.items()))


def _new_password(label) -> PasswordField:
    """A password chosen here: the length rules, and the browser offers to make one."""
    return PasswordField(label, validators=[DataRequired(), Length(min=MIN_LENGTH,
                                                                   max=MAX_LENGTH)],
                         render_kw={"autocomplete": "new-password"})


def _repeated_password(label) -> PasswordField:
    return PasswordField(label, validators=[DataRequired(), EqualTo(
        "password", _l("The passwords differ."))])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()],
                                     render_kw={"autocomplete": "current-password"})
    password = _new_password(_l("New password"))
    confirm = _repeated_password(_l("Repeat the new password"))


ROLE_LABELS = labels_for(Role, {Role.ADMIN: _l("Admin"), Role.SECRETARY: _l("Secretary"),
                               Role.TREASURER: _l("Treasurer"), Role.VIEWER: _l("Viewer")})
ROLE_CHOICES = [(role.value, text) for role, text in ROLE_LABELS.items()]


class InviteForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    name = StringField(_l("Name"), validators=[Length(max=200)])
    role = SelectField(_l("Role"), choices=choices(ROLE_CHOICES), validators=[DataRequired()])


class JoinForm(FlaskForm):
    """A newcomer's own account, made through an invitation's link."""

    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=200)],
                       render_kw={"autocomplete": "name"})
    password = _new_password(_l("Choose a password"))
    confirm = _repeated_password(_l("Repeat the password"))


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=choices(ROLE_CHOICES), validators=[DataRequired()])


class EmptyForm(FlaskForm):
    """A form with only its CSRF token, for POST buttons (logout, remove, ...)."""


class ApiTokenForm(FlaskForm):
    name = StringField(_l("What the token is for"), validators=[DataRequired(), Length(max=100)],
                       description=_l("E.g. “the federation's dashboard”: shown in this list."))
    scope = SelectField(_l("It may"), default="read", choices=choices([
        ("read", _l("Read only")), ("write", _l("Read and write, as your role allows"))]))
    days = IntegerField(_l("Days until it stops working"), default=90,
                        validators=[InputRequired(), NumberRange(min=1, max=366)])
