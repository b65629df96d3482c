"""register counts: members per cooperative and status, registrations per agreement, status
and their member's status (with how many are flagged for exit), kept by triggers in the same
transaction as every insert, update (one row or set-based) and delete of members and
registrations, backfilled from the register (issue 25: the agreement page, the campaign funnel
and the dashboards read a few counters instead of the whole register); on SQLite, an FTS5 table
(trigram tokenizer) over the members' name, national ID and phone, kept by triggers, for the
contains-searches

Revision ID: 0027
Revises: 0025
Create Date: 2026-12-04

"""
from alembic import op
import sqlalchemy as sa


revision = '0027'
down_revision = '0037'
branch_labels = None
depends_on = None

_FLAG = "CASE WHEN {row}.exit_flagged THEN 1 ELSE 0 END"
_UPSERT_REGISTRATIONS = (
    " ON CONFLICT (agreement_id, status, member_status) DO UPDATE SET "
    "n = registration_counts.n + excluded.n, "
    "flagged = registration_counts.flagged + excluded.flagged")


def _registration(row: str, sign: str) -> str:
    """Counts one registration (NEW or OLD) in, or out, with its member's current status."""
    return ("INSERT INTO registration_counts "
            "(cooperative_id, agreement_id, status, member_status, n, flagged) "
            f"SELECT {row}.cooperative_id, {row}.agreement_id, {row}.status, m.status, "
            f"{sign}1, {sign}{_FLAG.format(row=row)} "
            f"FROM members m WHERE m.id = {row}.member_id" + _UPSERT_REGISTRATIONS)


def _members_registrations(row: str, sign: str) -> str:
    """Moves a member's registrations in (NEW) or out of (OLD) the member's status bucket."""
    return ("INSERT INTO registration_counts "
            "(cooperative_id, agreement_id, status, member_status, n, flagged) "
            f"SELECT r.cooperative_id, r.agreement_id, r.status, {row}.status, "
            f"{sign}count(*), {sign}sum({_FLAG.format(row='r')}) "
            f"FROM registrations r WHERE r.member_id = {row}.id "
            "GROUP BY r.cooperative_id, r.agreement_id, r.status" + _UPSERT_REGISTRATIONS)


def _member(row: str, sign: str) -> str:
    return ("INSERT INTO member_counts (cooperative_id, status, n) "
            f"VALUES ({row}.cooperative_id, {row}.status, {sign}1) "
            "ON CONFLICT (cooperative_id, status) DO UPDATE SET "
            "n = member_counts.n + excluded.n")


# SQLite (updates rows in place): one row at a time
# (trigger name, table, event, statements of its body)
TRIGGERS = (
    ("registrations_counts_insert", "registrations", "INSERT", [_registration("NEW", "")]),
    ("registrations_counts_delete", "registrations", "DELETE", [_registration("OLD", "-")]),
    ("registrations_counts_update", "registrations",
     "UPDATE OF status, exit_flagged, agreement_id, member_id, cooperative_id",
     [_registration("OLD", "-"), _registration("NEW", "")]),
    ("members_counts_insert", "members", "INSERT", [_member("NEW", "")]),
    ("members_counts_delete", "members", "DELETE", [_member("OLD", "-")]),
    ("members_counts_update", "members", "UPDATE OF status, cooperative_id",
     [_member("OLD", "-"), _member("NEW", ""),
      _members_registrations("OLD", "-"), _members_registrations("NEW", "")]),
)


# PostgreSQL: the same counts per statement, from its transition tables (one upsert of a few
# grouped rows per statement instead of one per row: a counter row updated once per row of a
# 100,000-row insert would grow a chain of 100,000 versions in one transaction). Transition
# tables cannot go with "UPDATE OF columns": the update triggers net out what did not move.
_NET = "HAVING sum(d.sign) <> 0 OR sum(CASE WHEN {flag} THEN d.sign ELSE 0 END) <> 0"


def _union(columns: str, sources: tuple[tuple[str, int], ...]) -> str:
    return " UNION ALL ".join(f"SELECT {columns}, {sign} AS sign FROM {table}"
                              for table, sign in sources)


def _pg_registrations(*sources: tuple[str, int]) -> str:
    rows = _union("cooperative_id, agreement_id, member_id, status, exit_flagged", sources)
    return ("INSERT INTO registration_counts "
            "(cooperative_id, agreement_id, status, member_status, n, flagged) "
            "SELECT d.cooperative_id, d.agreement_id, d.status, m.status, sum(d.sign), "
            "sum(CASE WHEN d.exit_flagged THEN d.sign ELSE 0 END) "
            f"FROM ({rows}) d JOIN members m ON m.id = d.member_id "
            "GROUP BY d.cooperative_id, d.agreement_id, d.status, m.status "
            + _NET.format(flag="d.exit_flagged") + _UPSERT_REGISTRATIONS)


def _pg_members(*sources: tuple[str, int]) -> str:
    rows = _union("cooperative_id, status", sources)
    return ("INSERT INTO member_counts (cooperative_id, status, n) "
            f"SELECT d.cooperative_id, d.status, sum(d.sign) FROM ({rows}) d "
            "GROUP BY d.cooperative_id, d.status HAVING sum(d.sign) <> 0 "
            "ON CONFLICT (cooperative_id, status) DO UPDATE SET "
            "n = member_counts.n + excluded.n")


