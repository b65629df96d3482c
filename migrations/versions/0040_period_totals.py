"""period totals: each agreement's running figures per period (dues, what was paid, fully paid,
written off, remitted, still to remit, collected in the month) and each cooperative's running
credit (money received and what of it was applied to dues), kept by triggers in the same
transaction as every due, payment, reversal, write-off and remittance line, backfilled from
the money rows; dues indexed by (agreement, period, member) for the remittance form's first
lines (issue 25: the remittance form, the reconciliation and the dashboards read one row per
period instead of every due and payment of the agreement)

Revision ID: 0040
Revises: 0038
Create Date: 2026-12-05

"""
from alembic import op
import sqlalchemy as sa


revision = '0040'
down_revision = '0039'
branch_labels = None
depends_on = None

# the additive columns of period_totals (grace_until, the latest grace day, is kept apart)
COUNTERS = ("dues", "due_minor", "cooperative_minor", "paid_minor", "written_off_minor",
            "full_dues", "full_minor", "remitted_dues", "remitted_minor", "remitted_unpaid",
            "remittable_dues", "remittable_minor", "collected_minor")
_LATEST_GRACE = ("CASE WHEN period_totals.grace_until IS NULL OR excluded.grace_until > "
                 "period_totals.grace_until THEN excluded.grace_until "
                 "ELSE period_totals.grace_until END")


def _add(values: dict[str, str], source: str, group: bool) -> str:
    """An upsert adding `values` (column → expression over `source`, whose rows carry the key
    as cooperative_id, agreement_id and period) to period_totals; `group`: one row per
    (agreement, period) of the source, the expressions being sums."""
    columns = ["cooperative_id", "agreement_id", "period", *COUNTERS, "grace_until"]
    exprs = ["k.cooperative_id", "k.agreement_id", "k.period"]
    for column in COUNTERS:
        expr = values.get(column, "0")
        exprs.append(f"sum({expr})" if group and column in values else expr)
    grace = values.get("grace_until", "NULL")
    exprs.append(f"max({grace})" if group and "grace_until" in values else grace)
    sql = (f"INSERT INTO period_totals ({', '.join(columns)}) SELECT {', '.join(exprs)} "
           f"FROM {source}")
    if group:
        sql += " GROUP BY k.cooperative_id, k.agreement_id, k.period"
    else:  # SQLite needs a WHERE before ON CONFLICT in INSERT … SELECT
        sql += " WHERE true"
    updates = [f"{c} = period_totals.{c} + excluded.{c}" for c in COUNTERS]
    if "grace_until" in values:
        updates.append(f"grace_until = {_LATEST_GRACE}")
    return sql + " ON CONFLICT (agreement_id, period) DO UPDATE SET " + ", ".join(updates)


def _both(due: str) -> str:
    return f"({due}.member_share_minor + {due}.cooperative_share_minor)"


def _flag(condition: str) -> str:
    return f"(CASE WHEN {condition} THEN 1 ELSE 0 END)"


# -- what each kind of row adds ---------------------------------------------------------------

def _dues_values(k: str = "k") -> dict[str, str]:
    """A new due: counted, its shares, its grace day; a due without a members' share is fully
    paid (and still to remit) from the start."""
    free = _flag(f"{k}.member_share_minor = 0")
    return {"dues": "1", "due_minor": f"{k}.member_share_minor",
            "cooperative_minor": f"{k}.cooperative_share_minor",
            "grace_until": f"{k}.grace_until",
            "full_dues": free, "full_minor": f"{free} * {_both(k)}",
            "remittable_dues": free, "remittable_minor": f"{free} * {_both(k)}"}


def _due_totals_values() -> dict[str, str]:
    """A due's running figures moved from (o) to (n): what was paid and written off moves,
    and the due may become fully paid or stop being so; a remitted one (r) then counts as
    remitted unpaid, another as still to remit."""
    moved = (f"({_flag('n.paid = k.member_share_minor')} - "
             f"{_flag('o.paid = k.member_share_minor')})")
    remitted = "k.remitted"
    return {"paid_minor": "n.paid - o.paid", "written_off_minor": "n.written_off - o.written_off",
            "full_dues": moved, "full_minor": f"{moved} * {_both('k')}",
            "remitted_unpaid": f"-{moved} * {remitted}",
            "remittable_dues": f"{moved} * (1 - {remitted})",
            "remittable_minor": f"{moved} * (1 - {remitted}) * {_both('k')}"}


