"""families and coverage evidence: which dependants a scheme covers (family rules), dependants'
registrations carried by their member's, batch lines and layouts that carry dependants, and
where members are covered outside the cooperative (issue 17)

Revision ID: 0029
Revises: 0031
Create Date: 2026-12-04

"""
from alembic import op
import sqlalchemy as sa


revision = '0029'
down_revision = '0031'
branch_labels = None
depends_on = None

RELATIONS = ('spouse', 'child', 'parent', 'other')
BRANCHES = ('medical_care', 'sickness', 'unemployment', 'old_age', 'employment_injury',
            'family', 'maternity', 'invalidity', 'survivors')


def _sqlite_batch_line_guards():
    """On SQLite, rebuilding batch_lines (to add a foreign key) drops its triggers: the
    sealed batch's guards of 0006 are written again, as they were."""
    if op.get_bind().dialect.name != "sqlite":
        return
    for verb, row in (("UPDATE", "OLD"), ("DELETE", "OLD"), ("INSERT", "NEW")):
        op.execute(f"DROP TRIGGER IF EXISTS batch_lines_sealed_no_{verb.lower()}")
        op.execute(
            f"CREATE TRIGGER batch_lines_sealed_no_{verb.lower()} BEFORE {verb} ON batch_lines "
            f"WHEN (SELECT status FROM batches WHERE id = {row}.batch_id) != 'draft' "
            "BEGIN SELECT RAISE(ABORT, 'the lines of a sealed batch never change'); END")


def _enum(name, values, length=20):
    return sa.Enum(*values, name=name, native_enum=False, length=length)


def upgrade():
    op.create_table('family_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cooperative_id', sa.Integer(), nullable=False),
    sa.Column('scheme_id', sa.Integer(), nullable=False),
    sa.Column('relation', _enum('dependantrelation', RELATIONS), nullable=False),
    sa.Column('max_age', sa.Integer(), nullable=True),
    sa.Column('student_max_age', sa.Integer(), nullable=True),
    sa.Column('disabled_any_age', sa.Boolean(), nullable=False),
    sa.Column('surcharge_minor', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'],
                            name=op.f('fk_family_rules_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['scheme_id'], ['schemes.id'],
                            name=op.f('fk_family_rules_scheme_id_schemes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_family_rules')),
    sa.UniqueConstraint('scheme_id', 'relation',
                        name=op.f('uq_family_rules_scheme_id_relation'))
    )
    op.create_index(op.f('ix_family_rules_cooperative_id'), 'family_rules', ['cooperative_id'])
    op.create_table('dependant_registrations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cooperative_id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('dependant_id', sa.Integer(), nullable=False),
    sa.Column('status', _enum('dependantstatus', ('enrolled', 'submitted', 'registered',
                                                  'rejected', 'terminated')), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('institution_number', sa.String(length=40), nullable=True),
    sa.Column('coverage_start', sa.Date(), nullable=True),
    sa.Column('rejection_reason', sa.String(length=300), nullable=True),
    sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'],
                            name=op.f('fk_dependant_registrations_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['registration_id'], ['registrations.id'],
                            name=op.f('fk_dependant_registrations_registration_id_registrations')),
    sa.ForeignKeyConstraint(['dependant_id'], ['dependants.id'],
                            name=op.f('fk_dependant_registrations_dependant_id_dependants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dependant_registrations')),
    sa.UniqueConstraint('registration_id', 'dependant_id',
                        name=op.f('uq_dependant_registrations_registration_id_dependant_id'))
    )
    op.create_index(op.f('ix_dependant_registrations_dependant_id'),
                    'dependant_registrations', ['dependant_id'])
    op.create_index('ix_dependant_registrations_coop_status', 'dependant_registrations',
                    ['cooperative_id', 'status'])
    op.create_table('outside_coverages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cooperative_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('branch', _enum('branch', BRANCHES, 30), nullable=False),
    sa.Column('source', _enum('outsidesource', ('employer', 'spouse', 'state',
                                                'other_scheme')), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('declared_on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'],
                            name=op.f('fk_outside_coverages_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'],
                            name=op.f('fk_outside_coverages_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outside_coverages')),
    sa.UniqueConstraint('member_id', 'branch', name=op.f('uq_outside_coverages_member_id_branch'))
    )
    op.create_index('ix_outside_coverages_coop_member', 'outside_coverages',
                    ['cooperative_id', 'member_id'])
    with op.batch_alter_table('dependants') as batch_op:
        batch_op.add_column(sa.Column('student', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('disabled', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    with op.batch_alter_table('dependants') as batch_op:
        batch_op.alter_column('student', server_default=None)
        batch_op.alter_column('disabled', server_default=None)
    with op.batch_alter_table('file_layouts') as batch_op:
        batch_op.add_column(sa.Column('dependants_mode', sa.String(length=10), nullable=False,
                                      server_default='none'))
    with op.batch_alter_table('file_layouts') as batch_op:
        batch_op.alter_column('dependants_mode', server_default=None)
    with op.batch_alter_table('batch_lines') as batch_op:
        batch_op.add_column(sa.Column('dependant_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f('fk_batch_lines_dependant_id_dependants'),
                                    'dependants', ['dependant_id'], ['id'])
    _sqlite_batch_line_guards()


def downgrade():
    with op.batch_alter_table('batch_lines') as batch_op:
        batch_op.drop_constraint(op.f('fk_batch_lines_dependant_id_dependants'),
                                 type_='foreignkey')
        batch_op.drop_column('dependant_id')
    _sqlite_batch_line_guards()
    with op.batch_alter_table('file_layouts') as batch_op:
        batch_op.drop_column('dependants_mode')
    with op.batch_alter_table('dependants') as batch_op:
        batch_op.drop_column('disabled')
        batch_op.drop_column('student')
    op.drop_index('ix_outside_coverages_coop_member', table_name='outside_coverages')
    op.drop_table('outside_coverages')
    op.drop_index('ix_dependant_registrations_coop_status', table_name='dependant_registrations')
    op.drop_index(op.f('ix_dependant_registrations_dependant_id'),
                  table_name='dependant_registrations')
    op.drop_table('dependant_registrations')
    op.drop_index(op.f('ix_family_rules_cooperative_id'), table_name='family_rules')
    op.drop_table('family_rules')
