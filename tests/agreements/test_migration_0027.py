"""Migration 0027 (the register's counters): on a database that holds members in several
statuses and registrations in several statuses (one flagged for exit), down to 0032 and up
again backfills the counters equal to the recomputed counts, and the triggers keep them from
then on."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from coopreg.agreements import services
from coopreg.agreements.models import Agreement, RegistrationStatus
from coopreg.cooperatives.services import create_cooperative
from coopreg.core.audit import acting_as
from coopreg.extensions import db
from coopreg.members.models import Member, MemberStatus
from coopreg.members.services import change_member_status
from tests.agreements.test_register_counts import (
    COUNTED_MEMBERS,
    COUNTED_REGISTRATIONS,
    MEMBERS,
    REGISTRATIONS,
    _rows,
)
from tests.conftest import drop_database, fresh_database_url, make_test_app
from tests.contributions.helpers import make_agreement, make_member, register

TODAY = date(2025, 3, 3)


@pytest.fixture
def fresh_app():
    url = fresh_database_url(f"register_counts_{uuid.uuid4().hex[:8]}")
    app = make_test_app(url)
    try:
        with app.test_request_context(), acting_as(None, "tests"):
            yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        drop_database(url)


@pytest.mark.no_transaction
def test_down_to_0032_and_up_again_backfills_the_counters(fresh_app):
    upgrade()
    cooperative = create_cooperative("MIG27", "Migration", "CR", "CRC")
    agreement = make_agreement(cooperative)
    members = [make_member(cooperative, joined_on=date(2020, 1, 1)) for _ in range(5)]
    register(agreement, members[0], date(2024, 1, 1))
    register(agreement, members[1], date(2024, 1, 1), status=RegistrationStatus.SUBMITTED)
    register(agreement, members[2], date(2024, 1, 1))
    change_member_status(members[2], MemberStatus.LEFT, TODAY, "Moved away", None,
                         today=TODAY)  # flags its registration for exit
    change_member_status(members[3], MemberStatus.DECEASED, TODAY, "Died", None, today=TODAY)
    db.session.commit()
    agreement_id, member_id = agreement.id, members[4].id
    members_before, registrations_before = _rows(MEMBERS), _rows(REGISTRATIONS)
    assert _rows(COUNTED_MEMBERS) == members_before
    assert _rows(COUNTED_REGISTRATIONS) == registrations_before
    assert any(row[5] == 1 for row in registrations_before)  # the flagged one
    assert services.funnel(agreement)["not_enrolled"] == 1
    db.session.close()

    downgrade(revision="0032")
    tables = sa.inspect(db.session.connection()).get_table_names()
    assert "member_counts" not in tables and "registration_counts" not in tables
    db.session.close()

    upgrade()
    assert _rows(COUNTED_MEMBERS) == members_before  # backfilled
    assert _rows(COUNTED_REGISTRATIONS) == registrations_before
    services.enrol_member(db.session.get(Agreement, agreement_id),
                          db.session.get(Member, member_id), None, TODAY)
    db.session.commit()
    assert _rows(COUNTED_REGISTRATIONS) == _rows(REGISTRATIONS) != registrations_before
    assert services.funnel(db.session.get(Agreement, agreement_id))["not_enrolled"] == 0
