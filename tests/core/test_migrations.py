"""Migrations: upgrade from empty to head, the models match the head, downgrade to empty and
up again — on whichever database the suite runs (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from coopreg.extensions import db, include_in_autogenerate
from tests.conftest import drop_database, fresh_database_url, make_test_app


@pytest.mark.no_transaction
def test_upgrade_downgrade_upgrade_and_models_match_head():
    url = fresh_database_url("migrations")
    app = make_test_app(url)
    try:
        with app.app_context():
            upgrade()
            with db.engine.connect() as conn:
                context = MigrationContext.configure(conn, opts={
                    "compare_type": True, "render_as_batch": True,
                    "include_object": include_in_autogenerate})
                diff = compare_metadata(context, db.metadata)
            assert diff == [], f"models and migrations differ: {diff}"
            tables = set(sa.inspect(db.engine).get_table_names())
            assert {"members", "users", "cooperatives", "audit_events"} <= tables

            downgrade(revision="base")
            left = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
            assert left == set()

            upgrade()
            assert "members" in sa.inspect(db.engine).get_table_names()
    finally:
        with app.app_context():
            db.engine.dispose()
        drop_database(url)


def test_audit_log_is_append_only_in_the_database(app, coop):
    with app.app_context():
        assert db.session.scalar(sa.text("SELECT count(*) FROM audit_events")) > 0
        for statement in ("UPDATE audit_events SET actor_label = 'forged'",
                          "DELETE FROM audit_events"):
            with pytest.raises(sa.exc.DatabaseError), db.session.begin_nested():
                db.session.execute(sa.text(statement))


def test_every_cooperative_owned_table_is_declared_through_the_model_base(app):
    """The tenancy guard treats a table with a cooperative_id as the cooperative's: each one is
    a `CooperativeOwned` model, so its id and cooperative_id are declared once (core/models)."""
    from coopreg.core.models import CooperativeOwned

    owned = {m.class_.__table__.name for m in db.Model.registry.mappers
             if issubclass(m.class_, CooperativeOwned)}
    with_column = {t.name for t in db.metadata.tables.values() if "cooperative_id" in t.c}
    # the audit log outlives a cooperative's rows (no foreign key, nullable); a sequence's key
    # is (cooperative, name); the register's counters (kept by triggers, migration 0027) are
    # keyed by (cooperative, status) and (agreement, status, member status); the money's
    # running totals (migration 0040) by (agreement, period) and cooperative
    assert with_column - owned == {"audit_events", "number_sequences", "member_counts",
                                   "registration_counts", "period_totals", "credit_totals"}
    assert owned <= with_column
    assert len(owned) > 30
