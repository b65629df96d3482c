"""The pages that grew with the register (issue 25): the collection sheet's first page, the
coverage-gap report, the agreement page's / campaign funnel's counts, and the admin's and
secretary's dashboards with nothing kept (the first view after a register change), timed at
N members on SQLite and PostgreSQL, with the service functions the pages call (no HTTP, no cache).

    python -m bench.pages_scale --members 100000 --databases sqlite,postgresql [--reuse]

The data: one cooperative, N active members (one in twenty has left), nine in ten registered
under an agreement in force, three monthly dues each, two thirds of them having paid the first
two (so every registered member owes something: the collection sheet's worst case).
`--reuse` keeps the databases of an earlier run, so the same data can be timed with another
version of the code (run it with PYTHONPATH pointing at that version's tree); the output is
one line per page.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, date, datetime

import sqlalchemy as sa

from bench.common import BENCH_DIR, PG_BASE, median_seconds
from bench.generate import load_members

FLAT = {"rule_kind": "flat", "flat_amount": "1000", "member_share_percent": "60",
        "schedule": "monthly", "due_day": 10, "grace_days": 5, "remittance_deadline_days": 15}
MONTHS = (date(2025, 10, 1), date(2025, 11, 1), date(2025, 12, 1))


def _url(kind: str) -> str:
    if kind == "sqlite":
        return f"sqlite:///{BENCH_DIR / 'pages_scale.sqlite'}"
    return sa.engine.make_url(PG_BASE).set(database="coopreg_bench_pages_scale").render_as_string(
        hide_password=False)


def _exists(kind: str) -> bool:
    if kind == "sqlite":
        return (BENCH_DIR / "pages_scale.sqlite").exists()
    engine = sa.create_engine(sa.engine.make_url(PG_BASE))
    with engine.connect() as conn:
        found = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = "
                                    "'coopreg_bench_pages_scale'"))
    engine.dispose()
    return bool(found)


def setup(kind: str, members: int) -> None:
    from flask_migrate import upgrade

    from bench.common import fresh_database
    from config import TestConfig
    from coopreg import create_app
    from coopreg.agreements import services as agreements
    from coopreg.contributions.services import generate_dues
    from coopreg.cooperatives.services import create_cooperative
    from coopreg.core.audit import acting_as
    from coopreg.extensions import db

    url = fresh_database(kind, "pages_scale")
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url)
    with app.app_context(), acting_as(None, "bench"):
        upgrade()
        cooperative = create_cooperative("SCALE", "Scale", "CR", "CRC")
        institution = agreements.create_institution(cooperative, "Fund", "FUND", "CR")
        health = agreements.create_scheme(institution, "Health", ["medical_care", "sickness"])
        pensions = agreements.create_scheme(institution, "Pensions", ["old_age"])
        agreement = agreements.create_agreement(
            cooperative, {"institution_id": institution.id, "reference": "SCALE",
                          "valid_from": date(2025, 1, 1),
                          "scheme_ids": [health.id, pensions.id]}, FLAT, None)
        cooperative_id, agreement_id = cooperative.id, agreement.id
        db.session.commit()
        db.session.close()
        now = datetime.now(UTC)
        with db.engine.begin() as conn:
            load_members(conn, cooperative_id, "CR", members, seed=25)
            conn.execute(sa.text("UPDATE members SET status = 'left', left_on = :d "
                                 "WHERE cooperative_id = :c AND id % 20 = 0"),
                         {"c": cooperative_id, "d": date(2025, 6, 30)})
            conn.execute(sa.text(
                "INSERT INTO registrations (cooperative_id, member_id, agreement_id, status, "
                "coverage_start, exit_flagged, created_at, updated_at, status_changed_at) "
                "SELECT cooperative_id, id, :a, 'registered', :start, false, :now, :now, :now "
                "FROM members WHERE cooperative_id = :c AND id % 10 <> 3"),
                {"a": agreement_id, "c": cooperative_id, "start": date(2025, 1, 1),
                 "now": now})
        generate_dues(db.session.get(type(agreement), agreement_id), MONTHS[0], MONTHS[-1])
        db.session.commit()
        with db.engine.begin() as conn:  # two thirds of them paid their first two dues
            conn.execute(sa.text(
                "INSERT INTO receipts (cooperative_id, number, member_id, received_on, "
                "amount_minor, method, idempotency_key, created_at) "
                "SELECT cooperative_id, id, id, :on, 120000, 'cash', 'bench-' || id, :now "
                "FROM members WHERE cooperative_id = :c AND id % 10 <> 3 AND id % 3 <> 0"),
                {"c": cooperative_id, "on": date(2025, 11, 20), "now": now})
            conn.execute(sa.text(
                "INSERT INTO allocations (cooperative_id, receipt_id, due_id, amount_minor, "
                "created_at) SELECT d.cooperative_id, r.id, d.id, d.member_share_minor, :now "
                "FROM dues d JOIN receipts r ON r.member_id = d.member_id "
                "WHERE d.period IN (:first, :second)"),
                {"first": MONTHS[0], "second": MONTHS[1], "now": now})
        with db.engine.connect() as conn:
            conn.execute(sa.text("ANALYZE"))
            conn.commit()
        db.engine.dispose()


def measure(kind: str, repeat: int) -> list[tuple[str, float | str]]:
    from config import TestConfig
    from coopreg import create_app
    from coopreg.agreements import services as agreements
    from coopreg.agreements.coverage import coverage_report
    from coopreg.agreements.models import Agreement
    from coopreg.auth.models import Role
    from coopreg.contributions import services as contributions
    from coopreg.contributions.reports import arrears, reconciliation
    from coopreg.extensions import db
    from coopreg.reports.dashboard import build_dashboard

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=_url(kind))

    def fresh_dashboard(role):
        # what the first visitor after a register change waits for: nothing kept
        app.extensions.pop("coopreg.kept", None)
        return build_dashboard(agreement.cooperative, role, today=as_of)

    results: list[tuple[str, float | str]] = []
    with app.test_request_context():
        agreement = db.session.scalar(sa.select(Agreement))
        as_of = date(2025, 12, 15)
        from coopreg.members.models import Member
        from coopreg.members.services import list_members

        someone = db.session.get(Member, 500)
        word = someone.search_name.split()[-1][:5]  # part of a surname
        last4 = someone.id_number[-4:]
        pages = {
            "collection sheet, first 500": lambda: contributions.expected_collection(
                agreement, as_of, limit=500),
            "coverage-gap report": lambda: coverage_report(agreement.cooperative_id,
                                                           as_of=as_of),
            "reconciliation (one agreement)": lambda: reconciliation(agreement, today=as_of),
            "arrears, first 50": lambda: arrears(agreement.cooperative_id, limit=50,
                                                 today=date(2026, 3, 1)),
            "agreement funnel (no filter)": lambda: agreements.funnel(agreement),
            "agreement funnel (sector filter)": lambda: agreements.funnel(
                agreement, {"sector": "agriculture"}),
            f"member search, part of a name ({word!r}), first 50": lambda: list_members(
                agreement.cooperative_id, q=word),
            "member search, a name nobody has ('xqzw'), first 50": lambda: list_members(
                agreement.cooperative_id, q="xqzw"),
            f"member search, ID's last four digits ({last4}), first 50": lambda: list_members(
                agreement.cooperative_id, q=last4),
            "admin dashboard, fresh": lambda: fresh_dashboard(Role.ADMIN),
            "secretary dashboard, fresh": lambda: fresh_dashboard(Role.SECRETARY),
        }
        for name, page in pages.items():
            try:
                seconds = median_seconds(page, repeat=repeat, warmup=1)
                results.append((name, seconds))
            except Exception as error:  # noqa: BLE001 - the old sheet fails on PostgreSQL
                db.session.rollback()
                results.append((name, f"error: {type(error).__name__}"))
            db.session.rollback()
    with app.app_context():
        db.engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--label", default="this tree")
    args = parser.parse_args()
    for kind in args.databases.split(","):
        if not (args.reuse and _exists(kind)):
            started = time.perf_counter()
            setup(kind, args.members)
            print(f"# {kind}: {args.members:,} members loaded in "
                  f"{time.perf_counter() - started:.0f} s", flush=True)
        for name, value in measure(kind, args.repeat):
            shown = f"{value * 1000:,.0f} ms" if isinstance(value, float) else value
            print(f"{args.label} | {kind} | {name} | {shown}", flush=True)


if __name__ == "__main__":
    main()
