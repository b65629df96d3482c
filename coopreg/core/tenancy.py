"""Tenancy in one place: every query of cooperative data is scoped here.

The current cooperative is chosen per session among those where the user holds a role, and is
re-checked on every request (see `coopreg.auth.access`). Views and services ask this module for
rows; an id that belongs to another cooperative answers 404, the same as one that does not exist.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

from flask import abort, g
from sqlalchemy import Select, select

from coopreg.core.text import ascii_digits
from coopreg.extensions import db

if TYPE_CHECKING:
    from coopreg.cooperatives.models import Cooperative

T = TypeVar("T")

# The few reads that legitimately span cooperatives (the login reading a user's roles
# everywhere, the worker resolving a job's cooperative, the CLI naming a cooperative by its
# code, a row reached through a parent already scoped) say so, with the reason, either for one
# statement (`.execution_options(**unscoped("why"))`, `session.get(..., execution_options=
# unscoped("why"))`) or for a block (`with cross_cooperative("why"):`). The test suite fails on
# any other SELECT of a cooperative-owned table that is not filtered by cooperative_id.
CROSS_COOPERATIVE = "coopreg_cross_cooperative"
_cross_reason: ContextVar[str | None] = ContextVar("coopreg_cross_cooperative", default=None)


def unscoped(reason: str) -> dict[str, str]:
    """Execution options that mark one statement as a deliberate cross-cooperative read."""
    if not reason or not reason.strip():
        raise ValueError("say why this read spans cooperatives")
    return {CROSS_COOPERATIVE: reason}


@contextmanager
def cross_cooperative(reason: str) -> Iterator[None]:
    """Mark every read in the block as a deliberate cross-cooperative read (say why)."""
    if not reason or not reason.strip():
        raise ValueError("say why these reads span cooperatives")
    token = _cross_reason.set(reason)
    try:
        yield
    finally:
        _cross_reason.reset(token)


def cross_cooperative_reason() -> str | None:
    """Why the reads running now may span cooperatives (None: they must be scoped)."""
    return _cross_reason.get()


def current_cooperative() -> Cooperative:
    cooperative = getattr(g, "cooperative", None)
    if cooperative is None:
        abort(404)
    return cooperative


def current_role() -> str | None:
    return getattr(g, "role", None)


def masked_ids() -> bool:
    """Whether the current user sees national IDs masked (viewers): their searches then
    match an ID only whole (see `coopreg.members.services.search_condition`)."""
    return current_role() == "viewer"


def scoped(model: type[T], cooperative_id: int | None = None) -> Select[tuple[T]]:
    """`SELECT model` limited to one cooperative (the current one unless given)."""
    if cooperative_id is None:
        cooperative_id = current_cooperative().id
    return select(model).where(model.cooperative_id == cooperative_id)  # type: ignore[attr-defined]


def _as_id(value: Any) -> int | None:
    """An id given as an int or typed as ASCII digits ("²" or "١٢" are not ids), in range."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip() if value is not None else ""
        if not ascii_digits(text) or len(text) > 19:
            return None
        number = int(text)
    return number if 0 < number < 2**63 else None


def db_id(value: Any) -> int:
    """An id as typed in an address or a form: a positive integer the databases can hold
    (raises ValueError otherwise, which `request.args.get(..., type=db_id)` turns into None)."""
    number = _as_id(value)
    if number is None:
        raise ValueError("not an id")
    return number


def get_scoped(model: type[T], object_id: Any, cooperative_id: int) -> T | None:
    """The row with this id if it belongs to this cooperative, else None (never another's):
    what services use to load a row from an id they were handed."""
    object_id = _as_id(object_id)
    if object_id is None:
        return None
    return db.session.scalar(
        scoped(model, cooperative_id).where(model.id == object_id)  # type: ignore[attr-defined]
    )


def get_scoped_or_404(model: type[T], object_id: Any, cooperative_id: int | None = None) -> T:
    """The row with this id in the current cooperative, or 404 (never another's)."""
    object_id = _as_id(object_id)  # beyond any id, or beyond what the databases can compare
    if object_id is None:
        abort(404)
    row = db.session.scalar(
        scoped(model, cooperative_id).where(model.id == object_id)  # type: ignore[attr-defined]
    )
    if row is None:
        abort(404)
    return row
