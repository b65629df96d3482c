"""Gap-free numbers per cooperative (receipt numbers, batch numbers…).

A number is taken from a counter row locked until the end of the transaction (PostgreSQL
`SELECT … FOR UPDATE`; SQLite serialises writers with `BEGIN IMMEDIATE`). The counter and the
row that uses the number commit together, so a rolled-back transaction gives its number back:
numbers never repeat and never skip, however many writers run at once.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, mapped_column

from coopreg.extensions import db


class NumberSequence(db.Model):
    """The last number handed out for one kind of document in one cooperative."""

    __tablename__ = "number_sequences"

    cooperative_id: Mapped[int] = mapped_column(ForeignKey("cooperatives.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, default=0)

    def __repr__(self) -> str:
        return (f"<NumberSequence {self.name} of cooperative {self.cooperative_id}: "
                f"{self.last_value}>")


def next_number(cooperative_id: int, name: str) -> int:
    """The next number of the sequence; the caller's transaction holds the counter's lock
    until it commits or rolls back."""
    session = db.session
    dialect = session.get_bind().dialect.name
    table = NumberSequence.__table__
    values = {"cooperative_id": cooperative_id, "name": name, "last_value": 0}
    if dialect == "postgresql":
        session.execute(pg_insert(table).values(values).on_conflict_do_nothing())
    else:
        session.execute(sqlite_insert(table).values(values).on_conflict_do_nothing())
    sequence = session.execute(
        select(NumberSequence).where(NumberSequence.cooperative_id == cooperative_id,
                                     NumberSequence.name == name)
        .with_for_update().execution_options(populate_existing=True)).scalar_one()
    sequence.last_value += 1
    session.flush()
    return sequence.last_value
