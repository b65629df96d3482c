"""cooperative founding date: money dated before it is refused as a typing slip

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04

A nullable date: existing cooperatives have none until an admin gives it in the settings.
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cooperatives', schema=None) as batch_op:
        batch_op.add_column(sa.Column('founded_on', sa.Date(), nullable=True))


def downgrade():
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+, PostgreSQL): no table copy.
    op.drop_column('cooperatives', 'founded_on')
