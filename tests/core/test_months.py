"""Months picked (<input type="month"> sends "2025-03") or typed the way people write them."""

from __future__ import annotations

from coopreg.core.forms import MonthField
from coopreg.core.text import read_month


def test_a_month_is_read_as_picked_or_typed():
    for text in ("2025-03", "2025-3", " 2025/03 ", "03/2025", "3-2025", "2025.03"):
        assert read_month(text) == (2025, 3), text
    for text in ("", None, "2025-13", "13/2025", "March", "25-03", "0999-01"):
        assert read_month(text) is None, text


def test_month_fields_are_month_pickers(app):
    from flask_wtf import FlaskForm

    class Form(FlaskForm):
        period = MonthField("Period")

    with app.test_request_context():
        html = str(Form(meta={"csrf": False}).period())
    assert 'type="month"' in html and 'placeholder="2025-03"' in html
