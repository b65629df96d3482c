"""dues: one composite key to the registration instead of four single keys

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27

Dues are written a hundred thousand at a time, and PostgreSQL checks every foreign key of
every row it writes. A due's cooperative, agreement and member are its registration's, so one
key (registration_id, agreement_id, member_id, cooperative_id) → registrations replaces the
keys to cooperatives, agreements, members and registrations: one check per row instead of
four, and the three columns can no longer disagree with the registration (whose own keys
check them). The key to the terms stays. The target is a unique index on registrations
(id, agreement_id, member_id, cooperative_id).

Indexes dropped: dues.member_id (every query by member also filters the cooperative, which
`ix_dues_coop_member_due` serves), dues.registration_id and dues.terms_id (they only served
the delete checks of registrations and terms, which are never deleted).

SQLite cannot change a table's keys in place: the table is rebuilt. Dropping it leaves the
allocations and remittance lines pointing at missing dues until the rows are copied back, so
the keys are checked at commit (`defer_foreign_keys`), and the rows go through a copy rather
than a rename (renaming a table rewrites the references of the tables that point to it).
The append-only triggers go with the table and are created again.
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

DUES_KEY = ['registration_id', 'agreement_id', 'member_id', 'cooperative_id']
REGISTRATION_KEY = ['id', 'agreement_id', 'member_id', 'cooperative_id']
SINGLE_KEYS = (('cooperative_id', 'cooperatives'), ('agreement_id', 'agreements'),
               ('member_id', 'members'), ('registration_id', 'registrations'))
DROPPED_INDEXES = ('member_id', 'registration_id', 'terms_id')
COLUMNS = ('id', 'cooperative_id', 'agreement_id', 'member_id', 'registration_id', 'terms_id',
           'period', 'due_date', 'grace_until', 'member_share_minor', 'cooperative_share_minor',
           'created_at')


def _dues_table(composite: bool):
    """The dues table as 0008 (composite key) or 0005 (single keys) left it."""
    if composite:
        keys = [sa.ForeignKeyConstraint(DUES_KEY, [f'registrations.{c}' for c in REGISTRATION_KEY],
                                        name=op.f('fk_dues_registration_id_registrations'))]
    else:
        keys = [sa.ForeignKeyConstraint([column], [f'{table}.id'],
                                        name=op.f(f'fk_dues_{column}_{table}'))
                for column, table in SINGLE_KEYS]
    op.create_table('dues',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cooperative_id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('terms_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('grace_until', sa.Date(), nullable=False),
    sa.Column('member_share_minor', sa.BigInteger(), nullable=False),
    sa.Column('cooperative_share_minor', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('member_share_minor >= 0 AND cooperative_share_minor >= 0', name=op.f('ck_dues_shares_not_negative')),
    *keys,
    sa.ForeignKeyConstraint(['terms_id'], ['agreement_terms.id'], name=op.f('fk_dues_terms_id_agreement_terms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dues')),
    sa.UniqueConstraint('agreement_id', 'member_id', 'period', name=op.f('uq_dues_agreement_id_member_id_period'))
    )
    op.create_index('ix_dues_coop_agreement_period', 'dues', ['cooperative_id', 'agreement_id', 'period'], unique=False)
    op.create_index('ix_dues_coop_member_due', 'dues', ['cooperative_id', 'member_id', 'due_date', 'id'], unique=False)
    if not composite:
        for column in DROPPED_INDEXES:
            op.create_index(op.f(f'ix_dues_{column}'), 'dues', [column], unique=False)


def _rebuild_sqlite_dues(composite: bool):
    names = ', '.join(COLUMNS)
    op.execute('PRAGMA defer_foreign_keys = ON')
    op.execute(f'CREATE TABLE _dues_0008 AS SELECT {names} FROM dues')
    op.execute('DROP TABLE dues')  # its indexes and triggers go with it
    _dues_table(composite)
    op.execute(f'INSERT INTO dues ({names}) SELECT {names} FROM _dues_0008 ORDER BY id')
    op.execute('DROP TABLE _dues_0008')
    for verb in ('UPDATE', 'DELETE'):
        op.execute(f"CREATE TRIGGER dues_no_{verb.lower()} BEFORE {verb} ON dues "
                   "BEGIN SELECT RAISE(ABORT, 'dues is append-only'); END")
    broken = op.get_bind().exec_driver_sql('PRAGMA foreign_key_check(dues)').fetchall()
    if broken:
        raise RuntimeError(f'{len(broken)} dues do not match their registration '
                           f'(first: rowid {broken[0][1]}); nothing was changed')


def upgrade():
    op.create_index(op.f('uq_registrations_dues_key'), 'registrations', REGISTRATION_KEY, unique=True)
    if op.get_bind().dialect.name == 'sqlite':
        _rebuild_sqlite_dues(composite=True)
        return
    for column, table in SINGLE_KEYS:
        op.drop_constraint(op.f(f'fk_dues_{column}_{table}'), 'dues', type_='foreignkey')
    op.create_foreign_key(op.f('fk_dues_registration_id_registrations'), 'dues', 'registrations',
                          DUES_KEY, REGISTRATION_KEY)
    for column in DROPPED_INDEXES:
        op.drop_index(op.f(f'ix_dues_{column}'), table_name='dues')


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        _rebuild_sqlite_dues(composite=False)
    else:
        for column in DROPPED_INDEXES:
            op.create_index(op.f(f'ix_dues_{column}'), 'dues', [column], unique=False)
        op.drop_constraint(op.f('fk_dues_registration_id_registrations'), 'dues', type_='foreignkey')
        for column, table in SINGLE_KEYS:
            op.create_foreign_key(op.f(f'fk_dues_{column}_{table}'), 'dues', table, [column], ['id'])
    op.drop_index(op.f('uq_registrations_dues_key'), table_name='registrations')