def _line_values() -> dict[str, str]:
    """A due remitted: its line's shares; it leaves the dues to remit when fully paid (as it
    always is), else it counts as remitted unpaid."""
    full = _flag("coalesce(t.paid_minor, 0) = k.member_share_minor")
    return {"remitted_dues": "1",
            "remitted_minor": "(l.member_share_minor + l.cooperative_share_minor)",
            "remitted_unpaid": f"(1 - {full})",
            "remittable_dues": f"-{full}", "remittable_minor": f"-{full} * {_both('k')}"}


def _remitted(due: str) -> str:
    return (f"{_flag(f'EXISTS (SELECT 1 FROM remittance_lines x WHERE x.due_id = {due})')}"
            " AS remitted")


# -- SQLite: row triggers ---------------------------------------------------------------------

def _sqlite_triggers() -> dict[str, str]:
    month = "date(r.received_on, 'start of month')"
    due_totals_source = (
        "(SELECT d.cooperative_id, d.agreement_id, d.period, d.member_share_minor, "
        f"d.cooperative_share_minor, {_remitted('d.id')} FROM dues d "
        "WHERE d.id = NEW.due_id) k, (SELECT NEW.paid_minor AS paid, "
        "NEW.written_off_minor AS written_off) n, ({old}) o")
    return {
        "dues_period_totals": "AFTER INSERT ON dues BEGIN " + _add(
            _dues_values(), "(SELECT NEW.cooperative_id AS cooperative_id, "
            "NEW.agreement_id AS agreement_id, NEW.period AS period, "
            "NEW.member_share_minor AS member_share_minor, "
            "NEW.cooperative_share_minor AS cooperative_share_minor, "
            "NEW.grace_until AS grace_until) k", False) + "; END",
        "due_totals_period_totals_insert": "AFTER INSERT ON due_totals BEGIN " + _add(
            _due_totals_values(), due_totals_source.format(
                old="SELECT 0 AS paid, 0 AS written_off"), False) + "; END",
        "due_totals_period_totals_update": "AFTER UPDATE ON due_totals BEGIN " + _add(
            _due_totals_values(), due_totals_source.format(
                old="SELECT OLD.paid_minor AS paid, OLD.written_off_minor AS written_off"),
            False) + "; END",
        "remittance_lines_period_totals": "AFTER INSERT ON remittance_lines BEGIN " + _add(
            _line_values(), "(SELECT NEW.member_share_minor AS member_share_minor, "
            "NEW.cooperative_share_minor AS cooperative_share_minor) l "
            "JOIN dues k ON k.id = NEW.due_id "
            "LEFT JOIN due_totals t ON t.due_id = k.id", False) + "; END",
        "allocations_period_totals": "AFTER INSERT ON allocations BEGIN " + _add(
            {"collected_minor": "NEW.amount_minor"},
            f"(SELECT d.cooperative_id, d.agreement_id, {month} AS period "
            "FROM dues d JOIN receipts r ON r.id = NEW.receipt_id WHERE d.id = NEW.due_id) k",
            False) + "; END",
        "receipts_credit_totals": "AFTER INSERT ON receipts BEGIN "
        + _credit("NEW.cooperative_id", "NEW.amount_minor", "0") + "; END",
        "receipt_reversals_credit_totals": "AFTER INSERT ON receipt_reversals BEGIN "
        + _credit("r.cooperative_id", "-r.amount_minor", "0",
                  "receipts r WHERE r.id = NEW.receipt_id") + "; END",
        "allocations_credit_totals": "AFTER INSERT ON allocations BEGIN "
        + _credit("NEW.cooperative_id", "0", "NEW.amount_minor") + "; END",
    }


def _credit(cooperative: str, received: str, allocated: str, source: str | None = None,
            group: bool = False) -> str:
    if group:
        received, allocated = f"sum({received})", f"sum({allocated})"
    sql = "INSERT INTO credit_totals (cooperative_id, received_minor, allocated_minor) "
    if source:
        sql += f"SELECT {cooperative}, {received}, {allocated} FROM {source}"
    else:
        sql += f"VALUES ({cooperative}, {received}, {allocated})"
    if group:
        sql += f" GROUP BY {cooperative}"
    elif source:
        sql += " AND true"
    return sql + (" ON CONFLICT (cooperative_id) DO UPDATE SET "
                  "received_minor = credit_totals.received_minor + excluded.received_minor, "
                  "allocated_minor = credit_totals.allocated_minor + excluded.allocated_minor")


