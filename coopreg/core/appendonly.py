"""The database's own guards on money and history: triggers that refuse UPDATE and DELETE of
posted rows (receipts, allocations, dues, remittances, the audit log…) and any change to a
sealed batch or its lines. The migrations create them (0001, 0005, 0006, 0008, 0010, 0028); this
module is the list of what must exist, so that `coopreg check` can verify a running database and
`coopreg restore` can re-create them in a restored one and verify it (a backup whose
triggers were dropped must not leave money rows mutable). Keep it in step with the
migrations: tests/faults/test_backups.py compares it with a freshly migrated database.
"""

from __future__ import annotations

import re

from sqlalchemy import text
from sqlalchemy.engine import Connection

APPEND_ONLY_TABLES = ("audit_events", "dues", "collection_sheets", "receipts",
                      "receipt_reversals", "allocations", "remittances", "remittance_lines",
                      "remittance_acknowledgements", "period_closes", "statement_matches",
                      "due_write_offs", "due_payer_shares", "third_party_payments",
                      "third_party_payment_reversals")
SEALED_BATCH_COLUMNS = ("cooperative_id", "agreement_id", "kind", "number", "reference",
                        "period", "supersedes_id", "file_format", "layout_snapshot",
                        "file_path", "sha256", "data_checksum", "row_count", "totals",
                        "total_minor", "col_widths", "sealed_at", "sealed_by_id")


def sqlite_triggers() -> dict[str, str]:
    """name → CREATE TRIGGER statement, exactly as the migrations write them on SQLite."""
    triggers = {}
    for table in APPEND_ONLY_TABLES:
        for verb in ("UPDATE", "DELETE"):
            triggers[f"{table}_no_{verb.lower()}"] = (
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in SEALED_BATCH_COLUMNS)
    for verb, row in (("UPDATE", "OLD"), ("DELETE", "OLD"), ("INSERT", "NEW")):
        triggers[f"batch_lines_sealed_no_{verb.lower()}"] = (
            f"CREATE TRIGGER batch_lines_sealed_no_{verb.lower()} BEFORE {verb} ON batch_lines "
            f"WHEN (SELECT status FROM batches WHERE id = {row}.batch_id) != 'draft' "
            "BEGIN SELECT RAISE(ABORT, 'the lines of a sealed batch never change'); END")
    triggers["batches_sealed_no_update"] = (
        "CREATE TRIGGER batches_sealed_no_update BEFORE UPDATE ON batches "
        f"WHEN OLD.status != 'draft' AND ({changed} OR NEW.status = 'draft') "
        "BEGIN SELECT RAISE(ABORT, 'a sealed batch never changes'); END")
    triggers["batches_sealed_no_delete"] = (
        "CREATE TRIGGER batches_sealed_no_delete BEFORE DELETE ON batches "
        "WHEN OLD.status != 'draft' "
        "BEGIN SELECT RAISE(ABORT, 'a sealed batch is never deleted'); END")
    return triggers


def postgresql_triggers() -> dict[str, str]:
    """trigger name → the table it guards, on PostgreSQL."""
    triggers = {f"{table}_append_only": table for table in APPEND_ONLY_TABLES}
    triggers["batch_lines_sealed_guard"] = "batch_lines"
    triggers["batches_sealed_guard"] = "batches"
    return triggers


def _normal(sql: str | None) -> str:
    return re.sub(r"\s+", " ", sql or "").strip()


def problems(connection: Connection) -> list[str]:
    """The guards missing (or, on SQLite, not as the migrations made them), as names."""
    dialect = connection.dialect.name
    if dialect == "sqlite":
        found = dict(connection.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all())
        tables = set(connection.execute(text(
            "SELECT name FROM sqlite_master WHERE type = 'table'")).scalars())
        return [name for name, sql in sqlite_triggers().items()
                if _table_of(sql) in tables and _normal(found.get(name)) != _normal(sql)]
    if dialect == "postgresql":
        found = set(connection.execute(text(
            "SELECT t.tgname || ' ' || c.relname FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal "
            "AND t.tgenabled != 'D'")).scalars())
        return [name for name, table in postgresql_triggers().items()
                if f"{name} {table}" not in found]
    return []


def _table_of(sql: str) -> str:
    return re.search(r" ON (\w+) ", sql).group(1)


def recreate_sqlite(connection) -> list[str]:
    """Drop and create again, on a SQLite connection (sqlite3 or SQLAlchemy), every guard
    that is missing or differs from the migrations'; returns their names."""
    execute = getattr(connection, "exec_driver_sql", None) or connection.execute
    rows = execute("SELECT name, sql FROM sqlite_master WHERE type IN ('trigger', 'table')"
                   ).fetchall()
    found = {name: sql for name, sql in rows}
    remade = []
    for name, sql in sqlite_triggers().items():
        if _table_of(sql) not in found or _normal(found.get(name)) == _normal(sql):
            continue
        execute(f"DROP TRIGGER IF EXISTS {name}")
        execute(sql)
        remade.append(name)
    return remade
