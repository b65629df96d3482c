"""Admin forms for the cooperative's settings."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from coopreg.core.forms import choices
from coopreg.core.languages import LANGUAGE_NAMES

LOCALE_CHOICES = list(LANGUAGE_NAMES.items())


class SettingsForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    locale = SelectField(_l("Language"), choices=choices(LOCALE_CHOICES))
    id_label = StringField(_l("Name of the local ID (countries without a built-in check)"),
                           validators=[Optional(), Length(max=60)])
    id_pattern = StringField(_l("Pattern of the local ID (regular expression, without "
                                "separators)"), validators=[Optional(), Length(max=200)])
    contact = StringField(_l("Contact for members"), validators=[Optional(), Length(max=300)],
                          description=_l("The office's address, phone and opening hours, "
                                         "printed on the documents members take home."))
    tax_number = StringField(_l("The cooperative's tax number"),
                             validators=[Optional(), Length(max=40)],
                             description=_l("Written in the header of the institutions' "
                                            "forms that ask for the employer's (RF-1: TIN)."))
    founded_on = DateField(_l("Founded on"), validators=[Optional()],
                           description=_l("Money dated before it is refused as a typing "
                                          "slip."))


class DocumentTypeForm(FlaskForm):
    name = StringField(_l("Document"), validators=[DataRequired(), Length(max=120)])