# -- PostgreSQL: statement triggers over the transition tables (one upsert of a few grouped
# rows per statement: dues are inserted a hundred thousand at a time) -------------------------

def _pg_triggers() -> list[tuple[str, str, str, str, str]]:
    """(name, table, event, transition tables, body)."""
    month = "date_trunc('month', r.received_on)::date"

    def due_totals(old: str, join: str) -> str:
        return _add(_due_totals_values(), (
            "new_rows nr JOIN (SELECT d.id, d.cooperative_id, d.agreement_id, d.period, "
            "d.member_share_minor, d.cooperative_share_minor, "
            f"{_remitted('d.id')} FROM dues d) k ON k.id = nr.due_id "
            "CROSS JOIN LATERAL (SELECT nr.paid_minor AS paid, "
            "nr.written_off_minor AS written_off) n "
            f"{join} CROSS JOIN LATERAL ({old}) o"), True)

    return [
        ("dues_period_totals", "dues", "INSERT", "NEW TABLE AS new_rows",
         _add(_dues_values(), "new_rows k", True)),
        ("due_totals_period_totals_insert", "due_totals", "INSERT", "NEW TABLE AS new_rows",
         due_totals("SELECT 0 AS paid, 0 AS written_off", "")),
        ("due_totals_period_totals_update", "due_totals", "UPDATE",
         "OLD TABLE AS old_rows NEW TABLE AS new_rows",
         due_totals("SELECT orow.paid_minor AS paid, orow.written_off_minor AS written_off",
                    "JOIN old_rows orow ON orow.due_id = nr.due_id")),
        ("remittance_lines_period_totals", "remittance_lines", "INSERT",
         "NEW TABLE AS new_rows",
         _add(_line_values(), "new_rows l JOIN dues k ON k.id = l.due_id "
              "LEFT JOIN due_totals t ON t.due_id = k.id", True)),
        ("allocations_period_totals", "allocations", "INSERT", "NEW TABLE AS new_rows",
         _add({"collected_minor": "a.amount_minor"},
              "new_rows a JOIN (SELECT d.id, d.cooperative_id, d.agreement_id FROM dues d) d "
              "ON d.id = a.due_id JOIN receipts r ON r.id = a.receipt_id "
              f"CROSS JOIN LATERAL (SELECT d.cooperative_id, d.agreement_id, {month} AS period) k",
              True)),
        ("receipts_credit_totals", "receipts", "INSERT", "NEW TABLE AS new_rows",
         _credit("n.cooperative_id", "n.amount_minor", "0", "new_rows n", group=True)),
        ("receipt_reversals_credit_totals", "receipt_reversals", "INSERT",
         "NEW TABLE AS new_rows",
         _credit("r.cooperative_id", "-r.amount_minor", "0",
                 "new_rows n JOIN receipts r ON r.id = n.receipt_id", group=True)),
        ("allocations_credit_totals", "allocations", "INSERT", "NEW TABLE AS new_rows",
         _credit("n.cooperative_id", "0", "n.amount_minor", "new_rows n", group=True)),
    ]


TRIGGER_TABLES = {"dues_period_totals": "dues",
                  "due_totals_period_totals_insert": "due_totals",
                  "due_totals_period_totals_update": "due_totals",
                  "remittance_lines_period_totals": "remittance_lines",
                  "allocations_period_totals": "allocations",
                  "receipts_credit_totals": "receipts",
                  "receipt_reversals_credit_totals": "receipt_reversals",
                  "allocations_credit_totals": "allocations"}


