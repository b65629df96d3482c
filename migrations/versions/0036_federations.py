"""federations: a union of cooperatives, its cooperatives (with their member-records
setting), the roles held in it; the institution's desk: its accounts, the agreements sent
through it and what it did with each batch (issue 22)

Revision ID: 0036
Revises: 0032
Create Date: 2026-12-05

"""
from alembic import op
import sqlalchemy as sa


revision = '0036'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('federations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_federations')),
    sa.UniqueConstraint('code', name=op.f('uq_federations_code'))
    )
    op.create_table('federation_cooperatives',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('federation_id', sa.Integer(), nullable=False),
    sa.Column('cooperative_id', sa.Integer(), nullable=False),
    sa.Column('shares_member_records', sa.Boolean(), nullable=False),
    sa.Column('joined_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_federation_cooperatives_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['federation_id'], ['federations.id'], name=op.f('fk_federation_cooperatives_federation_id_federations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_federation_cooperatives')),
    sa.UniqueConstraint('cooperative_id', name=op.f('uq_federation_cooperatives_cooperative_id'))
    )
    with op.batch_alter_table('federation_cooperatives', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_federation_cooperatives_federation_id'), ['federation_id'], unique=False)
    op.create_table('federation_memberships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('federation_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('federation_admin', 'federation_analyst', name='federationrole', native_enum=False, length=30), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['federation_id'], ['federations.id'], name=op.f('fk_federation_memberships_federation_id_federations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_federation_memberships_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_federation_memberships')),
    sa.UniqueConstraint('user_id', 'federation_id', name=op.f('uq_federation_memberships_user_id_federation_id'))
    )
    with op.batch_alter_table('federation_memberships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_federation_memberships_federation_id'), ['federation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_federation_memberships_user_id'), ['user_id'], unique=False)

    op.create_table('institution_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('institution_code', sa.String(length=40), nullable=False),
    sa.Column('federation_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['federation_id'], ['federations.id'], name=op.f('fk_institution_accounts_federation_id_federations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_institution_accounts_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_institution_accounts')),
    sa.UniqueConstraint('user_id', name=op.f('uq_institution_accounts_user_id'))
    )
    with op.batch_alter_table('institution_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_institution_accounts_federation_id'), ['federation_id'], unique=False)
    op.create_table('desk_agreements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cooperative_id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('applies_answers', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_desk_agreements_agreement_id_agreements')),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_desk_agreements_cooperative_id_cooperatives')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_desk_agreements')),
    sa.UniqueConstraint('cooperative_id', 'agreement_id', name=op.f('uq_desk_agreements_cooperative_id_agreement_id'))
    )
    op.create_table('desk_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cooperative_id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('downloaded', 'answered', name='deskeventkind', native_enum=False, length=20), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('acknowledgement_id', sa.Integer(), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['acknowledgement_id'], ['acknowledgements.id'], name=op.f('fk_desk_events_acknowledgement_id_acknowledgements')),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_desk_events_batch_id_batches')),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_desk_events_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_desk_events_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_desk_events'))
    )
    with op.batch_alter_table('desk_events', schema=None) as batch_op:
        batch_op.create_index('ix_desk_events_coop_batch', ['cooperative_id', 'batch_id'], unique=False)

    op.create_table('catalogue_institutions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('federation_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('short_name', sa.String(length=40), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['federation_id'], ['federations.id'], name=op.f('fk_catalogue_institutions_federation_id_federations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalogue_institutions')),
    sa.UniqueConstraint('federation_id', 'short_name', name=op.f('uq_catalogue_institutions_federation_id_short_name'))
    )
    op.create_table('catalogue_schemes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('branches', sa.JSON(), nullable=False),
    sa.Column('member_benefits', sa.Text(), nullable=True),
    sa.Column('how_to_claim', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['catalogue_institutions.id'], name=op.f('fk_catalogue_schemes_institution_id_catalogue_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalogue_schemes')),
    sa.UniqueConstraint('institution_id', 'name', name=op.f('uq_catalogue_schemes_institution_id_name'))
    )
    op.create_table('catalogue_adoptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cooperative_id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_catalogue_adoptions_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_catalogue_adoptions_institution_id_institutions')),
    sa.ForeignKeyConstraint(['source_id'], ['catalogue_institutions.id'], name=op.f('fk_catalogue_adoptions_source_id_catalogue_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalogue_adoptions')),
    sa.UniqueConstraint('cooperative_id', 'source_id', name=op.f('uq_catalogue_adoptions_cooperative_id_source_id'))
    )

    op.create_table('desk_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('hint', sa.String(length=16), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('scope', sa.Enum('read', 'write', name='tokenscope', native_enum=False, length=10), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['institution_accounts.id'], name=op.f('fk_desk_tokens_account_id_institution_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_desk_tokens')),
    sa.UniqueConstraint('secret_hash', name=op.f('uq_desk_tokens_secret_hash'))
    )
    with op.batch_alter_table('desk_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_desk_tokens_account_id'), ['account_id'], unique=False)

    op.create_table('catalogue_layouts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('federation_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('spec', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['federation_id'], ['federations.id'], name=op.f('fk_catalogue_layouts_federation_id_federations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalogue_layouts')),
    sa.UniqueConstraint('federation_id', 'name', 'kind', name=op.f('uq_catalogue_layouts_federation_id_name_kind'))
    )
    op.create_table('catalogue_layout_adoptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cooperative_id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('layout_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_catalogue_layout_adoptions_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['layout_id'], ['file_layouts.id'], name=op.f('fk_catalogue_layout_adoptions_layout_id_file_layouts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['source_id'], ['catalogue_layouts.id'], name=op.f('fk_catalogue_layout_adoptions_source_id_catalogue_layouts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalogue_layout_adoptions')),
    sa.UniqueConstraint('cooperative_id', 'layout_id', name=op.f('uq_catalogue_layout_adoptions_cooperative_id_layout_id'))
    )
    with op.batch_alter_table('catalogue_layout_adoptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_catalogue_layout_adoptions_source_id'), ['source_id'], unique=False)

    op.create_table('catalogue_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('federation_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('terms', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['federation_id'], ['federations.id'], name=op.f('fk_catalogue_templates_federation_id_federations')),
    sa.ForeignKeyConstraint(['institution_id'], ['catalogue_institutions.id'], name=op.f('fk_catalogue_templates_institution_id_catalogue_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalogue_templates')),
    sa.UniqueConstraint('federation_id', 'name', name=op.f('uq_catalogue_templates_federation_id_name'))
    )
    op.create_table('catalogue_template_adoptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cooperative_id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_catalogue_template_adoptions_agreement_id_agreements')),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_catalogue_template_adoptions_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['source_id'], ['catalogue_templates.id'], name=op.f('fk_catalogue_template_adoptions_source_id_catalogue_templates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalogue_template_adoptions')),
    sa.UniqueConstraint('cooperative_id', 'agreement_id', name=op.f('uq_catalogue_template_adoptions_cooperative_id_agreement_id'))
    )
    with op.batch_alter_table('catalogue_template_adoptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_catalogue_template_adoptions_source_id'), ['source_id'], unique=False)


