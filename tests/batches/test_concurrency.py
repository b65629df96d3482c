"""Two people sealing the same batch at the same moment get one file and one sealing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from coopreg.agreements.models import RegistrationEvent, RegistrationStatus
from coopreg.batches import services
from coopreg.batches.models import Batch, BatchStatus
from coopreg.cooperatives.services import create_cooperative
from coopreg.core.audit import acting_as
from coopreg.core.errors import DomainError
from coopreg.extensions import db
from tests.batches.helpers import make_agreement, ready_member
from tests.conftest import run_together


@pytest.mark.no_transaction
def test_sealing_twice_at_once_writes_one_file(committed_app):
    app = committed_app
    with app.app_context(), acting_as(None, "tests"):
        cooperative = create_cooperative("SEAL2", "Seal coop", "CR", "CRC")
        agreement = make_agreement(cooperative, "SEAL-1")
        for _ in range(5):
            ready_member(cooperative, agreement)
        batch_id = services.create_batch(cooperative, agreement, "enrolment", None).id
        db.session.commit()
    directory = Path(app.config["EXPORT_DIR"]) / "SEAL2"
    before = set(directory.iterdir()) if directory.exists() else set()

    def seal(_i: int):
        with app.app_context(), acting_as(None, "tests"):
            batch = db.session.get(Batch, batch_id)
            try:
                path = services.seal_batch(batch, None, app.config["EXPORT_DIR"])
            except DomainError as error:
                db.session.rollback()
                return error
            services.commit_sealing(path)
            return path

    results = run_together(2, seal)
    paths = [r for r in results if isinstance(r, Path)]
    refusals = [r for r in results if isinstance(r, DomainError)]
    assert len(paths) == 1 and len(refusals) == 1, results
    assert "already sealed" in refusals[0].message
    assert set(directory.iterdir()) - before == {paths[0]}
    with app.app_context():
        batch = db.session.get(Batch, batch_id)
        assert batch.status == BatchStatus.SEALED
        assert services.sha256_file(paths[0]) == batch.sha256
        submitted = db.session.scalar(select(func.count()).select_from(RegistrationEvent).where(
            RegistrationEvent.to_status == RegistrationStatus.SUBMITTED))
        assert submitted == 5
