"""the member record institutions' forms ask for; phones in E.164

Revision ID: 0030
Revises: 0032
Create Date: 2026-12-04

Members get a name extension, mother's maiden name, civil status, nationality, tax number,
email and the official codes of their address's province, canton and district; cooperatives
get their own tax number (the employer's TIN on PhilHealth's RF-1). Phones are
rewritten in E.164, read in the cooperative's country (the phonenumbers library); a phone that
cannot be read that way is kept exactly as it was and flagged (`phone_unchecked`), never lost.
The downgrade writes the E.164 phones back as the national number's digits (the form the
former check stored) and drops the new columns.
"""
import re

from alembic import op
import sqlalchemy as sa


revision = '0030'
down_revision = '0026'
branch_labels = None
depends_on = None

CIVIL = ('single', 'married', 'common_law', 'separated', 'divorced', 'widowed')


def _phones():
    return sa.table('members', sa.column('id', sa.Integer), sa.column('phone', sa.String),
                    sa.column('phone_unchecked', sa.Boolean),
                    sa.column('cooperative_id', sa.Integer))


def upgrade():
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_extension', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('mothers_maiden_name', sa.String(length=100),
                                      nullable=True))
        batch_op.add_column(sa.Column('civil_status', sa.Enum(
            *CIVIL, name='civilstatus', native_enum=False, length=20), nullable=True))
        batch_op.add_column(sa.Column('nationality', sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column('tax_number', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('phone_unchecked', sa.Boolean(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('province_code', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('canton_code', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('district_code', sa.String(length=10), nullable=True))
    with op.batch_alter_table('cooperatives', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tax_number', sa.String(length=40), nullable=True))
    migrate_phones(op.get_bind())


def migrate_phones(connection) -> tuple[int, int]:
    """Each member's phone in E.164 for their cooperative's country, or kept as it is and
    flagged. Returns (rewritten, flagged)."""
    import phonenumbers

    members = _phones()
    countries = dict(connection.execute(sa.text('SELECT id, country FROM cooperatives')).all())
    rows = connection.execute(sa.select(members.c.id, members.c.phone, members.c.cooperative_id)
                              .where(members.c.phone.is_not(None))).all()
    rewritten = flagged = 0
    for member_id, phone, cooperative_id in rows:
        text = (phone or '').strip()
        e164 = None
        if re.fullmatch(r'\+?[0-9\s().\-/]+', text):
            try:
                number = phonenumbers.parse('+' + text[2:] if text.startswith('00') else text,
                                            (countries.get(cooperative_id) or '').upper() or None)
                if phonenumbers.is_possible_number(number):
                    e164 = phonenumbers.format_number(number,
                                                      phonenumbers.PhoneNumberFormat.E164)
            except phonenumbers.NumberParseException:
                e164 = None
        if e164 is None:
            flagged += 1
            connection.execute(members.update().where(members.c.id == member_id)
                               .values(phone_unchecked=True))
        elif e164 != phone:
            rewritten += 1
            connection.execute(members.update().where(members.c.id == member_id)
                               .values(phone=e164))
    return rewritten, flagged


def downgrade():
    import phonenumbers

    connection = op.get_bind()
    members = _phones()
    rows = connection.execute(sa.select(members.c.id, members.c.phone).where(
        members.c.phone.like('+%'), members.c.phone_unchecked.is_(False))).all()
    for member_id, phone in rows:
        try:
            number = phonenumbers.parse(phone, None)
        except phonenumbers.NumberParseException:
            continue
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        digits = re.sub(r'[^0-9]', '', national)
        if 6 <= len(digits) <= 15:
            connection.execute(members.update().where(members.c.id == member_id)
                               .values(phone=digits))
    op.drop_column('cooperatives', 'tax_number')
    # plain ALTER TABLE … DROP COLUMN (SQLite 3.35+, PostgreSQL): no copy of the members
    # table, which the rows of other tables point to
    for column in ('district_code', 'canton_code', 'province_code', 'email',
                   'phone_unchecked', 'tax_number', 'nationality', 'civil_status',
                   'mothers_maiden_name', 'name_extension'):
        op.drop_column('members', column)
