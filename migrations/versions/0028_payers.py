"""payers: third parties (the state, a municipality, a donor) named on an agreement's terms with
their share, each due's third-party shares (one row per payer share), what third parties paid
(and its reversals), and whether suspended registrations keep accruing dues (issue 17).
Existing terms have no third party: their dues are exactly what they were (the member's and the
cooperative's shares stay on the due).

Revision ID: 0028
Revises: 0032
Create Date: 2026-12-04

"""
from alembic import op
import sqlalchemy as sa


revision = '0028'
down_revision = '0030'
branch_labels = None
depends_on = None

GUARDED = ("due_payer_shares", "third_party_payments", "third_party_payment_reversals")


def upgrade():
    # plain ADD / DROP COLUMN (no table copy: dues and terms payers point at these rows)
    op.add_column('agreement_terms', sa.Column('suspended_accrue', sa.Boolean(),
                                               nullable=False, server_default=sa.true()))
    op.create_table('terms_payers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cooperative_id', sa.Integer(), nullable=False),
    sa.Column('terms_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('member', 'cooperative', 'state', 'third_party', name='payerkind', native_enum=False, length=20), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('share_bp', sa.Integer(), nullable=True),
    sa.Column('fixed_minor', sa.BigInteger(), nullable=True),
    sa.Column('through_cooperative', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_terms_payers_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['terms_id'], ['agreement_terms.id'], name=op.f('fk_terms_payers_terms_id_agreement_terms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_terms_payers')),
    sa.UniqueConstraint('terms_id', 'name', name=op.f('uq_terms_payers_terms_id_name')),
    sa.UniqueConstraint('terms_id', 'position', name=op.f('uq_terms_payers_terms_id_position'))
    )
    with op.batch_alter_table('terms_payers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_terms_payers_cooperative_id'), ['cooperative_id'], unique=False)
    op.create_table('due_payer_shares',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cooperative_id', sa.Integer(), nullable=False),
    sa.Column('due_id', sa.Integer(), nullable=False),
    sa.Column('payer_id', sa.Integer(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('amount_minor >= 0', name=op.f('ck_due_payer_shares_amount_not_negative')),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_due_payer_shares_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['due_id'], ['dues.id'], name=op.f('fk_due_payer_shares_due_id_dues')),
    sa.ForeignKeyConstraint(['payer_id'], ['terms_payers.id'], name=op.f('fk_due_payer_shares_payer_id_terms_payers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_due_payer_shares')),
    sa.UniqueConstraint('due_id', 'payer_id', name=op.f('uq_due_payer_shares_due_id_payer_id'))
    )
    with op.batch_alter_table('due_payer_shares', schema=None) as batch_op:
        batch_op.create_index('ix_due_payer_shares_coop_payer', ['cooperative_id', 'payer_id'], unique=False)
    op.create_table('third_party_payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cooperative_id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('payer_name', sa.String(length=120), nullable=False),
    sa.Column('period', sa.Date(), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('reference', sa.String(length=80), nullable=False),
    sa.Column('through_cooperative', sa.Boolean(), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_third_party_payments_amount_positive')),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_third_party_payments_agreement_id_agreements')),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_third_party_payments_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_third_party_payments_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_third_party_payments'))
    )
    with op.batch_alter_table('third_party_payments', schema=None) as batch_op:
        batch_op.create_index('ix_third_party_payments_coop_agreement_period', ['cooperative_id', 'agreement_id', 'period'], unique=False)
    op.create_table('third_party_payment_reversals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cooperative_id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('reversed_by_id', sa.Integer(), nullable=True),
    sa.Column('reversed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_third_party_payment_reversals_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['payment_id'], ['third_party_payments.id'], name=op.f('fk_third_party_payment_reversals_payment_id_third_party_payments')),
    sa.ForeignKeyConstraint(['reversed_by_id'], ['users.id'], name=op.f('fk_third_party_payment_reversals_reversed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_third_party_payment_reversals')),
    sa.UniqueConstraint('payment_id', name=op.f('uq_third_party_payment_reversals_payment_id'))
    )
    with op.batch_alter_table('third_party_payment_reversals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_third_party_payment_reversals_cooperative_id'), ['cooperative_id'], unique=False)
    # append-only in the database too (the pattern of 0005)
    dialect = op.get_bind().dialect.name
    for table in GUARDED:
        if dialect == "sqlite":
            for verb in ("UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")
        elif dialect == "postgresql":
            op.execute(f"CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger "
                       f"LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{table} is "
                       f"append-only'; END $$")
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON "
                       f"{table} FOR EACH ROW EXECUTE FUNCTION {table}_append_only()")


def downgrade():
    dialect = op.get_bind().dialect.name
    for table in GUARDED:
        if dialect == "sqlite":
            for verb in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
        elif dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {table}_append_only()")
    op.drop_table('third_party_payment_reversals')
    op.drop_table('third_party_payments')
    op.drop_table('due_payer_shares')
    op.drop_table('terms_payers')
    op.execute("ALTER TABLE agreement_terms DROP COLUMN suspended_accrue")
