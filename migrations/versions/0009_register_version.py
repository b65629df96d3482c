"""register version: a counter on each cooperative that every write to its members moves on,
so the member list's rendered rows can be kept until the register changes

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27

A NOT NULL column with a server default: existing cooperatives start at 0.
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cooperatives', schema=None) as batch_op:
        batch_op.add_column(sa.Column('register_version', sa.BigInteger(), nullable=False,
                                      server_default='0'))


def downgrade():
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+, PostgreSQL): no table copy.
    op.drop_column('cooperatives', 'register_version')
