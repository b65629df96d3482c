"""platform admins: a flag on users for the people who keep the installation's federations and
institution desk accounts (issue 22)

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-05 13:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0039'
down_revision = '0038'
branch_labels = None
depends_on = None


def upgrade():
    # a plain ADD COLUMN with a default: no table copy, every existing user is no platform admin
    op.add_column('users', sa.Column('platform_admin', sa.Boolean(), server_default='0',
                                     nullable=False))


def downgrade():
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+, PostgreSQL): no table copy.
    op.drop_column('users', 'platform_admin')
