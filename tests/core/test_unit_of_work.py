"""One commit per unit of work, in one place (core/unit_of_work): the request commits a write
that succeeded and rolls back everything else; a broken rule undoes only the call that broke
it; no view commits or rolls back by itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from flask import redirect
from sqlalchemy import select

from coopreg.cooperatives.models import DocumentType
from coopreg.core.errors import DomainError
from coopreg.core.unit_of_work import attempt
from coopreg.extensions import db
from tests.conftest import login

PACKAGE = Path(__file__).resolve().parents[2] / "coopreg"


def _names(app, coop) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(select(DocumentType.name).where(
            DocumentType.cooperative_id == coop.id)))


def _replace_view(app, monkeypatch, endpoint, coop, answer):
    """Put in place of `endpoint` a view that writes a row, then answers `answer()`; it keeps
    the access rule the endpoint declares."""
    original = app.view_functions[endpoint]

    def view(**_values):
        db.session.add(DocumentType(cooperative_id=coop.id, name="Written by the view",
                                    position=99))
        db.session.flush()
        return answer()
    view.__dict__.update(original.__dict__)
    monkeypatch.setitem(app.view_functions, endpoint, view)


@pytest.mark.parametrize("answer, kept", [
    (lambda: redirect("/"), True),
    (lambda: ("done", 200), True),
    (lambda: ("refused", 422), False),
    (lambda: ("not yours", 404), False),
])
def test_a_writing_request_is_committed_only_when_it_succeeds(
        app, client, coop, make_user, monkeypatch, answer, kept):
    _uid, email = make_user(coop, "admin")
    login(client, email, cooperative=coop)
    _replace_view(app, monkeypatch, "auth.logout", coop, answer)
    client.post("/logout")
    assert ("Written by the view" in _names(app, coop)) is kept


def test_a_view_that_fails_half_way_saves_nothing(app, client, coop, make_user, monkeypatch):
    _uid, email = make_user(coop, "admin")
    login(client, email, cooperative=coop)

    def broken():
        raise RuntimeError("after the write")
    _replace_view(app, monkeypatch, "auth.logout", coop, broken)
    app.testing = False  # answer with the error page, as in production
    try:
        assert client.post("/logout").status_code == 500
    finally:
        app.testing = True
    assert "Written by the view" not in _names(app, coop)


def test_a_reading_request_never_commits(app, client, coop, make_user, monkeypatch):
    _uid, email = make_user(coop, "admin")
    login(client, email, cooperative=coop)
    _replace_view(app, monkeypatch, "core.index", coop, lambda: ("a page", 200))
    assert client.get("/").status_code == 200
    assert "Written by the view" not in _names(app, coop)


def test_a_broken_rule_undoes_only_the_call_that_broke_it(ctx, coop):
    db.session.add(DocumentType(cooperative_id=coop.id, name="Before", position=97))
    with attempt(report=False) as outcome:
        db.session.add(DocumentType(cooperative_id=coop.id, name="Inside", position=98))
        db.session.flush()
        raise DomainError("No.", field="name")
    assert not outcome.ok and outcome.error.message == "No."
    names = set(db.session.scalars(select(DocumentType.name).where(
        DocumentType.cooperative_id == coop.id)))
    assert "Before" in names and "Inside" not in names


def test_other_errors_rise_through_an_attempt(ctx):
    with pytest.raises(ZeroDivisionError), attempt():
        1 / 0  # noqa: B018


def _calls(path: Path, names: set[str]) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in names):
            found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} "
                         f"{ast.unparse(node.func)}()")
    return found


def test_no_view_and_no_service_commits_or_rolls_back_by_itself():
    """Views leave the commit to the request; services to whoever called them (a step that
    must be on record early goes through `checkpoint`)."""
    places = [p for p in PACKAGE.rglob("*.py")
              if p.name in ("views.py", "services.py", "home.py", "acks.py", "jobs.py")
              and p.parent.name != "jobs"]  # the jobs area's runner is a unit of its own
    assert [call for path in places for call in _calls(path, {"commit", "rollback"})] == []