def _pg_members_registrations() -> str:
    rows = _union("id, status", (("old_rows", -1), ("new_rows", 1)))
    return ("INSERT INTO registration_counts "
            "(cooperative_id, agreement_id, status, member_status, n, flagged) "
            "SELECT r.cooperative_id, r.agreement_id, r.status, d.status, sum(d.sign), "
            "sum(CASE WHEN r.exit_flagged THEN d.sign ELSE 0 END) "
            f"FROM ({rows}) d JOIN registrations r ON r.member_id = d.id "
            "GROUP BY r.cooperative_id, r.agreement_id, r.status, d.status "
            + _NET.format(flag="r.exit_flagged") + _UPSERT_REGISTRATIONS)


# (trigger name, table, event, transition tables, statements of its body)
PG_TRIGGERS = (
    ("registrations_counts_insert", "registrations", "INSERT", "NEW TABLE AS new_rows",
     [_pg_registrations(("new_rows", 1))]),
    ("registrations_counts_delete", "registrations", "DELETE", "OLD TABLE AS old_rows",
     [_pg_registrations(("old_rows", -1))]),
    ("registrations_counts_update", "registrations", "UPDATE",
     "OLD TABLE AS old_rows NEW TABLE AS new_rows",
     [_pg_registrations(("old_rows", -1), ("new_rows", 1))]),
    ("members_counts_insert", "members", "INSERT", "NEW TABLE AS new_rows",
     [_pg_members(("new_rows", 1))]),
    ("members_counts_delete", "members", "DELETE", "OLD TABLE AS old_rows",
     [_pg_members(("old_rows", -1))]),
    ("members_counts_update", "members", "UPDATE",
     "OLD TABLE AS old_rows NEW TABLE AS new_rows",
     [_pg_members(("old_rows", -1), ("new_rows", 1)), _pg_members_registrations()]),
)

# SQLite: the members' contains-searches (name, national ID, phone) read an FTS5 table with
# the trigram tokenizer instead of every member (PostgreSQL keeps its pg_trgm indexes)
SEARCHED = "search_name, id_number, phone"
SEARCH_TRIGGERS = {
    "members_search_insert": "AFTER INSERT ON members BEGIN "
    f"INSERT INTO members_search (rowid, {SEARCHED}) "
    "VALUES (NEW.id, NEW.search_name, NEW.id_number, NEW.phone); END",
    "members_search_delete": "AFTER DELETE ON members BEGIN "
    f"INSERT INTO members_search (members_search, rowid, {SEARCHED}) "
    "VALUES ('delete', OLD.id, OLD.search_name, OLD.id_number, OLD.phone); END",
    "members_search_update": f"AFTER UPDATE OF {SEARCHED} ON members BEGIN "
    f"INSERT INTO members_search (members_search, rowid, {SEARCHED}) "
    "VALUES ('delete', OLD.id, OLD.search_name, OLD.id_number, OLD.phone); "
    f"INSERT INTO members_search (rowid, {SEARCHED}) "
    "VALUES (NEW.id, NEW.search_name, NEW.id_number, NEW.phone); END",
}


def upgrade():
    op.create_table('member_counts',
    sa.Column('cooperative_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'],
                            name=op.f('fk_member_counts_cooperative_id_cooperatives')),
    sa.PrimaryKeyConstraint('cooperative_id', 'status', name=op.f('pk_member_counts'))
    )
    op.create_table('registration_counts',
    sa.Column('cooperative_id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('member_status', sa.String(length=20), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.Column('flagged', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'],
                            name=op.f('fk_registration_counts_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'],
                            name=op.f('fk_registration_counts_agreement_id_agreements')),
    sa.PrimaryKeyConstraint('agreement_id', 'status', 'member_status',
                            name=op.f('pk_registration_counts'))
    )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name, table, event, statements in TRIGGERS:
            body = "".join(f"{s}; " for s in statements)
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {body}END")
    elif dialect == "postgresql":
        for name, table, event, transitions, statements in PG_TRIGGERS:
            body = "".join(f"{s}; " for s in statements)
            op.execute(f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql "
                       f"AS $$ BEGIN {body}RETURN NULL; END $$")
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} "
                       f"REFERENCING {transitions} FOR EACH STATEMENT EXECUTE FUNCTION {name}()")
    if dialect == "sqlite":
        op.execute(f"CREATE VIRTUAL TABLE members_search USING fts5({SEARCHED}, "
                   "content='members', content_rowid='id', tokenize='trigram')")
        for name, body in SEARCH_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
        op.execute("INSERT INTO members_search (members_search) VALUES ('rebuild')")
    # the counts of the register already there, one statement each
    op.execute("""
        INSERT INTO member_counts (cooperative_id, status, n)
        SELECT cooperative_id, status, count(*) FROM members GROUP BY cooperative_id, status""")
    op.execute(f"""
        INSERT INTO registration_counts
            (cooperative_id, agreement_id, status, member_status, n, flagged)
        SELECT r.cooperative_id, r.agreement_id, r.status, m.status, count(*),
               sum({_FLAG.format(row='r')})
        FROM registrations r JOIN members m ON m.id = r.member_id
        GROUP BY r.cooperative_id, r.agreement_id, r.status, m.status""")


def downgrade():
    dialect = op.get_bind().dialect.name
    for name, table, _event, _statements in TRIGGERS:
        if dialect == "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        elif dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    if dialect == "sqlite":
        for name in SEARCH_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS members_search")
    op.drop_table('registration_counts')
    op.drop_table('member_counts')
