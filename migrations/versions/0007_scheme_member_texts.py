"""scheme member texts: what a scheme gives members and how to claim it (awareness sheet),
and the cooperative's contact printed on the documents members take home

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27

Nullable columns only: existing schemes and cooperatives simply have no text yet.
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('schemes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('member_benefits', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('how_to_claim', sa.Text(), nullable=True))
    with op.batch_alter_table('cooperatives', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact', sa.String(length=300), nullable=True))


def downgrade():
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+, PostgreSQL): no table copy, so the rows
    # that reference these tables are never touched.
    op.drop_column('cooperatives', 'contact')
    op.drop_column('schemes', 'how_to_claim')
    op.drop_column('schemes', 'member_benefits')
