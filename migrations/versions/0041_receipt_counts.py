"""receipt counts: each cooperative's number of receipts and of reversed receipts, kept by
triggers beside its running credit (credit_totals, migration 0040), so that the receipts page's
totals line (how many receipts, what members paid, how many were reversed) reads one row
instead of every receipt of the cooperative (issue 25)

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-05

"""
from alembic import op
import sqlalchemy as sa


revision = '0041'
down_revision = '0040'
branch_labels = None
depends_on = None

COUNTS = ("receipts", "reversed_receipts")
# (trigger, table, the counter it adds to, the cooperative of each new row, the new rows as
# PostgreSQL's transition table, the new row in SQLite's row trigger)
TRIGGERS = (("receipts_credit_counts", "receipts", "receipts", "n.cooperative_id",
             "new_rows n", "(SELECT NEW.cooperative_id AS cooperative_id) n"),
            ("receipt_reversals_credit_counts", "receipt_reversals", "reversed_receipts",
             "r.cooperative_id", "new_rows n JOIN receipts r ON r.id = n.receipt_id",
             "receipts r WHERE r.id = NEW.receipt_id"))


def _count(counter: str, cooperative: str, source: str) -> str:
    """An upsert adding the rows of `source` to `counter`, per cooperative."""
    return (f"INSERT INTO credit_totals (cooperative_id, received_minor, allocated_minor, "
            f"{counter}) SELECT {cooperative}, 0, 0, count(*) FROM {source} "
            # SQLite wants a WHERE before an upsert's ON CONFLICT in INSERT … SELECT
            f"{'' if ' WHERE ' in source else 'WHERE true '}"
            f"GROUP BY {cooperative} ON CONFLICT (cooperative_id) DO UPDATE SET "
            f"{counter} = credit_totals.{counter} + excluded.{counter}")


def backfill_statements() -> list[str]:
    return [_count("receipts", "n.cooperative_id", "receipts n"),
            _count("reversed_receipts", "r.cooperative_id",
                   "receipt_reversals n JOIN receipts r ON r.id = n.receipt_id")]


def upgrade():
    # plain ADD COLUMN with a default: no table copy on either database
    for column in COUNTS:
        op.add_column('credit_totals', sa.Column(column, sa.BigInteger(), server_default='0',
                                                 nullable=False))
    dialect = op.get_bind().dialect.name
    for name, table, counter, cooperative, new_rows, new_row in TRIGGERS:
        if dialect == "sqlite":
            op.execute(f"CREATE TRIGGER {name} AFTER INSERT ON {table} BEGIN "
                       f"{_count(counter, cooperative, new_row)}; END")
        elif dialect == "postgresql":
            op.execute(f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql "
                       f"AS $$ BEGIN {_count(counter, cooperative, new_rows)}; RETURN NULL; "
                       "END $$")
            op.execute(f"CREATE TRIGGER {name} AFTER INSERT ON {table} "
                       "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
                       f"EXECUTE FUNCTION {name}()")
    for statement in backfill_statements():
        op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    for name, table, *_ in TRIGGERS:
        if dialect == "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        elif dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    for column in COUNTS:
        op.drop_column('credit_totals', column)
