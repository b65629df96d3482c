"""Migration 0028 (payers): existing two-payer terms and dues come through exactly — the same
dues with the same member's and cooperative's shares, no third party, suspended registrations
still accruing as before — and the dues the rule computes afterwards are those dues."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from coopreg.agreements.models import Agreement
from coopreg.agreements.services import due_shares_for
from coopreg.contributions import services
from coopreg.contributions.models import Due
from coopreg.cooperatives.services import create_cooperative
from coopreg.extensions import db
from coopreg.members.models import Member
from tests.contributions.helpers import (
    SEASONAL_RATE,
    make_agreement,
    make_member,
    receipt_input,
    register,
)
from tests.contributions.test_migration_0025 import _rows, fresh_app  # noqa: F401 - fixture

DUES = ("SELECT id, agreement_id, member_id, terms_id, period, member_share_minor, "
        "cooperative_share_minor FROM dues ORDER BY id")
TERMS = ("SELECT id, agreement_id, effective_from, rule_kind, flat_amount_minor, rate_bp, "
         "floor_minor, ceiling_minor, member_share_bp FROM agreement_terms ORDER BY id")


@pytest.mark.no_transaction
def test_two_payer_terms_and_dues_come_through_0028_exactly(fresh_app):  # noqa: F811
    upgrade()
    cooperative = create_cooperative("MIG28", "Migration", "CR", "CRC")
    flat = make_agreement(cooperative)
    rate = make_agreement(cooperative, SEASONAL_RATE)
    members = [make_member(cooperative, declared_income=i)
               for i in ("250000", "1234567.89", "3000000")]
    for member in members:
        register(flat, member, date(2024, 1, 1))
        register(rate, member, date(2024, 1, 1))
    services.generate_dues(flat, date(2024, 1, 1), date(2024, 4, 1))
    services.generate_dues(rate, date(2024, 1, 1), date(2024, 12, 1))
    services.record_receipt(cooperative, receipt_input(members[0], "1500"), None,
                            today=date(2024, 6, 2))
    db.session.commit()
    db.session.close()
    downgrade(revision="0032")
    dues, terms = _rows(DUES), _rows(TERMS)
    assert len(dues) == 3 * 4 + 3 * 4
    db.session.close()
    upgrade()
    assert _rows(DUES) == dues
    assert _rows(TERMS) == terms
    assert _rows("SELECT count(*) FROM terms_payers") == [(0,)]
    assert _rows("SELECT count(*) FROM due_payer_shares") == [(0,)]
    assert _rows("SELECT DISTINCT suspended_accrue FROM agreement_terms") == [(True,)]
    for due in db.session.scalars(sa.select(Due)):
        agreement = db.session.get(Agreement, due.agreement_id)
        member = db.session.get(Member, due.member_id)
        total, member_share, thirds, cooperative_share = due_shares_for(agreement, member,
                                                                        due.period)
        assert (member_share, thirds, cooperative_share) == (
            due.member_share_minor, [], due.cooperative_share_minor)
        assert total == due.total_minor
    db.session.close()
