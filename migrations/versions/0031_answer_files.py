"""answer files read as people send them: the header row found below title rows, the date
order read from the file (no strftime pattern), problems kept as sentences said in the
reader's language, and uploads that expire (issue 18)

Revision ID: 0031
Revises: 0025
Create Date: 2026-12-04

"""
from alembic import op
import sqlalchemy as sa


revision = '0031'
down_revision = '0025'
branch_labels = None
depends_on = None

mappings = sa.table('ack_mappings', sa.column('id', sa.Integer),
                    sa.column('date_pattern', sa.String), sa.column('date_order', sa.String))
lines = sa.table('acknowledgement_lines', sa.column('id', sa.Integer),
                 sa.column('problem', sa.Text), sa.column('problems', sa.JSON))


def upgrade():
    with op.batch_alter_table('ack_mappings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('date_order', sa.String(length=3), nullable=True))
    conn = op.get_bind()
    # a pattern that put the month first keeps that order; any other is read from the file
    conn.execute(mappings.update().where(mappings.c.date_pattern.like('%m%d%'))
                 .values(date_order='mdy'))
    with op.batch_alter_table('ack_mappings', schema=None) as batch_op:
        batch_op.drop_column('date_pattern')

    with op.batch_alter_table('acknowledgements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('header_row', sa.Integer(), nullable=False,
                                      server_default='1'))

    with op.batch_alter_table('acknowledgement_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('problems', sa.JSON(), nullable=True))
    # problems kept before are sentences in the uploader's language: kept as they are
    for row_id, problem in conn.execute(sa.select(lines.c.id, lines.c.problem)
                                        .where(lines.c.problem.is_not(None))).all():
        conn.execute(lines.update().where(lines.c.id == row_id)
                     .values(problems=problem.split('\n')))
    with op.batch_alter_table('acknowledgement_lines', schema=None) as batch_op:
        batch_op.drop_column('problem')


def downgrade():
    conn = op.get_bind()
    with op.batch_alter_table('acknowledgement_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('problem', sa.Text(), nullable=True))
    for row_id, problems in conn.execute(sa.select(lines.c.id, lines.c.problems)
                                         .where(lines.c.problems.is_not(None))).all():
        text = '\n'.join(p if isinstance(p, str) else p.get('code', '') for p in problems or [])
        conn.execute(lines.update().where(lines.c.id == row_id).values(problem=text or None))
    with op.batch_alter_table('acknowledgement_lines', schema=None) as batch_op:
        batch_op.drop_column('problems')

    with op.batch_alter_table('acknowledgements', schema=None) as batch_op:
        batch_op.drop_column('header_row')

    with op.batch_alter_table('ack_mappings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('date_pattern', sa.String(length=20), nullable=False,
                                      server_default='%d/%m/%Y'))
    conn.execute(mappings.update().where(mappings.c.date_order == 'mdy')
                 .values(date_pattern='%m/%d/%Y'))
    with op.batch_alter_table('ack_mappings', schema=None) as batch_op:
        batch_op.drop_column('date_order')