def backfill_statements(dialect: str, where: str = "true") -> list[str]:
    """The totals of the money rows already there, one statement per table (`where` narrows
    the dues and receipts read, e.g. to one cooperative: the benchmark's loader uses it)."""
    month = ("date(r.received_on, 'start of month')" if dialect == "sqlite"
             else "date_trunc('month', r.received_on)::date")
    paid = "coalesce(t.paid_minor, 0)"
    full = _flag(f"{paid} = d.member_share_minor")
    remitted = _flag("l.id IS NOT NULL")
    both = _both("d")
    columns = ", ".join(["cooperative_id", "agreement_id", "period", *COUNTERS,
                         "grace_until"])
    return [
        f"""INSERT INTO period_totals ({columns})
        SELECT cooperative_id, agreement_id, period, sum(dues), sum(due_minor),
               sum(cooperative_minor), sum(paid_minor), sum(written_off_minor),
               sum(full_dues), sum(full_minor), sum(remitted_dues), sum(remitted_minor),
               sum(remitted_unpaid), sum(remittable_dues), sum(remittable_minor),
               sum(collected_minor), max(grace_until)
        FROM (
            SELECT d.cooperative_id, d.agreement_id, d.period, 1 AS dues,
                   d.member_share_minor AS due_minor,
                   d.cooperative_share_minor AS cooperative_minor, {paid} AS paid_minor,
                   coalesce(t.written_off_minor, 0) AS written_off_minor,
                   {full} AS full_dues, {full} * {both} AS full_minor,
                   {remitted} AS remitted_dues,
                   coalesce(l.member_share_minor + l.cooperative_share_minor, 0)
                       AS remitted_minor,
                   {remitted} * (1 - {full}) AS remitted_unpaid,
                   (1 - {remitted}) * {full} AS remittable_dues,
                   (1 - {remitted}) * {full} * {both} AS remittable_minor,
                   0 AS collected_minor, d.grace_until
            FROM dues d LEFT JOIN due_totals t ON t.due_id = d.id
            LEFT JOIN remittance_lines l ON l.due_id = d.id
            WHERE {where.replace('{t}', 'd')}
            UNION ALL
            SELECT d.cooperative_id, d.agreement_id, {month}, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                   0, 0, a.amount_minor, NULL
            FROM allocations a JOIN dues d ON d.id = a.due_id
            JOIN receipts r ON r.id = a.receipt_id
            WHERE {where.replace('{t}', 'd')}) AS money
        GROUP BY cooperative_id, agreement_id, period""",
        f"""INSERT INTO credit_totals (cooperative_id, received_minor, allocated_minor)
        SELECT cooperative_id, sum(received), sum(allocated) FROM (
            SELECT r.cooperative_id, r.amount_minor AS received, 0 AS allocated
            FROM receipts r
            WHERE {where.replace('{t}', 'r')} AND NOT EXISTS (
                SELECT 1 FROM receipt_reversals v WHERE v.receipt_id = r.id)
            UNION ALL
            SELECT a.cooperative_id, 0, a.amount_minor FROM allocations a
            WHERE {where.replace('{t}', 'a')}) AS money
        GROUP BY cooperative_id""",
    ]


def upgrade():
    op.create_table('period_totals',
    sa.Column('cooperative_id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.Date(), nullable=False),
    *(sa.Column(column, sa.BigInteger(), nullable=False) for column in COUNTERS),
    sa.Column('grace_until', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'],
                            name=op.f('fk_period_totals_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'],
                            name=op.f('fk_period_totals_agreement_id_agreements')),
    sa.PrimaryKeyConstraint('agreement_id', 'period', name=op.f('pk_period_totals'))
    )
    op.create_table('credit_totals',
    sa.Column('cooperative_id', sa.Integer(), nullable=False),
    sa.Column('received_minor', sa.BigInteger(), nullable=False),
    sa.Column('allocated_minor', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'],
                            name=op.f('fk_credit_totals_cooperative_id_cooperatives')),
    sa.PrimaryKeyConstraint('cooperative_id', name=op.f('pk_credit_totals'))
    )
    op.create_index('ix_dues_coop_agreement_period_member', 'dues',
                    ['cooperative_id', 'agreement_id', 'period', 'member_id'], unique=False)
    op.drop_index('ix_dues_coop_agreement_period', table_name='dues')
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name, body in _sqlite_triggers().items():
            op.execute(f"CREATE TRIGGER {name} {body}")
    elif dialect == "postgresql":
        for name, table, event, transitions, body in _pg_triggers():
            op.execute(f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql "
                       f"AS $$ BEGIN {body}; RETURN NULL; END $$")
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} "
                       f"REFERENCING {transitions} FOR EACH STATEMENT EXECUTE FUNCTION {name}()")
    for statement in backfill_statements(dialect):
        op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    for name, table in TRIGGER_TABLES.items():
        if dialect == "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        elif dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.create_index('ix_dues_coop_agreement_period', 'dues',
                    ['cooperative_id', 'agreement_id', 'period'], unique=False)
    op.drop_index('ix_dues_coop_agreement_period_member', table_name='dues')
    op.drop_table('credit_totals')
    op.drop_table('period_totals')
