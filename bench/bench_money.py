"""Goals 5 and 6: set-based dues and the reconciliation summary.

Goal 5 generates dues for N registered members × 12 monthly periods with the service, and
compares it with a bare `INSERT … SELECT` of the same rows into the same table: the members
are registered under two agreements with the same terms; the bare statement writes the dues
of the second agreement into `dues` itself (same constraints, keys, indexes and triggers),
selecting exactly the rows the service writes for the first (the same coverage and
membership months), with the shares as constants. It runs first, so the service then writes
into a table that already holds N × 12 rows. Goal 6 times the reconciliation summary of one
agreement against the bare SQL aggregate that computes its numbers.

Run alone: `python -m bench.bench_money --members 20000 [--databases sqlite,postgresql]`.
"""

from __future__ import annotations

import calendar
import time
from datetime import UTC, date, datetime

import sqlalchemy as sa

from bench.common import Goal, drop_database, fresh_database, median_seconds
from bench.generate import load_members

FLAT = {"rule_kind": "flat", "flat_amount": "1000", "member_share_percent": "60",
        "schedule": "monthly", "due_day": 10, "grace_days": 5, "remittance_deadline_days": 15}
# the same with the state paying a quarter straight to the institution (issue 17): the
# service then also writes one payer share per due (`--payers`)
WITH_STATE = {**FLAT, "member_share_percent": "40",
              "payers": [{"kind": "state", "name": "Estado", "share_percent": "25",
                          "through_cooperative": False}]}

# an income-bracket scale (issue 17, `--scale`): three brackets of monthly income, a rate each,
# the member's and the state's shares per bracket, a presumed-income floor; a tenth of the
# members declared a new income from July (the service reads the income in force each month)
WITH_SCALE = {**WITH_STATE, "rule_kind": "scale", "floor": "300000",
              "scale": "A; 0; 10%; 40; 50\nB; 600000; 11.5%; 60; 30\nC; 1500000; 13%; 80; 10"}

BARE_DUES = """
INSERT INTO dues (cooperative_id, agreement_id, member_id, registration_id, terms_id,
                  period, due_date, grace_until, member_share_minor,
                  cooperative_share_minor, created_at)
SELECT r.cooperative_id, r.agreement_id, r.member_id, r.id, :terms_id, b.period,
       b.due_date, b.grace_until, 60000, 40000, :now
FROM registrations r JOIN members m ON m.id = r.member_id CROSS JOIN bench_months b
WHERE r.agreement_id = :agreement_id
  AND r.coverage_start <= b.month_last AND (r.coverage_end IS NULL OR r.coverage_end >= b.period)
  AND m.joined_on <= b.month_last AND (m.left_on IS NULL OR m.left_on >= b.period)
"""


def _setup(kind: str, members: int, payers: bool = False, scale: bool = False):
    """A cooperative with `members` members, each registered under two agreements with the
    same flat terms (one for the service, one for the bare statement)."""
    from flask_migrate import upgrade

    from config import TestConfig
    from coopreg import create_app
    from coopreg.agreements import services as agreements
    from coopreg.cooperatives.services import create_cooperative
    from coopreg.core.audit import acting_as
    from coopreg.extensions import db

    url = fresh_database(kind, "money")
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url)
    with app.app_context(), acting_as(None, "bench"):
        upgrade()
        cooperative = create_cooperative("MONEY", "Money", "CR", "CRC")
        institution = agreements.create_institution(cooperative, "Fund", "FUND", "CR")
        scheme = agreements.create_scheme(institution, "Health", ["medical_care"])
        made = [agreements.create_agreement(
            cooperative, {"institution_id": institution.id, "reference": reference,
                          "valid_from": date(2025, 1, 1), "scheme_ids": [scheme.id]},
            (WITH_SCALE if scale else WITH_STATE) if (payers or scale) and reference == "BENCH"
            else FLAT, None)
            for reference in ("BENCH", "BARE")]
        ids = (cooperative.id, made[0].id, made[0].terms[0].id, made[1].id,
               made[1].terms[0].id)
        db.session.commit()
        db.session.close()
        with db.engine.begin() as conn:
            load_members(conn, ids[0], "CR", members, seed=5)
            for agreement_id in (ids[1], ids[3]):
                conn.execute(sa.text(
                    "INSERT INTO registrations (cooperative_id, member_id, agreement_id, "
                    "status, coverage_start, exit_flagged, created_at, updated_at) "
                    "SELECT cooperative_id, id, :a, 'registered', :start, false, :now, :now "
                    "FROM members WHERE cooperative_id = :c"),
                    {"a": agreement_id, "c": ids[0], "start": date(2025, 1, 1),
                     "now": datetime.now(UTC)})
            if scale:
                conn.execute(sa.text(
                    "INSERT INTO income_declarations (cooperative_id, member_id, "
                    "effective_from, income_minor, created_at) "
                    "SELECT cooperative_id, id, :from, COALESCE(declared_income_minor, 0) * 2, "
                    ":now FROM members WHERE cooperative_id = :c AND id % 10 = 0"),
                    {"c": ids[0], "from": date(2025, 7, 1), "now": datetime.now(UTC)})
            conn.execute(sa.text("CREATE TABLE bench_months (period DATE, month_last DATE, "
                                 "due_date DATE, grace_until DATE)"))
            conn.execute(sa.text("INSERT INTO bench_months VALUES (:p, :l, :d, :g)"),
                         [{"p": date(2025, m, 1), "d": date(2025, m, 10),
                           "g": date(2025, m, 15),
                           "l": date(2025, m, calendar.monthrange(2025, m)[1])}
                          for m in range(1, 13)])
        with db.engine.connect() as conn:  # fresh statistics for both, as a live system has
            conn.execute(sa.text("ANALYZE"))
            conn.commit()
    return app, url, ids


