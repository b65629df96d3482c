"""Helpers shared by forms: carrying a service's DomainError back onto the form, and the one
field every amount of money is typed in."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import TextInput

from coopreg.core.errors import DomainError


def put_error_on_form(form: FlaskForm, error: DomainError) -> None:
    """Show the error next to its field when the form has it, else at the top."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors"):
        if isinstance(field.errors, tuple):
            field.errors = list(field.errors)
        field.errors.append(error.message)
    else:
        form.form_errors.append(error.message)


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices (tuples are deprecated from WTForms 3.3)."""
    return [SelectChoice(value, label) for value, label in pairs]


class MoneyField(StringField):
    """An amount of money as the person types it: text, read by the services with
    `coopreg.core.money.parse_amount` in the cooperative's currency (the user's locale format,
    es "6.268.125,00", fr "6 268 125,00", en "6,268,125.00", or plain "6268125.00"; never a
    float). Every amount field of every form is one of these, so they all read alike."""

    def __init__(self, label=None, validators=None, required: bool = True, **kwargs):
        if validators is None:
            validators = [DataRequired() if required else Optional(), Length(max=30)]
        render_kw = {"inputmode": "decimal", "autocomplete": "off", "spellcheck": "false",
                     **(kwargs.pop("render_kw", None) or {})}
        kwargs.setdefault("description", AMOUNT_HINT)
        super().__init__(label, validators, render_kw=render_kw, **kwargs)


AMOUNT_HINT = _l("As you write it: 6.268.125,00, 6 268 125,00, 6,268,125.00 or 6268125.00.")


class MonthInput(TextInput):
    """<input type="month">: a month picker where the browser has one, a text box (the
    placeholder shows the form) where it has not."""

    input_type = "month"

    def __call__(self, field, **kwargs):
        kwargs.setdefault("placeholder", "2025-03")
        return super().__call__(field, **kwargs)


class MonthField(StringField):
    """A month typed or picked; the service reads the text (parse_month)."""

    widget = MonthInput()
