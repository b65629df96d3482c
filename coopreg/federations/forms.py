"""The federation's forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length


class AddCooperativeForm(FlaskForm):
    cooperative = StringField(_l("Cooperative code"), validators=[DataRequired(), Length(max=20)])


class SharingForm(FlaskForm):
    shares_member_records = BooleanField(
        _l("Let the federation's people see our members by name (in its duplicate report)"))
