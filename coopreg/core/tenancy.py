"""Tenancy in one place: every query of cooperative data is scoped here.

The current cooperative is chosen per session among those where the user holds a role, and is
re-checked on every request (see `coopreg.auth.access`). Views and services ask this module for
rows; an id that belongs to another cooperative answers 404, the same as one that does not exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from flask import abort, g
from sqlalchemy import Select, select

from coopreg.extensions import db

if TYPE_CHECKING:
    from coopreg.cooperatives.models import Cooperative

T = TypeVar("T")


def current_cooperative() -> Cooperative:
    cooperative = getattr(g, "cooperative", None)
    if cooperative is None:
        abort(404)
    return cooperative


def current_role() -> str | None:
    return getattr(g, "role", None)


def scoped(model: type[T], cooperative_id: int | None = None) -> Select[tuple[T]]:
    """`SELECT model` limited to one cooperative (the current one unless given)."""
    if cooperative_id is None:
        cooperative_id = current_cooperative().id
    return select(model).where(model.cooperative_id == cooperative_id)  # type: ignore[attr-defined]


def db_id(value: Any) -> int:
    """An id as typed in an address or a form: a positive integer the databases can hold
    (raises ValueError otherwise, which `request.args.get(..., type=db_id)` turns into None)."""
    number = int(value)
    if not 0 < number < 2**63:
        raise ValueError("not an id")
    return number


def get_scoped_or_404(model: type[T], object_id: Any, cooperative_id: int | None = None) -> T:
    """The row with this id in the current cooperative, or 404 (never another's)."""
    try:
        object_id = int(object_id)
    except (TypeError, ValueError):
        abort(404)
    if not 0 < object_id < 2**63:  # beyond any id, and beyond what the databases can compare
        abort(404)
    row = db.session.scalar(
        scoped(model, cooperative_id).where(model.id == object_id)  # type: ignore[attr-defined]
    )
    if row is None:
        abort(404)
    return row
