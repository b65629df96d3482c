"""Synthetic data at scale: loads N realistic members (valid IDs, names of the country)
straight into the database with Core inserts in chunks (not the ORM one by one).

    python -m bench.generate --database sqlite:////tmp/big.sqlite --members 100000
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
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
    members = sa.table("members", *[sa.column(c) for c in next(iter(
        member_rows(cooperative_id, country, 1)))])
    start = time.perf_counter()
    chunk: list[dict] = []
    done = 0
    for row in member_rows(cooperative_id, country, count, seed=seed):
        chunk.append(row)
        if len(chunk) == CHUNK:
            connection.execute(members.insert(), chunk)
            done += len(chunk)
            chunk = []
            if progress:
                progress(done, count)
    if chunk:
        connection.execute(members.insert(), chunk)
        done += len(chunk)
    connection.execute(sa.text("UPDATE cooperatives SET last_member_number = :n WHERE id = :c"),
                       {"n": count, "c": cooperative_id})
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("ANALYZE members"))
    else:
        connection.execute(sa.text("ANALYZE"))
    return done / (time.perf_counter() - start)


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
