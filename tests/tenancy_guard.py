"""The suite-wide tenancy guard: every SELECT of a cooperative-owned table must be filtered by
cooperative_id, or be reached through a parent already loaded (a relationship or an expired
attribute), or say why it may span cooperatives (`coopreg.core.tenancy.unscoped` /
`cross_cooperative`). Anything else is how one cooperative's rows leak into another's pages
(issue 15, item 1: a collection sheet named another cooperative's member through an unscoped
`session.get`).

It listens to `do_orm_execute` on every ORM session (and to `before_execute` for the Core
SELECTs run on a raw connection) and records each offending statement with
the place in coopreg's code that ran it; the autouse fixture in conftest.py fails the test that
caused it. A test that checks the guard itself opts out with `@pytest.mark.tenancy_unguarded`.
"""

from __future__ import annotations

import traceback
from pathlib import Path

from sqlalchemy import Column, Table, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select, visitors
from sqlalchemy.sql.elements import BinaryExpression

from coopreg.core.tenancy import CROSS_COOPERATIVE, cross_cooperative_reason

PACKAGE = str(Path(__file__).resolve().parent.parent / "coopreg")
TESTS = str(Path(__file__).resolve().parent)

violations: list[str] = []
_listening = False
# A test's own checking query (`db.session.scalar(select(Receipt))` right in the test) is not
# the app's: only statements that pass through coopreg's code are judged.
exempt_tests = True


def _base_table(from_clause):
    """The table under an alias (aliased(Member), a subquery's own FROMs are visited apart)."""
    for _depth in range(5):
        if isinstance(from_clause, Table) or not hasattr(from_clause, "element"):
            break
        from_clause = from_clause.element
    return from_clause


def _owned(table) -> bool:
    return isinstance(table, Table) and "cooperative_id" in table.c


def _is_cooperative_column(element) -> bool:
    if not isinstance(element, Column) or element.name != "cooperative_id":
        return False
    table = getattr(element, "table", None)
    return table is not None and _owned(_base_table(table))


def unscoped_tables(statement) -> list[str]:
    """The cooperative-owned tables a statement reads when no criterion anywhere in it compares
    a cooperative_id (empty: the statement is scoped, or reads no cooperative data)."""
    tables: set[str] = set()
    filtered = False
    for element in visitors.iterate(statement):
        if isinstance(element, BinaryExpression):
            if _is_cooperative_column(element.left) or _is_cooperative_column(element.right):
                filtered = True
        elif _owned(_base_table(element)):
            tables.add(_base_table(element).name)
        elif isinstance(element, Column) and _is_cooperative_column(element) is False:
            table = getattr(element, "table", None)
            if table is not None and _owned(_base_table(table)):
                tables.add(_base_table(table).name)
    return [] if filtered else sorted(tables)


def _where() -> str:
    frames = [f for f in traceback.extract_stack()
              if f.filename.startswith(PACKAGE) or (f.filename.startswith(TESTS)
                                                     and not f.filename.endswith(
                                                         ("tenancy_guard.py", "conftest.py")))]
    return " <- ".join(f"{Path(f.filename).relative_to(Path(PACKAGE).parent)}:{f.lineno}"
                       for f in reversed(frames[-4:]))


def _from_tests_only() -> bool:
    """A test's own assertion query (no coopreg frame between the test and the session)."""
    for frame in reversed(traceback.extract_stack()):
        if frame.filename.startswith(PACKAGE):
            return False
        if frame.filename.startswith(TESTS) and not frame.filename.endswith(
                ("tenancy_guard.py", "conftest.py")):
            return True
    return False


def _check(state) -> None:
    if not state.is_select or state.is_relationship_load or state.is_column_load:
        return
    if state.execution_options.get(CROSS_COOPERATIVE) or cross_cooperative_reason():
        return
    tables = unscoped_tables(state.statement)
    if tables and not (exempt_tests and _from_tests_only()):
        violations.append(f"unscoped SELECT of {', '.join(tables)} at {_where()}")


def _check_core(conn, clauseelement, multiparams, params, execution_options) -> None:
    """Core SELECTs run on the session's raw connection (`session.connection().execute`)
    never reach `do_orm_execute`: judged here. ORM statements (and their lazy loads) are
    left to `_check`."""
    if not isinstance(clauseelement, Select):
        return
    if clauseelement._propagate_attrs.get("compile_state_plugin") == "orm":
        return
    options = {**conn.get_execution_options(), **clauseelement.get_execution_options(),
               **(execution_options or {})}
    if options.get(CROSS_COOPERATIVE) or cross_cooperative_reason():
        return
    tables = unscoped_tables(clauseelement)
    if tables and not (exempt_tests and _from_tests_only()):
        violations.append(f"unscoped SELECT of {', '.join(tables)} at {_where()}")


def install() -> None:
    global _listening
    if not _listening:
        event.listen(Session, "do_orm_execute", _check)
        event.listen(Engine, "before_execute", _check_core)
        _listening = True


def take() -> list[str]:
    found = list(dict.fromkeys(violations))
    violations.clear()
    return found
