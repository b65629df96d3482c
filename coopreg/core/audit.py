"""The append-only audit log, written in one place: a session hook.

Every flush that creates, changes or deletes an audited row (models with `__audited__ = True`)
writes one `AuditEvent` per row with who (the acting user, from `acting_as`), when (UTC), which
record, and the fields before and after. Services do not have to remember to log anything.
Audit events themselves can never be updated or deleted: the ORM refuses it here, and the
database refuses it with triggers (see the initial migration).
"""

from __future__ import annotations

import contextvars
import enum
import json
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from json.encoder import encode_basestring_ascii as _quote
from typing import Any

from flask import g, has_app_context
from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, event, insert, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column

from coopreg.core.bulk import JSONText, insert_rows
from coopreg.core.models import utcnow
from coopreg.extensions import db

_actor: contextvars.ContextVar[tuple[int | None, str] | None] = contextvars.ContextVar(
    "coopreg_actor", default=None
)


class AuditEvent(db.Model):
    """One change to one record. Append-only: never updated, never deleted."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(String(254))
    cooperative_id: Mapped[int | None] = mapped_column(Integer, index=True)
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))  # create, update, delete
    changes: Mapped[dict] = mapped_column(JSON)

    __table_args__ = (Index("ix_audit_events_entity", "entity", "entity_id"),)

    def __repr__(self) -> str:
        return f"<AuditEvent {self.action} {self.entity}#{self.entity_id} by {self.actor_label}>"


@contextmanager
def acting_as(user_id: int | None, label: str):
    """Attribute the changes made inside this block to a person (or the CLI, or a job)."""
    token = _actor.set((user_id, label))
    try:
        yield
    finally:
        _actor.reset(token)


def set_actor(user_id: int | None, label: str) -> None:
    """For a request: kept on `g`, so it ends with the request (threads of a server are
    reused, and a context variable would leak into the next request)."""
    g.audit_actor = (user_id, label)


def _current_actor() -> tuple[int | None, str]:
    if has_app_context() and "audit_actor" in g:
        return g.audit_actor
    return _actor.get() or (None, "system")


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dict):  # a JSON column (a kept sentence's values, totals): as JSON
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)


def _columns(obj: Any) -> list[str]:
    exclude = set(getattr(obj, "__audit_exclude__", ())) | {"created_at", "updated_at"}
    return [attr.key for attr in inspect(obj).mapper.column_attrs if attr.key not in exclude]


def _snapshot(obj: Any) -> dict[str, Any]:
    return {key: _plain(getattr(obj, key)) for key in _columns(obj)}


def _diff(obj: Any) -> dict[str, Any]:
    state = inspect(obj)
    changes: dict[str, Any] = {}
    for key in _columns(obj):
        history = state.attrs[key].history
        if history.has_changes():
            before = history.deleted[0] if history.deleted else None
            after = history.added[0] if history.added else None
            if _plain(before) != _plain(after):
                changes[key] = {"before": _plain(before), "after": _plain(after)}
    return changes


def _cooperative_of(obj: Any) -> int | None:
    if obj.__tablename__ == "cooperatives":
        return obj.id
    return getattr(obj, "cooperative_id", None)


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, flush_context, instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent):
            raise RuntimeError("audit events are append-only")


@event.listens_for(Session, "after_flush")
def _write_audit_events(session: Session, flush_context) -> None:
    actor_id, actor_label = _current_actor()
    now = utcnow()
    rows = []
    for action, objects in (("create", session.new), ("update", session.dirty),
                            ("delete", session.deleted)):
        for obj in objects:
            if not getattr(obj, "__audited__", False):
                continue
            if action == "create":
                changes = {k: {"before": None, "after": v} for k, v in _snapshot(obj).items()}
            elif action == "update":
                changes = _diff(obj)
                if not changes:
                    continue
            else:
                changes = {k: {"before": v, "after": None} for k, v in _snapshot(obj).items()}
            rows.append({
                "occurred_at": now,
                "actor_id": actor_id,
                "actor_label": actor_label,
                "cooperative_id": _cooperative_of(obj),
                "entity": obj.__tablename__,
                "entity_id": obj.id,
                "action": action,
                "changes": changes,
            })
    if rows:
        session.connection().execute(insert(AuditEvent.__table__), rows)


def _created_json(prefixes: list[str], values) -> JSONText:
    """The "create" changes of one row, {"field": {"before": null, "after": value}, …}, as the
    JSON text `json.dumps` gives, written directly: a bulk import does this for every row,
    and building the nested dicts to encode them costs four times as much."""
    parts = []
    for prefix, value in zip(prefixes, values, strict=True):
        if value is None:
            text = "null"
        elif type(value) is str:
            text = _quote(value)
        elif value is True:
            text = "true"
        elif value is False:
            text = "false"
        elif type(value) is int:
            text = str(value)
        elif isinstance(value, enum.Enum) and type(value.value) is str:
            text = _quote(value.value)
        elif type(value) is date:
            text = f'"{value.isoformat()}"'
        else:
            text = json.dumps(_plain(value))
        parts.append(prefix + text + "}")
    return JSONText("{" + ", ".join(parts) + "}")


def record_bulk(model: type, action: str, rows: list[dict[str, Any]]) -> int:
    """Write the audit events for rows changed by a Core statement (a bulk insert), which the
    flush hook above never sees; same shape as the hook's. For "create" and "delete", each
    row holds the record's column values (with its `id`); for "update", `id`,
    `cooperative_id` and `changes` ({field: {"before": ..., "after": ...}}).
    Returns the number of events written."""
    if action not in ("create", "update", "delete"):
        raise ValueError(f"unknown audit action {action!r}")
    exclude = set(getattr(model, "__audit_exclude__", ())) | {"created_at", "updated_at"}
    columns = [attr.key for attr in inspect(model).column_attrs if attr.key not in exclude]
    actor_id, actor_label = _current_actor()
    now = utcnow()
    prefixes = [f'{_quote(key)}: {{"before": null, "after": ' for key in columns]
    events = []
    for row in rows:
        if action == "update":
            changes = row["changes"]
            if not changes:
                continue
        elif action == "create":
            changes = _created_json(prefixes, map(row.get, columns))
        else:
            changes = {key: {"before": _plain(row.get(key)), "after": None} for key in columns}
        events.append({
            "occurred_at": now,
            "actor_id": actor_id,
            "actor_label": actor_label,
            "cooperative_id": row.get("cooperative_id"),
            "entity": model.__tablename__,
            "entity_id": row["id"],
            "action": action,
            "changes": changes,
        })
    if events:
        insert_rows(AuditEvent.__table__, events)
    return len(events)
