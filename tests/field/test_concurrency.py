"""The same record sent by a phone several times at the same moment (a retry racing the first
try) is done once, on a database where each thread commits for real."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from coopreg.cooperatives.models import Cooperative
from coopreg.cooperatives.services import create_cooperative
from coopreg.core.audit import acting_as
from coopreg.extensions import db
from coopreg.field import services
from coopreg.members.models import Member
from tests.conftest import run_together

pytestmark = pytest.mark.no_transaction


def _send(app, cooperative_id: int, record: dict) -> dict:
    with app.test_request_context(), acting_as(None, "tests"):
        cooperative = db.session.get(Cooperative, cooperative_id)
        answer = services.sync_record(cooperative, None, "Tests", record, True, True)
        db.session.commit()
        return answer


def test_twins_sent_together_enrol_one_member(committed_app):
    app = committed_app
    with app.app_context(), acting_as(None, "tests"):
        cooperative_id = create_cooperative("FIELDC", "Field twins", "CR", "CRC").id
        db.session.commit()
    record = {"key": str(uuid.uuid4()), "kind": "enrol",
              "data": {"first_name": "Gemela", "last_name": "Campo", "sex": "female",
                       "date_of_birth": "1980-01-01", "sector": "agriculture",
                       "joined_on": date.today().isoformat()}}
    answers = run_together(6, lambda i: _send(app, cooperative_id, record))
    errors = [a for a in answers if isinstance(a, Exception)]
    assert not errors, errors[:3]
    assert sorted(a["outcome"] for a in answers) == ["already_there"] * 5 + ["created"]
    assert len({a["member_id"] for a in answers}) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Member).where(
            Member.cooperative_id == cooperative_id)) == 1
