"""Synthetic data at scale: loads N realistic members (valid IDs, names of the country)
straight into the database in bulk (COPY on PostgreSQL, executemany in chunks on SQLite; not
the ORM one by one), and a year of history: an agreement, the registrations, 12 months of dues
made by the app's own set-based `generate_dues`, and receipts paying eight months for two
thirds of the members.

    python -m bench.generate --database sqlite:////tmp/big.sqlite --members 100000
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, date, datetime
from functools import lru_cache

import sqlalchemy as sa

from coopreg.core.text import fold as _fold
from coopreg.demo.people import people
from coopreg.members.services import member_number_key

CHUNK = 5_000
fold = lru_cache(maxsize=200_000)(_fold)  # names and places repeat: fold each once


def member_rows(cooperative_id: int, country: str, count: int, seed: int = 1,
                first_number: int = 1):
    """Rows for the members table, exactly as the member services would store them."""
    now = datetime.now(UTC)
    for offset, p in enumerate(people(country, count, seed=seed)):
        number = str(first_number + offset)
        surnames = " ".join(x for x in (p.last_name, p.second_last_name) if x)
        given = " ".join(x for x in (p.first_name, p.middle_name) if x)
        yield {
            "cooperative_id": cooperative_id, "member_number": number,
            "number_key": member_number_key(number),
            "first_name": p.first_name, "middle_name": p.middle_name,
            "last_name": p.last_name, "second_last_name": p.second_last_name,
            "search_name": fold(f"{surnames} {given}"), "sex": p.sex,
            "date_of_birth": p.date_of_birth, "id_type": p.id_type, "id_number": p.id_number,
            "phone": p.phone, "address": p.address, "locality": p.locality,
            "locality_key": fold(p.locality), "sector": p.sector, "occupation": p.occupation,
            "declared_income_minor": p.declared_income * 100, "joined_on": p.joined_on,
            "left_on": None, "status": "active", "status_reason": None, "status_date": None,
            "consent_given": True, "consent_date": p.joined_on,
            "consent_method": "signed_form", "notes": None,
            "created_at": now, "updated_at": now,
        }


def load_members(connection: sa.Connection, cooperative_id: int, country: str, count: int,
                 seed: int = 1, progress=None) -> float:
    """Insert `count` members for a cooperative; returns rows per second."""
    from coopreg.core.bulk import insert_rows
    from coopreg.members.models import Member

    start = time.perf_counter()
    chunk: list[dict] = []
    done = 0
    size = CHUNK * 10 if connection.dialect.name == "postgresql" else CHUNK
    for row in member_rows(cooperative_id, country, count, seed=seed):
        chunk.append(row)
        if len(chunk) == size:
            insert_rows(Member.__table__, chunk, connection)
            done += len(chunk)
            chunk = []
            if progress:
                progress(done, count)
    if chunk:
        insert_rows(Member.__table__, chunk, connection)
        done += len(chunk)
    connection.execute(sa.text("UPDATE cooperatives SET last_member_number = :n WHERE id = :c"),
                       {"n": count, "c": cooperative_id})
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("ANALYZE members"))
    else:
        connection.execute(sa.text("ANALYZE"))
    return done / (time.perf_counter() - start)


FLAT_TERMS = {"rule_kind": "flat", "flat_amount": "1000", "member_share_percent": "60",
              "schedule": "monthly", "due_day": 10, "grace_days": 5,
              "remittance_deadline_days": 15}
HISTORY_START = date(2025, 1, 1)
MONTHS = 12
PAID_MONTHS = 8


def load_history(cooperative_id: int, code: str) -> dict:
    """A year of history for a cooperative whose members are loaded: an institution with two
    schemes and an agreement in force, nine in ten active members registered (one in twenty
    has left), 12 monthly dues each made by the app's `generate_dues` (set-based), and two
    thirds of the registered members having paid their first eight months (one receipt each,
    allocated to those dues). Runs inside an app context; commits. Returns the ids the pages
    need and the seconds each step took."""
    from coopreg.agreements import services as agreements
    from coopreg.agreements.models import Agreement
    from coopreg.contributions.services import generate_dues
    from coopreg.cooperatives.models import Cooperative
    from coopreg.extensions import db

    timings: dict[str, float] = {}
    started = time.perf_counter()
    cooperative = db.session.get(Cooperative, cooperative_id)
    institution = agreements.create_institution(cooperative, "Fund", f"F{code}"[:10],
                                                cooperative.country)
    health = agreements.create_scheme(institution, "Health", ["medical_care", "sickness"])
    pensions = agreements.create_scheme(institution, "Pensions", ["old_age"])
    agreement = agreements.create_agreement(
        cooperative, {"institution_id": institution.id, "reference": f"{code}-2025",
                      "valid_from": HISTORY_START, "scheme_ids": [health.id, pensions.id]},
        FLAT_TERMS, None)
    ids = {"agreement_id": agreement.id, "institution_id": institution.id,
           "scheme_id": health.id}
    db.session.commit()
    db.session.close()  # SQLite: the session must not hold the write lock the bulk steps take
    now = datetime.now(UTC)
    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE members SET status = 'left', left_on = :d, "
                             "status_date = :d WHERE cooperative_id = :c AND id % 20 = 0"),
                     {"c": cooperative_id, "d": date(2025, 6, 30)})
        conn.execute(sa.text(
            "INSERT INTO registrations (cooperative_id, member_id, agreement_id, status, "
            "coverage_start, exit_flagged, created_at, updated_at, status_changed_at) "
            "SELECT cooperative_id, id, :a, 'registered', :start, false, :now, :now, :now "
            "FROM members WHERE cooperative_id = :c AND id % 10 <> 3"),
            {"a": ids["agreement_id"], "c": cooperative_id, "start": HISTORY_START,
             "now": now})
    timings["registrations"] = time.perf_counter() - started
    started = time.perf_counter()
    last = date(HISTORY_START.year, HISTORY_START.month + MONTHS - 1, 1)
    generate_dues(db.session.get(Agreement, ids["agreement_id"]), HISTORY_START, last)
    db.session.commit()
    timings["dues (generate_dues)"] = time.perf_counter() - started
    started = time.perf_counter()
    paid_through = date(HISTORY_START.year, HISTORY_START.month + PAID_MONTHS - 1, 1)
    with db.engine.begin() as conn:  # one receipt paying eight months, for two in three
        conn.execute(sa.text(
            "INSERT INTO receipts (cooperative_id, number, member_id, received_on, "
            "amount_minor, method, idempotency_key, created_at) "
            "SELECT cooperative_id, id, id, :on, :amount, 'cash', 'bench-' || id, :now "
            "FROM members WHERE cooperative_id = :c AND id % 10 <> 3 AND id % 3 <> 0"),
            {"c": cooperative_id, "on": date(2025, 9, 1), "now": now,
             "amount": PAID_MONTHS * 60_000})
        conn.execute(sa.text("ANALYZE"))  # the planner must know the new dues and receipts
        postgresql = conn.dialect.name == "postgresql"
        if postgresql:  # the due totals' row trigger (migration 0025), once per allocation,
            # takes most of an hour at 1,000,000 members: off for this statement, and the
            # totals then added up in one statement, as the migration's backfill does
            conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
        conn.execute(sa.text(
            "INSERT INTO allocations (cooperative_id, receipt_id, due_id, amount_minor, "
            "created_at) SELECT d.cooperative_id, r.id, d.id, d.member_share_minor, :now "
            "FROM dues d JOIN receipts r ON r.member_id = d.member_id "
            "AND r.cooperative_id = d.cooperative_id "
            "WHERE d.cooperative_id = :c AND d.period <= :through"),
            {"c": cooperative_id, "through": paid_through, "now": now})
        if postgresql:
            conn.execute(sa.text("SET LOCAL session_replication_role = origin"))
            conn.execute(sa.text(
                "INSERT INTO due_totals (due_id, paid_minor, written_off_minor) "
                "SELECT due_id, sum(amount_minor), 0 FROM allocations "
                "WHERE cooperative_id = :c GROUP BY due_id"), {"c": cooperative_id})
            # and what the allocations' own triggers keep (migration 0040): the month's
            # collected money per agreement and the cooperative's money applied to dues
            # (the due totals' insert above kept the periods' paid and fully paid figures)
            conn.execute(sa.text(
                "INSERT INTO period_totals (cooperative_id, agreement_id, period, dues, "
                "due_minor, cooperative_minor, paid_minor, written_off_minor, full_dues, "
                "full_minor, remitted_dues, remitted_minor, remitted_unpaid, "
                "remittable_dues, remittable_minor, collected_minor) "
                "SELECT d.cooperative_id, d.agreement_id, "
                "date_trunc('month', r.received_on)::date, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "
                "0, sum(a.amount_minor) FROM allocations a JOIN dues d ON d.id = a.due_id "
                "JOIN receipts r ON r.id = a.receipt_id WHERE a.cooperative_id = :c "
                "GROUP BY 1, 2, 3 ON CONFLICT (agreement_id, period) DO UPDATE SET "
                "collected_minor = period_totals.collected_minor + excluded.collected_minor"),
                {"c": cooperative_id})
            conn.execute(sa.text(
                "UPDATE credit_totals SET allocated_minor = allocated_minor + "
                "(SELECT coalesce(sum(amount_minor), 0) FROM allocations "
                "WHERE cooperative_id = :c) WHERE cooperative_id = :c"), {"c": cooperative_id})
        conn.execute(sa.text(  # the receipts' numbers are the members' ids: go on from there
            "INSERT INTO number_sequences (cooperative_id, name, last_value) "
            "SELECT :c, 'receipt', coalesce(max(number), 0) FROM receipts "
            "WHERE cooperative_id = :c"), {"c": cooperative_id})
        conn.execute(sa.text("ANALYZE"))
    timings["receipts and allocations"] = time.perf_counter() - started
    with db.engine.connect() as conn:
        ids["registration_id"], ids["member_id"] = conn.execute(sa.text(
            "SELECT r.id, r.member_id FROM registrations r JOIN receipts p "
            "ON p.member_id = r.member_id AND p.cooperative_id = r.cooperative_id "
            "WHERE r.cooperative_id = :c ORDER BY r.member_id "
            "LIMIT 1 OFFSET (SELECT count(*) / 2 FROM receipts WHERE cooperative_id = :c)"),
            {"c": cooperative_id}).one()
        ids["receipt_id"] = conn.execute(sa.text(
            "SELECT id FROM receipts WHERE cooperative_id = :c AND member_id = :m"),
            {"c": cooperative_id, "m": ids["member_id"]}).scalar()
        ids["due_id"] = conn.execute(sa.text(
            "SELECT id FROM dues WHERE cooperative_id = :c AND member_id = :m "
            "ORDER BY period DESC LIMIT 1"), {"c": cooperative_id, "m": ids["member_id"]}
        ).scalar()
    return {"ids": ids, "timings": timings}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", required=True)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--country", default="CR", choices=["CR", "PH", "BR", "AR"])
    parser.add_argument("--code", default="BENCH")
    args = parser.parse_args()

    from flask_migrate import upgrade

    from config import TestConfig
    from coopreg import create_app
    from coopreg.cooperatives.services import create_cooperative
    from coopreg.core.audit import acting_as
    from coopreg.extensions import db

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=args.database)
    with app.app_context(), acting_as(None, "bench"):
        upgrade()
        currency = {"CR": "CRC", "PH": "PHP", "BR": "BRL", "AR": "ARS"}[args.country]
        cooperative = create_cooperative(args.code, f"Bench {args.code}", args.country, currency,
                                         id_label="National ID" if args.country == "PH" else None,
                                         id_pattern="[0-9]{12}" if args.country == "PH" else None)
        cooperative_id = cooperative.id
        db.session.commit()
        db.session.close()
        with db.engine.begin() as conn:
            rate = load_members(conn, cooperative_id, args.country, args.members)
    print(f"loaded {args.members} members at {rate:,.0f} rows/s")


if __name__ == "__main__":
    main()
