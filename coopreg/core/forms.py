"""Helpers shared by forms: carrying a service's DomainError back onto the form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms.fields import StringField
from wtforms.fields.choices import SelectChoice
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
