"""One commit per unit of work, in one place: services add and flush, and the boundary that
called them commits once or rolls everything back.

- A request (`register`): a request that may write (POST, PUT, PATCH, DELETE) is committed
  once after its view returns a success (below 400) and rolled back otherwise; reading
  requests never commit, whatever their view touched. Views never commit or roll back.
- A broken rule inside a request (`attempt`): the service call runs in a savepoint; a
  `DomainError` undoes just that call and lands on the form (or in a flash), and the view
  answers with the form again.
- A step that must be committed before the request ends (`checkpoint`): a job handed to the
  worker must find its rows; a sealed file must be on record before its registrations move on.
- A CLI command (`unit_of_work`) and a background job (the jobs area) are their own units.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

import click
from flask import Flask, abort, flash, redirect, render_template, request

from coopreg.core.audit import acting_as
from coopreg.core.errors import DomainError
from coopreg.core.forms import put_error_on_form
from coopreg.extensions import db

WRITING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def register(app: Flask) -> None:
    @app.after_request
    def _end_unit_of_work(response):
        session = db.session()
        if not session.in_transaction():
            return response
        if request.method in WRITING_METHODS and response.status_code < 400:
            session.commit()
        else:
            session.rollback()
        return response

    @app.teardown_request
    def _roll_back_on_error(error):
        if error is not None:
            db.session.rollback()


class attempt:
    """`with attempt(form) as outcome: services.do(...)` — the call runs in a savepoint; on a
    broken rule the savepoint is undone, the message put on `form` (flashed as an error when
    there is no form; left to the view with `report=False`) and the error swallowed:
    `outcome.ok` is False and `outcome.error` holds it. Other errors rise, and the request
    rolls back. `expect` adds other answers a service gives by raising (a duplicate warning),
    which the view handles itself."""

    def __init__(self, form: Any = None, *, report: bool = True,
                 expect: tuple[type[Exception], ...] = ()):
        self.form = form
        self.report = report
        self.expect = expect
        self.error: Exception | None = None
        self._savepoint = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def __enter__(self) -> attempt:
        self._savepoint = db.session.begin_nested()
        return self

    def __exit__(self, kind, error, traceback) -> bool:
        savepoint, self._savepoint = self._savepoint, None
        if error is None:
            if savepoint.is_active:
                savepoint.commit()
            return False
        if savepoint.is_active:
            savepoint.rollback()
        if not isinstance(error, (DomainError, *self.expect)):
            return False
        self.error = error
        if not isinstance(error, DomainError):
            return True
        if self.report and self.form is not None:
            put_error_on_form(self.form, error)
        elif self.report:
            flash(error.message, "error")
        return True


def button_post(form: Any, call: Callable[[], Any], *, back: str,
                done: str | Callable[[Any], str], invalid: str | None = None,
                refused: Callable[[DomainError], Any] | None = None,
                then: Callable[[Any], str] | None = None, category: str = "success"):
    """The POST of a button or a small form that answers with a redirect: `form` is checked
    (when it fails, `invalid` is flashed and the user goes `back`; a button that carries only
    its CSRF token answers 400), `call()` runs in a savepoint (`attempt`), `done` is flashed
    (a callable gets what the call returned) and the user goes `back`, or to `then(result)`.
    A broken rule is flashed and the user goes `back`, unless `refused(error)` answers it."""
    if not form.validate_on_submit():
        if invalid is None:
            abort(400)
        flash(invalid, "error")
        return redirect(back)
    with attempt(report=refused is None) as outcome:
        result = call()
    if not outcome.ok:
        return refused(outcome.error) if refused is not None else redirect(back)
    flash(done(result) if callable(done) else done, category)
    return redirect(then(result) if then is not None else back)


def form_page(form: Any, call: Callable[[], Any], *, done: str | Callable[[Any], str] | None,
              then: str | Callable[[Any], str], template: str, **context):
    """A page with a form: on a valid post `call()` runs in a savepoint (`attempt`: a broken
    rule lands on the form), `done` is flashed (a callable gets what the call returned; None:
    the next page says it) and the user goes to `then` (likewise); otherwise the page shows
    the form, answering 422 after a refused post."""
    if form.validate_on_submit():
        with attempt(form) as outcome:
            result = call()
        if outcome.ok:
            if done is not None:
                flash(done(result) if callable(done) else done, "success")
            return redirect(then(result) if callable(then) else then)
    code = 422 if request.method == "POST" else 200
    return render_template(template, form=form, **context), code


def checkpoint() -> None:
    """Commit what the unit of work has done so far, for a step that needs it on record
    before the unit ends (a queued job the worker reads, a sealed file, a failed import's
    reason)."""
    db.session.commit()


def discard() -> None:
    """Undo what the unit of work has done so far (a step failed: what it wrote, and only
    that, is recorded next)."""
    db.session.rollback()


@contextmanager
def unit_of_work(label: str = "cli"):
    """A CLI command's unit of work: commit once at the end; on a broken rule, roll back and
    exit 1 with the reason; on any other error, roll back and let it rise."""
    try:
        with acting_as(None, label):
            yield
            db.session.commit()
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    except Exception:
        db.session.rollback()
        raise
