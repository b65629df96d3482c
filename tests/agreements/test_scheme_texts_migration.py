"""Migration 0007 adds the schemes' texts for members and the cooperative's contact, and takes
them away again, keeping the rows (on whichever database the suite runs: SQLite and
PostgreSQL)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from coopreg.extensions import db
from tests.conftest import drop_database, fresh_database_url, make_test_app


def _columns(table: str = "schemes") -> set[str]:
    return {c["name"] for c in sa.inspect(db.engine).get_columns(table)}


@pytest.mark.no_transaction
def test_0007_adds_and_removes_the_scheme_texts_keeping_the_schemes():
    url = fresh_database_url("migration_0007")
    app = make_test_app(url)
    try:
        with app.app_context():
            upgrade(revision="0006")
            assert not {"member_benefits", "how_to_claim"} & _columns()
            assert "contact" not in _columns("cooperatives")
            # rows written with SQL: the models already describe the head
            with db.engine.begin() as conn:
                cooperative_id = conn.execute(sa.text(
                    "INSERT INTO cooperatives (code, name, country, currency, locale, "
                    "last_member_number, created_at, updated_at) VALUES ('MIG7', "
                    "'Migración', 'CR', 'CRC', 'es', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) "
                    "RETURNING id")).scalar_one()
                institution_id = conn.execute(sa.text(
                    "INSERT INTO institutions (cooperative_id, name, short_name, country, "
                    "created_at, updated_at) VALUES (:c, 'Caja', 'CCSS', 'CR', "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) RETURNING id"),
                    {"c": cooperative_id}).scalar_one()
                conn.execute(sa.text(
                    "INSERT INTO schemes (cooperative_id, institution_id, name, created_at, "
                    "updated_at) VALUES (:c, :i, 'Salud', CURRENT_TIMESTAMP, "
                    "CURRENT_TIMESTAMP)"), {"c": cooperative_id, "i": institution_id})

            upgrade(revision="0007")
            assert {"member_benefits", "how_to_claim"} <= _columns()
            assert "contact" in _columns("cooperatives")
            with db.engine.begin() as conn:
                row = conn.execute(sa.text(
                    "SELECT name, member_benefits, how_to_claim FROM schemes")).one()
                assert tuple(row) == ("Salud", None, None)
                conn.execute(sa.text("UPDATE schemes SET member_benefits = 'Consultas', "
                                     "how_to_claim = 'Traiga su cédula'"))
                conn.execute(sa.text("UPDATE cooperatives SET contact = 'Tel. 2546-0000'"))

            downgrade(revision="0006")
            assert not {"member_benefits", "how_to_claim"} & _columns()
            assert "contact" not in _columns("cooperatives")
            with db.engine.connect() as conn:
                assert conn.execute(sa.text("SELECT name FROM schemes")).scalar_one() == "Salud"
                assert conn.execute(sa.text("SELECT code FROM cooperatives")).scalar_one() \
                    == "MIG7"

            upgrade()
            with db.engine.connect() as conn:
                assert tuple(conn.execute(sa.text(
                    "SELECT name, member_benefits FROM schemes")).one()) == ("Salud", None)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        drop_database(url)
