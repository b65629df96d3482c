"""Shared model pieces: UTC timestamps, the cooperative-owned row, the enum column type."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import ClassVar

from sqlalchemy import DateTime, Enum, ForeignKey
from sqlalchemy.orm import Mapped, declared_attr, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class TimestampMixin:
    """Every row knows when it was created and last changed, in UTC."""

    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class CooperativeOwned:
    """A row that belongs to exactly one cooperative: an integer `id` and its `cooperative_id`.

    Every query of such a table compares `cooperative_id` (core/tenancy; the tests' tenancy
    guard fails otherwise). The column has its own index unless the model says
    `cooperative_index = False` (a composite index or unique constraint that starts with
    `cooperative_id` already serves), and a foreign key to `cooperatives` unless it says
    `cooperative_foreign_key = False` (the dues table, written in bulk at a million rows)."""

    cooperative_index: ClassVar[bool] = True
    cooperative_foreign_key: ClassVar[bool] = True

    id: Mapped[int] = mapped_column(primary_key=True)

    @declared_attr
    def cooperative_id(cls) -> Mapped[int]:
        if not cls.cooperative_foreign_key:
            return mapped_column()
        return mapped_column(ForeignKey("cooperatives.id"), index=cls.cooperative_index or None)


def enum_column(cls: type[enum.Enum], length: int = 20) -> Enum:
    """Enums are stored as their value in a VARCHAR with a CHECK, the same on both databases."""
    return Enum(cls, native_enum=False, length=length, validate_strings=True,
                values_callable=lambda e: [m.value for m in e])
