"""Migration 0007 adds the schemes' texts for members and takes them away again, keeping the
schemes (on whichever database the suite runs: SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from coopreg.cooperatives.services import create_cooperative
from coopreg.core.audit import acting_as
from coopreg.extensions import db
from tests.conftest import drop_database, fresh_database_url, make_test_app


def _columns() -> set[str]:
    return {c["name"] for c in sa.inspect(db.engine).get_columns("schemes")}


@pytest.mark.no_transaction
def test_0007_adds_and_removes_the_scheme_texts_keeping_the_schemes():
    url = fresh_database_url("migration_0007")
    app = make_test_app(url)
    try:
        with app.app_context():
            upgrade(revision="0006")
            assert not {"member_benefits", "how_to_claim"} & _columns()
            with acting_as(None, "tests"):
                cooperative = create_cooperative("MIG7", "Migración", "CR", "CRC")
                db.session.flush()
                institution_id = db.session.execute(sa.text(
                    "INSERT INTO institutions (cooperative_id, name, short_name, country, "
                    "created_at, updated_at) VALUES (:c, 'Caja', 'CCSS', 'CR', "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) RETURNING id"),
                    {"c": cooperative.id}).scalar_one()
                db.session.execute(sa.text(
                    "INSERT INTO schemes (cooperative_id, institution_id, name, created_at, "
                    "updated_at) VALUES (:c, :i, 'Salud', CURRENT_TIMESTAMP, "
                    "CURRENT_TIMESTAMP)"), {"c": cooperative.id, "i": institution_id})
                db.session.commit()
            db.session.remove()

            upgrade(revision="0007")
            assert {"member_benefits", "how_to_claim"} <= _columns()
            with db.engine.begin() as conn:
                row = conn.execute(sa.text(
                    "SELECT name, member_benefits, how_to_claim FROM schemes")).one()
                assert tuple(row) == ("Salud", None, None)
                conn.execute(sa.text("UPDATE schemes SET member_benefits = 'Consultas', "
                                     "how_to_claim = 'Traiga su cédula'"))

            downgrade(revision="0006")
            assert not {"member_benefits", "how_to_claim"} & _columns()
            with db.engine.connect() as conn:
                assert conn.execute(sa.text("SELECT name FROM schemes")).scalar_one() == "Salud"

            upgrade()
            with db.engine.connect() as conn:
                assert tuple(conn.execute(sa.text(
                    "SELECT name, member_benefits FROM schemes")).one()) == ("Salud", None)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        drop_database(url)
