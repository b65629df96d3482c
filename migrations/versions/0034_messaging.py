"""messaging: the outbox, the cooperatives' message templates, and each member's consent to be
contacted, its channel, email and opt-out (issue 20)

Revision ID: 0034
Revises: 0032
Create Date: 2026-12-05

"""
from alembic import op
import sqlalchemy as sa


revision = '0034'
down_revision = '0036'
branch_labels = None
depends_on = None

EVENTS = ('receipt_recorded', 'registration_registered', 'registration_rejected', 'due_soon',
          'arrears', 'one_time_code')
CHANNELS = ('sms', 'whatsapp', 'email')
STATUSES = ('queued', 'sending', 'sent', 'failed', 'skipped')


def upgrade():
    op.create_table('message_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cooperative_id', sa.Integer(), nullable=False),
    sa.Column('event', sa.Enum(*EVENTS, name='messageevent', native_enum=False, length=30), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_message_templates_cooperative_id_cooperatives')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_templates')),
    sa.UniqueConstraint('cooperative_id', 'event', 'language', name=op.f('uq_message_templates_cooperative_id_event_language'))
    )
    op.create_table('outbox_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cooperative_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.Enum(*CHANNELS, name='contactchannel', native_enum=False, length=20), nullable=False),
    sa.Column('event', sa.Enum(*EVENTS, name='messageevent', native_enum=False, length=30), nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=True),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('recipient', sa.String(length=200), nullable=True),
    sa.Column('parameters', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum(*STATUSES, name='messagestatus', native_enum=False, length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('provider_id', sa.String(length=120), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('dedup_key', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_outbox_messages_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_outbox_messages_member_id_members')),
    sa.ForeignKeyConstraint(['template_id'], ['message_templates.id'], name=op.f('fk_outbox_messages_template_id_message_templates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages')),
    sa.UniqueConstraint('cooperative_id', 'dedup_key', name=op.f('uq_outbox_messages_cooperative_id_dedup_key'))
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_coop_created', ['cooperative_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_outbox_status_next', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_outbox_coop_member_created', ['cooperative_id', 'member_id', 'created_at'], unique=False)
    # the member's email is 0030's (the member record)
    op.add_column('members', sa.Column('contact_consent', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('members', sa.Column('contact_channel', sa.Enum(*CHANNELS, name='contactchannel', native_enum=False, length=20), nullable=True))
    op.add_column('members', sa.Column('contact_opted_out_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    # plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): a batch would copy the members table,
    # which every other table references
    for column in ('contact_opted_out_at', 'contact_channel', 'contact_consent'):
        op.drop_column('members', column)
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_coop_member_created')
        batch_op.drop_index('ix_outbox_status_next')
        batch_op.drop_index('ix_outbox_coop_created')
    op.drop_table('outbox_messages')
    op.drop_table('message_templates')
