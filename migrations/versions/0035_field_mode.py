"""field mode: the keys of records sent from phones, and photos taken in the field (issue 21)

Revision ID: 0035
Revises: 0032
Create Date: 2026-12-05

"""
from alembic import op
import sqlalchemy as sa


revision = '0035'
down_revision = '0034'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('field_sync_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cooperative_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_field_sync_keys_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_field_sync_keys_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_field_sync_keys')),
    sa.UniqueConstraint('cooperative_id', 'key', name=op.f('uq_field_sync_keys_cooperative_id_key'))
    )
    op.create_table('field_photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cooperative_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('id_document', 'consent_form', name='photokind', native_enum=False, length=20), nullable=False),
    sa.Column('document_type_id', sa.Integer(), nullable=True),
    sa.Column('path', sa.String(length=300), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('taken_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_field_photos_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_field_photos_member_id_members')),
    sa.ForeignKeyConstraint(['document_type_id'], ['document_types.id'], name=op.f('fk_field_photos_document_type_id_document_types')),
    sa.ForeignKeyConstraint(['taken_by_id'], ['users.id'], name=op.f('fk_field_photos_taken_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_field_photos'))
    )
    with op.batch_alter_table('field_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_field_photos_cooperative_id'), ['cooperative_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_field_photos_member_id'), ['member_id'], unique=False)


def downgrade():
    with op.batch_alter_table('field_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_field_photos_member_id'))
        batch_op.drop_index(batch_op.f('ix_field_photos_cooperative_id'))
    op.drop_table('field_photos')
    op.drop_table('field_sync_keys')