def downgrade():
    with op.batch_alter_table('catalogue_template_adoptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_catalogue_template_adoptions_source_id'))
    op.drop_table('catalogue_template_adoptions')
    op.drop_table('catalogue_templates')
    with op.batch_alter_table('catalogue_layout_adoptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_catalogue_layout_adoptions_source_id'))
    op.drop_table('catalogue_layout_adoptions')
    op.drop_table('catalogue_layouts')
    with op.batch_alter_table('desk_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_desk_tokens_account_id'))
    op.drop_table('desk_tokens')
    op.drop_table('catalogue_adoptions')
    op.drop_table('catalogue_schemes')
    op.drop_table('catalogue_institutions')
    with op.batch_alter_table('desk_events', schema=None) as batch_op:
        batch_op.drop_index('ix_desk_events_coop_batch')
    op.drop_table('desk_events')
    op.drop_table('desk_agreements')
    with op.batch_alter_table('institution_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_institution_accounts_federation_id'))
    op.drop_table('institution_accounts')
    with op.batch_alter_table('federation_memberships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_federation_memberships_user_id'))
        batch_op.drop_index(batch_op.f('ix_federation_memberships_federation_id'))
    op.drop_table('federation_memberships')
    with op.batch_alter_table('federation_cooperatives', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_federation_cooperatives_federation_id'))
    op.drop_table('federation_cooperatives')
    op.drop_table('federations')
