"""scales: a contribution rule may be a table (issue 17) — income brackets or categories, each
row with its amount or rate and its payers' shares (terms_scale_rows); a member's declared
income from a date (income_declarations) and a member's category from a date
(category_placements), the history that moves members between rows. Existing terms are
flat or rate rules: nothing changes for them.

Revision ID: 0037
Revises: 0028
Create Date: 2026-12-05

"""
from alembic import op
import sqlalchemy as sa


revision = '0037'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('terms_scale_rows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cooperative_id', sa.Integer(), nullable=False),
    sa.Column('terms_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('income_from_minor', sa.BigInteger(), nullable=True),
    sa.Column('amount_minor', sa.BigInteger(), nullable=True),
    sa.Column('rate_bp', sa.Integer(), nullable=True),
    sa.Column('member_share_bp', sa.Integer(), nullable=True),
    sa.Column('payer1_share_bp', sa.Integer(), nullable=True),
    sa.Column('payer2_share_bp', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_terms_scale_rows_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['terms_id'], ['agreement_terms.id'], name=op.f('fk_terms_scale_rows_terms_id_agreement_terms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_terms_scale_rows')),
    sa.UniqueConstraint('terms_id', 'code', name=op.f('uq_terms_scale_rows_terms_id_code')),
    sa.UniqueConstraint('terms_id', 'position', name=op.f('uq_terms_scale_rows_terms_id_position'))
    )
    with op.batch_alter_table('terms_scale_rows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_terms_scale_rows_cooperative_id'), ['cooperative_id'], unique=False)
    op.create_table('income_declarations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cooperative_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('income_minor', sa.BigInteger(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_income_declarations_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_income_declarations_member_id_members')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_income_declarations_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_income_declarations'))
    )
    with op.batch_alter_table('income_declarations', schema=None) as batch_op:
        batch_op.create_index('ix_income_declarations_coop_member_from', ['cooperative_id', 'member_id', 'effective_from'], unique=True)
    op.create_table('category_placements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cooperative_id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_category_placements_agreement_id_agreements')),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_category_placements_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_category_placements_member_id_members')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_category_placements_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_category_placements'))
    )
    with op.batch_alter_table('category_placements', schema=None) as batch_op:
        batch_op.create_index('ix_category_placements_coop_agreement_member', ['cooperative_id', 'agreement_id', 'member_id', 'effective_from'], unique=True)


def downgrade():
    op.drop_table('category_placements')
    op.drop_table('income_declarations')
    op.drop_table('terms_scale_rows')