def goal_dues(kind: str, members: int, payers: bool = False, scale: bool = False
              ) -> tuple[Goal, object, str, tuple]:
    from coopreg.agreements.models import Agreement
    from coopreg.contributions.services import generate_dues
    from coopreg.core.audit import acting_as
    from coopreg.extensions import db

    what = (", from an income-bracket scale with a state share" if scale
            else ", with a state share" if payers else "")
    goal = Goal(5, f"set-based dues ({kind}{what})",
                f"dues for {members:,} members × 12 periods "
                "≤ 3× a bare INSERT … SELECT of the same rows on the same database"
                + (" (the service also writes the state's share of each due)"
                   if payers or scale else ""))
    app, url, (cooperative_id, agreement_id, _, bare_agreement_id, bare_terms_id) = _setup(
        kind, members, payers, scale)
    with app.app_context(), acting_as(None, "bench"):
        # the baseline: the same rows, written by one bare INSERT … SELECT into `dues` itself
        started = time.perf_counter()
        with db.engine.begin() as conn:
            bare_rows = conn.execute(sa.text(BARE_DUES),
                                     {"terms_id": bare_terms_id,
                                      "agreement_id": bare_agreement_id,
                                      "now": datetime.now(UTC)}).rowcount
        bare = time.perf_counter() - started

        agreement = db.session.get(Agreement, agreement_id)
        started = time.perf_counter()
        result = generate_dues(agreement, date(2025, 1, 1), date(2025, 12, 1))
        db.session.commit()
        service = time.perf_counter() - started
        started = time.perf_counter()
        again = generate_dues(db.session.get(Agreement, agreement_id), date(2025, 1, 1),
                              date(2025, 12, 1))
        db.session.commit()
        rerun = time.perf_counter() - started
    ratio = service / bare
    goal.met = ratio <= 3 and bare_rows == result.created
    goal.lines = [f"- dues created: {result.created:,} (a second run created {again.created});"
                  f" the bare statement wrote {bare_rows:,}",
                  f"- bare INSERT … SELECT: {bare:.2f} s "
                  f"({result.created / bare:,.0f} rows/s)",
                  f"- generate_dues: {service:.2f} s ({result.created / service:,.0f} rows/s);"
                  f" rerun (idempotent, nothing new): {rerun:.2f} s",
                  f"- ratio: {ratio:.2f}×"]
    return goal, app, url, (cooperative_id, agreement_id)


def goal_reconciliation(kind: str, app, ids) -> Goal:
    from coopreg.agreements.models import Agreement
    from coopreg.contributions.reports import reconciliation
    from coopreg.extensions import db

    cooperative_id, agreement_id = ids
    goal = Goal(6, f"reconciliation ({kind})", "the reconciliation summary of one agreement "
                "≤ 2× the bare SQL aggregate that computes its numbers")
    bare_sql = sa.text("""
        SELECT d.period, count(*), sum(d.member_share_minor), sum(d.cooperative_share_minor),
               coalesce(sum(a.paid), 0)
        FROM dues d LEFT JOIN (SELECT due_id, sum(amount_minor) AS paid FROM allocations
                               GROUP BY due_id) a ON a.due_id = d.id
        WHERE d.cooperative_id = :c AND d.agreement_id = :a GROUP BY d.period""")
    with app.app_context():
        def bare():
            db.session.execute(bare_sql, {"c": cooperative_id, "a": agreement_id}).all()
            db.session.rollback()

        def service():
            reconciliation(db.session.get(Agreement, agreement_id), today=date(2026, 1, 31))
            db.session.rollback()

        bare_time = median_seconds(bare, repeat=7, warmup=1)
        service_time = median_seconds(service, repeat=7, warmup=1)
    ratio = service_time / bare_time
    goal.met = ratio <= 2
    goal.lines = [f"- bare aggregate: {bare_time * 1000:.0f} ms",
                  f"- reconciliation summary: {service_time * 1000:.0f} ms",
                  f"- ratio: {ratio:.2f}×"]
    return goal


def run(kind: str, members: int, payers: bool = False, scale: bool = False) -> list[Goal]:
    goal5, app, url, ids = goal_dues(kind, members, payers, scale)
    try:
        goal6 = goal_reconciliation(kind, app, ids)
    finally:
        from coopreg.extensions import db
        with app.app_context():
            db.engine.dispose()
        drop_database(url)
    return [goal5, goal6]


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--payers", action="store_true",
                        help="the service's terms name the state as a third payer")
    parser.add_argument("--scale", action="store_true",
                        help="the service's terms are an income-bracket scale with a state "
                             "share (a tenth of the members declare a new income mid-year)")
    args = parser.parse_args()
    for database in args.databases.split(","):
        for measured in run(database, args.members, args.payers, args.scale):
            print(f"== goal {measured.number} ({database}): "
                  f"{'met' if measured.met else 'NOT met'}", flush=True)
            print("\n".join(measured.lines), flush=True)
