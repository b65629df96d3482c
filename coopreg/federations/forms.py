"""The federation's forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Length, Optional

from coopreg.agreements.forms import TermsFields
from coopreg.core.forms import choices
from coopreg.federations.models import FEDERATION_ROLE_LABELS, FederationRole


class AddCooperativeForm(FlaskForm):
    cooperative = StringField(_l("Cooperative code"), validators=[DataRequired(), Length(max=20)])


class SharingForm(FlaskForm):
    shares_member_records = BooleanField(
        _l("Let the federation's people see our members by name (in its duplicate report)"))


class DeskModeForm(FlaskForm):
    mode = SelectField(_l("How the batches reach the institution"), choices=choices([
        ("none", _l("By hand (the secretary sends the file)")),
        ("desk", _l("Through the institution's desk; the secretary applies its answers")),
        ("desk_applied", _l("Through the institution's desk; its answers are applied at once")),
    ]), default="none")


class CatalogueEditForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    country = StringField(_l("Country"), validators=[DataRequired(), Length(min=2, max=2)])


class DeskAccountForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    institution = StringField(_l("Institution code"), validators=[DataRequired(), Length(max=40)],
                              description=_l("Its short name in the cooperatives, e.g. CCSS."))
    password = PasswordField(_l("First password"), validators=[DataRequired(), Length(max=200)],
                             description=_l("Give it to the person, who changes it in their "
                                            "account."))


class TemplateForm(TermsFields):
    """An agreement template: its name, its institution (of the catalogue) and its terms."""

    name = StringField(_l("Template name"), validators=[DataRequired(), Length(max=120)])
    institution_id = SelectField(_l("Institution"), coerce=int, validators=[DataRequired()])


class AdoptTemplateForm(FlaskForm):
    reference = StringField(_l("Reference number"), validators=[DataRequired(), Length(max=60)])
    valid_from = DateField(_l("Valid from"), validators=[DataRequired()])


class FollowTemplateForm(FlaskForm):
    effective_from = DateField(_l("Takes effect from"), validators=[DataRequired()])


class FederationForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=20)],
                       description=_l("2 to 20 capitals, digits, '-' or '_', e.g. FEDCR."))
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])


class GrantRoleForm(FlaskForm):
    """A role in a federation for a person: an existing account by its email, or a new one
    (then with a name and a first password)."""

    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    role = SelectField(_l("Role"), choices=choices(
        [(role.value, FEDERATION_ROLE_LABELS[role]) for role in FederationRole]),
        validators=[DataRequired()])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)],
                       description=_l("Only for someone without an account yet."))
    password = PasswordField(_l("First password"), validators=[Optional(), Length(max=200)],
                             description=_l("Only for someone without an account yet; give "
                                            "it to the person, who changes it in their "
                                            "account."))


class PlatformDeskAccountForm(DeskAccountForm):
    federation_id = SelectField(_l("Within"), coerce=int, default=0)
