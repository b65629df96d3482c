"""Sortable lists: `?sort=<key>&dir=asc|desc`, chosen from a whitelist per list and applied in
SQL, never in Python.

A list declares its `Sorts`: the keys people may sort by (each a column, preferably the
leading column of an index after cooperative_id, and NOT NULL: a row-value comparison with a
NULL loses rows), the default key and direction, and the tie-break (the table's id), which
makes the order total and so the pages stable. An unknown key or direction is ignored: the
default applies, never an error.

Paging by keyset works whatever the order: the cursor is the id of the last row shown; the
next page starts after that row's (sort value, id), read again from the same scoped
statement, so a cursor from another cooperative or a deleted row finds nothing and the list
starts over."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import request, url_for
from sqlalchemy import Select, func, literal, select, tuple_

from coopreg.core.text import ascii_int
from coopreg.extensions import db


@dataclass(frozen=True)
class Sorted:
    """The order a list is shown in: the key and the direction chosen."""

    key: str
    descending: bool
    descending_first: frozenset = frozenset()

    @property
    def dir(self) -> str:
        return "desc" if self.descending else "asc"


class Sorts:
    """One list's whitelist of sort keys. `keys` maps each key to its column (or SQL
    expression); `descending_first` names the keys whose natural first direction is
    descending (dates: the newest first)."""

    def __init__(self, keys: Mapping[str, Any], default: str, tiebreak,
                 default_descending: bool = False, descending_first: tuple[str, ...] = ()):
        assert default in keys
        self.keys = dict(keys)
        self.descending_first = frozenset(descending_first)
        self.default = Sorted(default, default_descending, self.descending_first)
        self.tiebreak = tiebreak

    def read(self, args: Mapping[str, str]) -> Sorted:
        """The order asked for in the query string; the default for what is not offered."""
        key = args.get("sort", "")
        if key not in self.keys:
            return self.default
        asked = args.get("dir", "")
        if asked in ("asc", "desc"):
            return Sorted(key, asked == "desc", self.descending_first)
        if key == self.default.key:
            return self.default
        return Sorted(key, key in self.descending_first, self.descending_first)

    def order_by(self, chosen: Sorted, columns: Mapping[str, Any] | None = None) -> tuple:
        """The ORDER BY clauses; `columns` gives the keys' expressions when they exist only in
        the query being built (a subquery's aggregates)."""
        column = (columns or self.keys)[chosen.key]
        if chosen.descending:
            return column.desc(), self.tiebreak.desc()
        return column.asc(), self.tiebreak.asc()

    def apply(self, stmt: Select, chosen: Sorted) -> Select:
        """The statement in the chosen order, the tie-break last."""
        return stmt.order_by(*self.order_by(chosen))

    def page(self, stmt: Select, chosen: Sorted, after: str | None, per_page: int,
             cursor_of=None):
        """One page of `stmt` (already scoped and filtered) in the chosen order, starting after
        the row whose id is `after`; returns (rows, the next page's cursor or None). A
        statement of one entity gives entities; of several, rows, whose cursor `cursor_of`
        reads (the tie-break's value; by default the row's attribute of that name)."""
        column = self.keys[chosen.key]
        cursor = ascii_int(after or "")
        if cursor is not None:
            found = db.session.execute(stmt.with_only_columns(column, self.tiebreak)
                                       .where(self.tiebreak == cursor).limit(1)).first()
            if found is not None:
                key = tuple_(column, self.tiebreak)
                mark = tuple_(literal(found[0], column.type),
                              literal(found[1], self.tiebreak.type))
                stmt = stmt.where(key < mark if chosen.descending else key > mark)
        rows = db.session.execute(self.apply(stmt, chosen).limit(per_page + 1)).all()
        rows = [row[0] if len(row) == 1 else row for row in rows]
        more = len(rows) > per_page
        rows = rows[:per_page]
        next_cursor = None
        if more and rows:
            last = rows[-1]
            next_cursor = str(cursor_of(last) if cursor_of else getattr(last, self.tiebreak.key))
        return rows, next_cursor


def count_rows(stmt: Select) -> int:
    """How many rows `stmt` (scoped and filtered) selects, every page: the list's total, counted
    in SQL."""
    return db.session.scalar(select(func.count()).select_from(
        stmt.order_by(None).limit(None).subquery())) or 0


def sort_url(chosen: Sorted, key: str) -> str:
    """The link of a column's heading: this page with every other query parameter kept, sorted
    by `key` (the other direction when it is the key in use), from the first page."""
    args = {k: v for k, v in request.args.items(multi=False)
            if k not in ("sort", "dir", "after", "before", "page")}
    if chosen.key == key:
        direction = "asc" if chosen.descending else "desc"
    else:
        direction = "desc" if key in chosen.descending_first else "asc"
    args.update(request.view_args or {}, sort=key, dir=direction)
    return url_for(request.endpoint, **args)


def page_url(**changes) -> str:
    """This page with its query parameters kept and some changed (the pager's links)."""
    args = {k: v for k, v in request.args.items(multi=False)
            if k not in ("after", "before")}
    args.update({k: v for k, v in changes.items() if v is not None})
    args.update(request.view_args or {})
    return url_for(request.endpoint, **args)
