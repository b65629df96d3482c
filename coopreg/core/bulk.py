"""Many rows into one table inside the session's transaction, faster than an ORM flush or
a Core executemany: PostgreSQL `COPY … FROM STDIN`; SQLite one `executemany` of the driver.
Values go through the columns' own bind processors (enums stored by value, JSON as text,
dates as SQLAlchemy stores them), so the rows read back exactly as through the ORM; a
`JSONText` (JSON the caller already encoded) is written as it is."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, Date, DateTime, Table, insert

from coopreg.extensions import db


class JSONText(str):
    """A JSON column's value already encoded (by a caller that writes many): stored as is."""


def insert_rows(table: Table, rows: list[dict[str, Any]],
                connection: Connection | None = None) -> None:
    """INSERT every row (all with the same keys) in the session's current transaction (or in
    `connection`'s: the benchmark's data loader writes outside any session).
    Columns left out get their scalar default, or the database's; a left-out column with a
    computed default makes it fall back to SQLAlchemy's executemany."""
    if not rows:
        return
    if connection is None:
        connection = db.session.connection()
    names = list(rows[0])
    fill: dict[str, Any] = {}
    for column in table.c:
        if column.name in names or column.default is None:
            continue
        if not column.default.is_scalar:
            connection.execute(insert(table), [
                {k: json.loads(v) if isinstance(v, JSONText) else v for k, v in row.items()}
                for row in rows])
            return
        fill[column.name] = column.default.arg
    dialect = connection.dialect
    keys = names + list(fill)
    processors = [table.c[key].type._cached_bind_processor(dialect) for key in keys]
    typed = [(i, p) for i, p in enumerate(processors) if p is not None]
    # dates repeat from row to row (one `now` for every row): each converted once
    memos = {i: {} for i, _p in typed if isinstance(table.c[keys[i]].type, Date | DateTime)}

    def values(row: dict[str, Any]) -> list[Any]:
        out = [row[name] for name in names]
        if fill:
            out.extend(fill.values())
        for index, processor in typed:
            value = out[index]
            memo = memos.get(index)
            if type(value) is JSONText:
                continue
            if memo is None:
                out[index] = processor(value)
            elif value in memo:
                out[index] = memo[value]
            else:
                out[index] = memo[value] = processor(value)
        return out

    quote = dialect.identifier_preparer.quote
    columns = ", ".join(quote(key) for key in keys)
    cursor = connection.connection.driver_connection.cursor()
    try:
        if dialect.name == "postgresql":
            with cursor.copy(f"COPY {quote(table.name)} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(values(row))
        else:
            marks = ", ".join("?" for _key in keys)
            cursor.executemany(f"INSERT INTO {quote(table.name)} ({columns}) VALUES ({marks})",
                               [values(row) for row in rows])
    finally:
        cursor.close()
