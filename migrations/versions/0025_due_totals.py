"""due totals: each due's running paid and written-off amounts, kept by triggers in the same
transaction as every allocation and write-off, backfilled from the money rows (issue 25)

Revision ID: 0025
Revises: 0014
Create Date: 2026-12-04

"""
from alembic import op
import sqlalchemy as sa


revision = '0025'
down_revision = '0014'
branch_labels = None
depends_on = None

# (trigger name, table it watches, column of due_totals it moves, the amount)
TRIGGERS = (("allocations_due_totals", "allocations", "paid_minor"),
            ("due_write_offs_due_totals", "due_write_offs", "written_off_minor"))


def _upsert(column: str) -> str:
    other = "written_off_minor" if column == "paid_minor" else "paid_minor"
    return (f"INSERT INTO due_totals (due_id, {column}, {other}) "
            f"VALUES (NEW.due_id, NEW.amount_minor, 0) "
            f"ON CONFLICT (due_id) DO UPDATE SET {column} = due_totals.{column} + "
            f"excluded.{column}")


def upgrade():
    op.create_table('due_totals',
    sa.Column('due_id', sa.Integer(), nullable=False),
    sa.Column('paid_minor', sa.BigInteger(), nullable=False),
    sa.Column('written_off_minor', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['due_id'], ['dues.id'], name=op.f('fk_due_totals_due_id_dues')),
    sa.PrimaryKeyConstraint('due_id', name=op.f('pk_due_totals'))
    )
    dialect = op.get_bind().dialect.name
    for name, table, column in TRIGGERS:
        if dialect == "sqlite":
            op.execute(f"CREATE TRIGGER {name} AFTER INSERT ON {table} "
                       f"BEGIN {_upsert(column)}; END")
        elif dialect == "postgresql":
            op.execute(f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql "
                       f"AS $$ BEGIN {_upsert(column)}; RETURN NULL; END $$")
            op.execute(f"CREATE TRIGGER {name} AFTER INSERT ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION {name}()")
    # the figures of the money already there, in one statement
    op.execute("""
        INSERT INTO due_totals (due_id, paid_minor, written_off_minor)
        SELECT due_id, sum(paid), sum(written_off) FROM (
            SELECT due_id, amount_minor AS paid, 0 AS written_off FROM allocations
            UNION ALL
            SELECT due_id, 0, amount_minor FROM due_write_offs) AS money
        GROUP BY due_id""")


def downgrade():
    dialect = op.get_bind().dialect.name
    for name, table, _column in TRIGGERS:
        if dialect == "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        elif dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_table('due_totals')
