"""batches: file layouts, batches and their lines, acknowledgements

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27

Sealed batches are final in the database too: triggers refuse to change or delete the lines
of a batch that is no longer a draft (or to add lines to it), to change the fields that
describe a sealed batch's file, to turn it back into a draft, or to delete it.
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

FROZEN = ("cooperative_id", "agreement_id", "kind", "number", "reference", "period",
          "supersedes_id", "file_format", "layout_snapshot", "file_path", "sha256",
          "data_checksum", "row_count", "totals", "total_minor", "col_widths", "sealed_at",
          "sealed_by_id")


def create_seal_guards():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in FROZEN)
        for verb, row in (("UPDATE", "OLD"), ("DELETE", "OLD"), ("INSERT", "NEW")):
            op.execute(
                f"CREATE TRIGGER batch_lines_sealed_no_{verb.lower()} BEFORE {verb} ON batch_lines "
                f"WHEN (SELECT status FROM batches WHERE id = {row}.batch_id) != 'draft' "
                "BEGIN SELECT RAISE(ABORT, 'the lines of a sealed batch never change'); END")
        op.execute(
            "CREATE TRIGGER batches_sealed_no_update BEFORE UPDATE ON batches "
            f"WHEN OLD.status != 'draft' AND ({changed} OR NEW.status = 'draft') "
            "BEGIN SELECT RAISE(ABORT, 'a sealed batch never changes'); END")
        op.execute(
            "CREATE TRIGGER batches_sealed_no_delete BEFORE DELETE ON batches "
            "WHEN OLD.status != 'draft' "
            "BEGIN SELECT RAISE(ABORT, 'a sealed batch is never deleted'); END")
    elif dialect == "postgresql":
        changed = " OR ".join(f"NEW.{c}::text IS DISTINCT FROM OLD.{c}::text" for c in FROZEN)
        op.execute(
            "CREATE OR REPLACE FUNCTION batch_lines_sealed_guard() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ DECLARE parent_status text; BEGIN "
            "SELECT status INTO parent_status FROM batches WHERE id = "
            "(CASE WHEN TG_OP = 'INSERT' THEN NEW.batch_id ELSE OLD.batch_id END); "
            "IF parent_status IS DISTINCT FROM 'draft' THEN "
            "RAISE EXCEPTION 'the lines of a sealed batch never change'; END IF; "
            "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END $$")
        op.execute(
            "CREATE TRIGGER batch_lines_sealed_guard BEFORE INSERT OR UPDATE OR DELETE "
            "ON batch_lines FOR EACH ROW EXECUTE FUNCTION batch_lines_sealed_guard()")
        op.execute(
            "CREATE OR REPLACE FUNCTION batches_sealed_guard() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            "IF OLD.status = 'draft' THEN "
            "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END IF; "
            "IF TG_OP = 'DELETE' THEN RAISE EXCEPTION 'a sealed batch is never deleted'; END IF; "
            f"IF {changed} OR NEW.status = 'draft' THEN "
            "RAISE EXCEPTION 'a sealed batch never changes'; END IF; "
            "RETURN NEW; END $$")
        op.execute(
            "CREATE TRIGGER batches_sealed_guard BEFORE UPDATE OR DELETE ON batches "
            "FOR EACH ROW EXECUTE FUNCTION batches_sealed_guard()")


def drop_seal_guards():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in ("batch_lines_sealed_no_update", "batch_lines_sealed_no_delete",
                     "batch_lines_sealed_no_insert", "batches_sealed_no_update",
                     "batches_sealed_no_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS batch_lines_sealed_guard ON batch_lines")
        op.execute("DROP FUNCTION IF EXISTS batch_lines_sealed_guard()")
        op.execute("DROP TRIGGER IF EXISTS batches_sealed_guard ON batches")
        op.execute("DROP FUNCTION IF EXISTS batches_sealed_guard()")


def upgrade():
    op.create_table('ack_mappings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cooperative_id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('columns', sa.JSON(), nullable=False),
    sa.Column('accepted_values', sa.String(length=200), nullable=False),
    sa.Column('rejected_values', sa.String(length=200), nullable=False),
    sa.Column('date_pattern', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_ack_mappings_agreement_id_agreements')),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_ack_mappings_cooperative_id_cooperatives')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ack_mappings')),
    sa.UniqueConstraint('agreement_id', name=op.f('uq_ack_mappings_agreement_id'))
    )
    with op.batch_alter_table('ack_mappings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ack_mappings_cooperative_id'), ['cooperative_id'], unique=False)

    op.create_table('file_layouts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cooperative_id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('enrolment', 'update', 'exit', 'remittance', name='batchkind', native_enum=False, length=20), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('format', sa.Enum('xlsx', 'csv', 'fixed', name='fileformat', native_enum=False, length=10), nullable=False),
    sa.Column('encoding', sa.String(length=12), nullable=False),
    sa.Column('delimiter', sa.String(length=1), nullable=False),
    sa.Column('decimal_mark', sa.String(length=1), nullable=False),
    sa.Column('include_header', sa.Boolean(), nullable=False),
    sa.Column('header_line', sa.String(length=500), nullable=True),
    sa.Column('footer_line', sa.String(length=500), nullable=True),
    sa.Column('built_in_origin', sa.String(length=60), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_file_layouts_agreement_id_agreements')),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_file_layouts_cooperative_id_cooperatives')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_file_layouts')),
    sa.UniqueConstraint('agreement_id', 'kind', name=op.f('uq_file_layouts_agreement_id_kind'))
    )
    with op.batch_alter_table('file_layouts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_file_layouts_cooperative_id'), ['cooperative_id'], unique=False)

    op.create_table('batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cooperative_id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('enrolment', 'update', 'exit', 'remittance', name='batchkind', native_enum=False, length=20), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=20), nullable=False),
    sa.Column('period', sa.Date(), nullable=True),
    sa.Column('status', sa.Enum('draft', 'discarded', 'sealed', 'sent', 'partially_acknowledged', 'acknowledged', 'superseded', name='batchstatus', native_enum=False, length=24), nullable=False),
    sa.Column('problem_policy', sa.String(length=10), nullable=False),
    sa.Column('supersedes_id', sa.Integer(), nullable=True),
    sa.Column('layout_id', sa.Integer(), nullable=True),
    sa.Column('file_format', sa.Enum('xlsx', 'csv', 'fixed', name='fileformat', native_enum=False, length=10), nullable=False),
    sa.Column('layout_snapshot', sa.JSON(), nullable=False),
    sa.Column('col_widths', sa.JSON(), nullable=True),
    sa.Column('file_path', sa.String(length=300), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('data_checksum', sa.String(length=64), nullable=True),
    sa.Column('row_count', sa.Integer(), nullable=True),
    sa.Column('totals', sa.JSON(), nullable=True),
    sa.Column('total_minor', sa.BigInteger(), nullable=True),
    sa.Column('sealed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sealed_by_id', sa.Integer(), nullable=True),
    sa.Column('sent_on', sa.Date(), nullable=True),
    sa.Column('sent_channel', sa.String(length=60), nullable=True),
    sa.Column('sent_note', sa.String(length=300), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_batches_agreement_id_agreements')),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_batches_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_batches_created_by_id_users')),
    sa.ForeignKeyConstraint(['layout_id'], ['file_layouts.id'], name=op.f('fk_batches_layout_id_file_layouts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['sealed_by_id'], ['users.id'], name=op.f('fk_batches_sealed_by_id_users')),
    sa.ForeignKeyConstraint(['supersedes_id'], ['batches.id'], name=op.f('fk_batches_supersedes_id_batches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batches')),
    sa.UniqueConstraint('cooperative_id', 'number', name=op.f('uq_batches_cooperative_id_number'))
    )
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.create_index('ix_batches_coop_agreement', ['cooperative_id', 'agreement_id', 'kind', 'id'], unique=False)

    op.create_table('layout_columns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cooperative_id', sa.Integer(), nullable=False),
    sa.Column('layout_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('header', sa.String(length=120), nullable=False),
    sa.Column('source', sa.String(length=60), nullable=False),
    sa.Column('fixed_value', sa.String(length=200), nullable=True),
    sa.Column('col_type', sa.Enum('text', 'number', 'date', 'amount', name='columntype', native_enum=False, length=10), nullable=False),
    sa.Column('date_pattern', sa.String(length=40), nullable=True),
    sa.Column('id_format', sa.String(length=10), nullable=False),
    sa.Column('decimals', sa.Integer(), nullable=False),
    sa.Column('implied_decimals', sa.Boolean(), nullable=False),
    sa.Column('transform', sa.String(length=12), nullable=False),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('align', sa.String(length=5), nullable=False),
    sa.Column('pad', sa.String(length=1), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_layout_columns_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['layout_id'], ['file_layouts.id'], name=op.f('fk_layout_columns_layout_id_file_layouts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_layout_columns'))
    )
    with op.batch_alter_table('layout_columns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_layout_columns_cooperative_id'), ['cooperative_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_layout_columns_layout_id'), ['layout_id'], unique=False)

    op.create_table('acknowledgements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cooperative_id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Enum('uploaded', 'applied', 'discarded', name='ackstatus', native_enum=False, length=20), nullable=False),
    sa.Column('headers', sa.JSON(), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('accepted_count', sa.Integer(), nullable=False),
    sa.Column('rejected_count', sa.Integer(), nullable=False),
    sa.Column('unmatched_count', sa.Integer(), nullable=False),
    sa.Column('problem_count', sa.Integer(), nullable=False),
    sa.Column('interpreted', sa.Boolean(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('applied_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['applied_by_id'], ['users.id'], name=op.f('fk_acknowledgements_applied_by_id_users')),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_acknowledgements_batch_id_batches')),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_acknowledgements_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_acknowledgements_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_acknowledgements'))
    )
    with op.batch_alter_table('acknowledgements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_acknowledgements_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_acknowledgements_cooperative_id'), ['cooperative_id'], unique=False)

    op.create_table('batch_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cooperative_id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('registration_id', sa.Integer(), nullable=True),
    sa.Column('values', sa.JSON(), nullable=False),
    sa.Column('source_values', sa.JSON(), nullable=True),
    sa.Column('amount_minor', sa.BigInteger(), nullable=True),
    sa.Column('member_share_minor', sa.BigInteger(), nullable=True),
    sa.Column('cooperative_share_minor', sa.BigInteger(), nullable=True),
    sa.Column('problem', sa.Text(), nullable=True),
    sa.Column('included', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_batch_lines_batch_id_batches')),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_batch_lines_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_batch_lines_member_id_members')),
    sa.ForeignKeyConstraint(['registration_id'], ['registrations.id'], name=op.f('fk_batch_lines_registration_id_registrations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batch_lines'))
    )
    with op.batch_alter_table('batch_lines', schema=None) as batch_op:
        batch_op.create_index('ix_batch_lines_batch_line_no', ['batch_id', 'line_no'], unique=False)
        batch_op.create_index(batch_op.f('ix_batch_lines_cooperative_id'), ['cooperative_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_batch_lines_member_id'), ['member_id'], unique=False)
        batch_op.create_index('ix_batch_lines_registration', ['registration_id'], unique=False)

    op.create_table('acknowledgement_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cooperative_id', sa.Integer(), nullable=False),
    sa.Column('acknowledgement_id', sa.Integer(), nullable=False),
    sa.Column('row_no', sa.Integer(), nullable=False),
    sa.Column('raw', sa.JSON(), nullable=False),
    sa.Column('batch_line_id', sa.Integer(), nullable=True),
    sa.Column('result', sa.String(length=10), nullable=True),
    sa.Column('institution_number', sa.String(length=40), nullable=True),
    sa.Column('reason', sa.String(length=300), nullable=True),
    sa.Column('effective_date', sa.Date(), nullable=True),
    sa.Column('problem', sa.Text(), nullable=True),
    sa.Column('problem_kind', sa.String(length=10), nullable=True),
    sa.Column('applied', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['acknowledgement_id'], ['acknowledgements.id'], name=op.f('fk_acknowledgement_lines_acknowledgement_id_acknowledgements')),
    sa.ForeignKeyConstraint(['batch_line_id'], ['batch_lines.id'], name=op.f('fk_acknowledgement_lines_batch_line_id_batch_lines')),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_acknowledgement_lines_cooperative_id_cooperatives')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_acknowledgement_lines'))
    )
    with op.batch_alter_table('acknowledgement_lines', schema=None) as batch_op:
        batch_op.create_index('ix_acknowledgement_lines_ack_row', ['acknowledgement_id', 'row_no'], unique=False)
        batch_op.create_index(batch_op.f('ix_acknowledgement_lines_batch_line_id'), ['batch_line_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_acknowledgement_lines_cooperative_id'), ['cooperative_id'], unique=False)

    create_seal_guards()



def downgrade():
    drop_seal_guards()
    with op.batch_alter_table('acknowledgement_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_acknowledgement_lines_cooperative_id'))
        batch_op.drop_index(batch_op.f('ix_acknowledgement_lines_batch_line_id'))
        batch_op.drop_index('ix_acknowledgement_lines_ack_row')

    op.drop_table('acknowledgement_lines')
    with op.batch_alter_table('batch_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_batch_lines_registration')
        batch_op.drop_index(batch_op.f('ix_batch_lines_member_id'))
        batch_op.drop_index(batch_op.f('ix_batch_lines_cooperative_id'))
        batch_op.drop_index('ix_batch_lines_batch_line_no')

    op.drop_table('batch_lines')
    with op.batch_alter_table('acknowledgements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_acknowledgements_cooperative_id'))
        batch_op.drop_index(batch_op.f('ix_acknowledgements_batch_id'))

    op.drop_table('acknowledgements')
    with op.batch_alter_table('layout_columns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_layout_columns_layout_id'))
        batch_op.drop_index(batch_op.f('ix_layout_columns_cooperative_id'))

    op.drop_table('layout_columns')
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.drop_index('ix_batches_coop_agreement')

    op.drop_table('batches')
    with op.batch_alter_table('file_layouts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_file_layouts_cooperative_id'))

    op.drop_table('file_layouts')
    with op.batch_alter_table('ack_mappings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ack_mappings_cooperative_id'))

    op.drop_table('ack_mappings')
