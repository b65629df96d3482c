"""One checker for every status change: a lifecycle is an enum's table of allowed moves, and
every change of status, one record at a time or a set at once, goes through it."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from coopreg.core.errors import DomainError

E = TypeVar("E", bound=enum.Enum)


class Lifecycle(Generic[E]):
    """The allowed moves of one status enum. `refusal(current, target)` says, in the reader's
    language, why a move is refused (each area words it for its records)."""

    def __init__(self, table: Mapping[E, frozenset[E]],
                 refusal: Callable[[E, E], str]):
        missing = {status for status in next(iter(table)).__class__} - set(table)
        if missing:
            raise ValueError(f"a lifecycle lists every status; missing {sorted(missing)}")
        self.table = table
        self.refusal = refusal

    def can(self, current: E, target: E) -> bool:
        return target in self.table[current]

    def allowed(self, current: E) -> list[E]:
        """The statuses `current` may move to, in the enum's order."""
        return [status for status in type(current) if status in self.table[current]]

    def sources(self, target: E) -> frozenset[E]:
        """The statuses that may move to `target`: what a set-based change filters on."""
        return frozenset(status for status, targets in self.table.items() if target in targets)

    def check(self, current: E, target: E, field: str | None = None) -> None:
        if not self.can(current, target):
            raise DomainError(self.refusal(current, target), field=field)

    def move(self, record: Any, target: E, field: str | None = None,
             attribute: str = "status") -> E:
        """Check the move and make it; returns the status the record had."""
        current = getattr(record, attribute)
        self.check(current, target, field)
        setattr(record, attribute, target)
        return current
