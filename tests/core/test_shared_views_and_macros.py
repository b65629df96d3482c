"""The pieces views and templates share (core/unit_of_work's form_page and button_post,
_form.html's form_for and filter_select, _table.html's table_rows): what they answer and
render, so that the pages written with them keep behaving as when each wrote its own."""

from __future__ import annotations

import pytest
from flask import get_flashed_messages, render_template_string
from flask_wtf import FlaskForm
from werkzeug.exceptions import BadRequest
from wtforms import StringField
from wtforms.validators import DataRequired

from coopreg.core.errors import DomainError
from coopreg.core.unit_of_work import button_post, form_page


class _NameForm(FlaskForm):
    class Meta:
        csrf = False

    name = StringField("Name", validators=[DataRequired()])


def _refuse():
    raise DomainError("Not this name.", field="name")


def test_form_page_shows_the_form_then_flashes_and_moves_on(app):
    with app.test_request_context("/", method="GET"):
        form = _NameForm()
        body, code = form_page(form, lambda: pytest.fail("a GET runs nothing"), done="Saved.",
                               then="/next", template="core/error.html", title="T",
                               message="M")
        assert code == 200 and "M" in body
    with app.test_request_context("/", method="POST", data={"name": "Ana"}):
        answer = form_page(_NameForm(), lambda: 7, done=lambda n: f"Saved {n}.",
                           then=lambda n: f"/next/{n}", template="core/error.html")
        assert answer.status_code == 302 and answer.location == "/next/7"
        assert get_flashed_messages(with_categories=True) == [("success", "Saved 7.")]


def test_form_page_puts_a_broken_rule_on_the_form_and_answers_422(app):
    with app.test_request_context("/", method="POST", data={"name": "Ana"}):
        form = _NameForm()
        _body, code = form_page(form, _refuse, done="Saved.", then="/next",
                                template="core/error.html", title="T", message="M")
        assert code == 422
        assert form.name.errors == ["Not this name."]
        assert get_flashed_messages() == []


def test_button_post_flashes_the_outcome_and_goes_back(app):
    with app.test_request_context("/", method="POST", data={"name": "Ana"}):
        answer = button_post(_NameForm(), lambda: None, back="/back", done="Done.")
        assert answer.location == "/back"
        assert get_flashed_messages(with_categories=True) == [("success", "Done.")]
    with app.test_request_context("/", method="POST", data={"name": "Ana"}):
        answer = button_post(_NameForm(), _refuse, back="/back", done="Done.")
        assert answer.location == "/back"
        assert get_flashed_messages(with_categories=True) == [("error", "Not this name.")]
    with app.test_request_context("/", method="POST", data={"name": "Ana"}):
        answer = button_post(_NameForm(), _refuse, back="/back", done="Done.",
                             refused=lambda error: f"handled: {error.message}")
        assert answer == "handled: Not this name."


def test_button_post_refuses_a_bad_form(app):
    with app.test_request_context("/", method="POST", data={}):
        answer = button_post(_NameForm(), lambda: pytest.fail("not run"), back="/back",
                             done="Done.", invalid="Give a name.")
        assert answer.location == "/back"
        assert get_flashed_messages(with_categories=True) == [("error", "Give a name.")]
    with app.test_request_context("/", method="POST", data={}), pytest.raises(BadRequest):
        button_post(_NameForm(), lambda: pytest.fail("not run"), back="/back", done="Done.")


def test_form_for_writes_errors_fields_submit_and_cancel(app):
    with app.test_request_context("/"):
        form = _NameForm()
        form.name.errors = ["Not this name."]
        html = render_template_string(
            '{% from "_form.html" import form_for, fields %}'
            '{% call form_for(form, "Save", cancel="/list", enctype="multipart/form-data") %}'
            "{{ fields(form.name) }}{% endcall %}", form=form)
    assert '<form method="post" enctype="multipart/form-data" novalidate>' in html
    assert 'id="name-error">Not this name.</span>' in html
    assert '<button type="submit">Save</button>' in html
    assert '<a href="/list">' in html


def test_filter_select_keeps_the_choice_and_offers_all(app):
    with app.test_request_context("/"):
        html = render_template_string(
            '{% from "_form.html" import filter_select %}'
            '{{ filter_select("sex", "Sex", ["female", "male"], "male", {"female": "F", '
            '"male": "M"}) }}')
    assert '<option value="">' in html
    assert '<option value="male" selected>M</option>' in html
    assert '<option value="female">F</option>' in html


def test_table_rows_writes_each_row_or_says_there_is_none(app):
    source = ('{% from "_table.html" import table_rows %}<table>'
              '{% call(n) table_rows(items, 3, "None.") %}<tr><td>{{ n }}</td></tr>{% endcall %}'
              "</table>")
    with app.test_request_context("/"):
        full = render_template_string(source, items=[1, 2])
        empty = render_template_string(source, items=[])
    assert full.count("<tr>") == 2 and "None." not in full
    assert '<tr><td colspan="3">None.</td></tr>' in empty
