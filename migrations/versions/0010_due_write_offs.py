"""due write-offs: what the treasurer clears of a due that will never be paid, with a reason;
an entry of its own (append-only, guarded like the other money tables), never a deletion

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04

"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

TABLE = "due_write_offs"


def upgrade():
    op.create_table(TABLE,
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cooperative_id', sa.Integer(), nullable=False),
    sa.Column('due_id', sa.Integer(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('written_off_by_id', sa.Integer(), nullable=True),
    sa.Column('written_off_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_due_write_offs_amount_positive')),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_due_write_offs_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['due_id'], ['dues.id'], name=op.f('fk_due_write_offs_due_id_dues')),
    sa.ForeignKeyConstraint(['written_off_by_id'], ['users.id'], name=op.f('fk_due_write_offs_written_off_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_due_write_offs')),
    sa.UniqueConstraint('due_id', name=op.f('uq_due_write_offs_due_id'))
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_due_write_offs_cooperative_id'), ['cooperative_id'], unique=False)
    # append-only in the database too (the pattern of 0005, repeated so this revision stands
    # alone)
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {TABLE}_no_{verb.lower()} BEFORE {verb} ON {TABLE} "
                       f"BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only'); END")
    elif dialect == "postgresql":
        op.execute(f"CREATE OR REPLACE FUNCTION {TABLE}_append_only() RETURNS trigger "
                   f"LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{TABLE} is append-only'; "
                   f"END $$")
        op.execute(f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
                   f"FOR EACH ROW EXECUTE FUNCTION {TABLE}_append_only()")


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_{verb}")
    elif dialect == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")
        op.execute(f"DROP FUNCTION IF EXISTS {TABLE}_append_only()")
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_due_write_offs_cooperative_id'))
    op.drop_table(TABLE)
