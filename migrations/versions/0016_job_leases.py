"""job leases: a running job holds a lease its worker renews (a heartbeat); a lapsed lease
means the worker died and the job is retried or failed; attempts counts the runs (and
fences an attempt that was taken over); enqueued_at is when it was last handed to the queue
(a queued job no worker took after a while is handed again: the queue may have lost it)

Revision ID: 0016
Revises: 0013
Create Date: 2026-12-04

"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('enqueued_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_index('ix_jobs_status_lease', ['status', 'lease_expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_status_lease')
        batch_op.drop_column('attempts')
        batch_op.drop_column('enqueued_at')
        batch_op.drop_column('lease_expires_at')
