"""Migration 0008 (the dues' composite key) on a database that holds dues, allocations and
receipts: down to 0007 and up again keeps every row, the keys and the append-only guards;
a due that disagrees with its registration stops the upgrade and changes nothing."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from coopreg.contributions import services
from coopreg.cooperatives.services import create_cooperative
from coopreg.core.audit import acting_as
from coopreg.extensions import db
from tests.conftest import drop_database, fresh_database_url, make_test_app
from tests.contributions.helpers import make_agreement, make_member, receipt_input, register


def _counts() -> tuple[int, int, int]:
    return tuple(db.session.scalar(sa.text(f"SELECT count(*) FROM {table}"))
                 for table in ("dues", "allocations", "receipts"))


def _dues_keys() -> set[tuple]:
    return {(tuple(key["constrained_columns"]), key["referred_table"])
            for key in sa.inspect(db.session.connection()).get_foreign_keys("dues")}


def _version() -> str:
    return db.session.scalar(sa.text("SELECT version_num FROM alembic_version"))


def _refused(statement: str) -> None:
    with pytest.raises(sa.exc.DatabaseError):
        db.session.execute(sa.text(statement))
    db.session.rollback()


def _money(cooperative_code: str):
    """An agreement, three members' dues for four months and a receipt paying 2½ of them."""
    cooperative = create_cooperative(cooperative_code, "Migration", "CR", "CRC")
    agreement = make_agreement(cooperative)
    members = [make_member(cooperative) for _ in range(3)]
    registrations = [register(agreement, m, date(2024, 1, 1)) for m in members]
    services.generate_dues(agreement, date(2024, 1, 1), date(2024, 4, 1))
    services.record_receipt(cooperative, receipt_input(members[0], "1500"), None,
                            today=date(2024, 6, 2))
    db.session.commit()
    return members, registrations


def _paid_through_dues() -> int:
    return db.session.scalar(sa.text(
        "SELECT sum(a.amount_minor) FROM allocations a JOIN dues d ON d.id = a.due_id"))


COMPOSITE = (("registration_id", "agreement_id", "member_id", "cooperative_id"),
             "registrations")
SINGLE = {(("cooperative_id",), "cooperatives"), (("agreement_id",), "agreements"),
          (("member_id",), "members"), (("registration_id",), "registrations"),
          (("terms_id",), "agreement_terms")}


@pytest.fixture
def fresh_app():
    url = fresh_database_url(f"dues_key_{uuid.uuid4().hex[:8]}")
    app = make_test_app(url)
    try:
        with app.app_context(), acting_as(None, "tests"):
            yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        drop_database(url)


@pytest.mark.no_transaction
def test_down_to_0007_and_up_again_keeps_the_money_and_its_guards(fresh_app):
    upgrade()
    _money("MIG8")
    before = _counts()
    assert before == (12, 3, 1) and _paid_through_dues() == 150000
    assert _dues_keys() == {COMPOSITE, (("terms_id",), "agreement_terms")}
    db.session.close()

    downgrade(revision="0007")
    assert _version() == "0007" and _counts() == before and _paid_through_dues() == 150000
    assert _dues_keys() == SINGLE
    indexes = {i["name"] for i in sa.inspect(db.session.connection()).get_indexes("dues")}
    assert {"ix_dues_member_id", "ix_dues_registration_id", "ix_dues_terms_id"} <= indexes
    _refused("DELETE FROM dues")
    db.session.close()

    upgrade(revision="0008")
    assert _version() == "0008" and _counts() == before and _paid_through_dues() == 150000
    assert _dues_keys() == {COMPOSITE, (("terms_id",), "agreement_terms")}
    _refused("DELETE FROM dues")
    _refused("UPDATE dues SET member_share_minor = 0")


@pytest.mark.no_transaction
def test_a_due_that_disagrees_with_its_registration_stops_the_upgrade(fresh_app):
    # the rows are made through today's models, then the schema taken back to 0007
    upgrade()
    members, registrations = _money("MIG6")
    other, registration = members[1].id, registrations[0].id
    db.session.close()
    downgrade(revision="0007")
    # under 0007 a due could name another member than its registration's
    db.session.execute(sa.text(
        "INSERT INTO dues (cooperative_id, agreement_id, member_id, registration_id, "
        "terms_id, period, due_date, grace_until, member_share_minor, "
        "cooperative_share_minor, created_at) SELECT cooperative_id, agreement_id, "
        ":other, registration_id, terms_id, :period, due_date, grace_until, "
        "member_share_minor, cooperative_share_minor, created_at FROM dues "
        "WHERE registration_id = :registration AND period = :first"),
        {"other": other, "registration": registration,
         "period": date(2030, 1, 1), "first": date(2024, 1, 1)})
    db.session.commit()
    before = _counts()
    db.session.close()
    # PostgreSQL refuses the new key; on SQLite the migration checks and stops (flask-migrate
    # prints its message and exits)
    with pytest.raises((sa.exc.IntegrityError, SystemExit)):
        upgrade(revision="0008")
    db.session.rollback()
    db.session.close()
    assert _version() == "0007" and _counts() == before == (13, 3, 1)
    assert _dues_keys() == SINGLE and _paid_through_dues() == 150000
