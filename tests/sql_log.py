"""What SQL the code under test runs: for tests that count statements or their parameters
(a page that must not read the whole register, a query that must not grow with a list)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event

from coopreg.extensions import db


@dataclass
class Ran:
    sql: str
    parameters: Any
    executemany: bool


@contextmanager
def statements_run(engine=None) -> Iterator[list[Ran]]:
    """The statements run on `engine` (the app's by default; in an app context) inside the
    block, in order."""
    engine = engine if engine is not None else db.engine
    ran: list[Ran] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        ran.append(Ran(statement, parameters, executemany))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield ran
    finally:
        event.remove(engine, "before_cursor_execute", seen)
