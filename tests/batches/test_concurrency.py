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
from coopreg.core.sentences import say
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


@pytest.mark.no_transaction
def test_two_sealing_jobs_at_once_write_one_file(committed_app):
    """Jobs queued for the same batch (the form refuses a second one, but two requests may
    cross): one seals, the other ends with "already sealed"."""
    from coopreg.batches import jobs as batch_jobs
    from coopreg.jobs import services as job_services
    from coopreg.jobs.models import Job, JobStatus

    app = committed_app
    with app.app_context(), acting_as(None, "tests"):
        cooperative = create_cooperative("SEALJ", "Seal jobs coop", "CR", "CRC")
        agreement = make_agreement(cooperative, "SEAL-J")
        for _ in range(3):
            ready_member(cooperative, agreement)
        batch = services.create_batch(cooperative, agreement, "enrolment", None)
        job_ids = [job_services.create_job(cooperative.id, batch_jobs.SEAL, None,
                                           {"batch_id": batch.id}).id for _ in range(2)]
        batch_id = batch.id
        db.session.commit()
    directory = Path(app.config["EXPORT_DIR"]) / "SEALJ"

    def run(i: int):
        with app.app_context():
            job_services.start_job(job_ids[i])

    run_together(2, run)
    with app.app_context():
        jobs = [db.session.get(Job, job_id) for job_id in job_ids]
        assert sorted(j.status for j in jobs) == [JobStatus.FAILED, JobStatus.SUCCEEDED]
        failed = next(j for j in jobs if j.status == JobStatus.FAILED)
        assert "already sealed" in say(failed.error)
        batch = db.session.get(Batch, batch_id)
        assert batch.status == BatchStatus.SEALED
        assert [p.name for p in directory.iterdir()] == [Path(batch.file_path).name]


@pytest.mark.no_transaction
def test_two_remittance_drafts_for_one_month_at_once_make_one(committed_app):
    """Two treasurers making the same month's remittance file at the same moment: one draft
    is made, the other is refused naming it (the agreement is locked while it checks)."""
    from tests.batches.test_remittance_once import _remitted_march

    app = committed_app
    with app.app_context(), acting_as(None, "tests"):
        cooperative = create_cooperative("REM2", "Remit coop", "CR", "CRC")
        agreement = make_agreement(cooperative, "REM-2")
        _remitted_march(cooperative, agreement)
        ids = (cooperative.id, agreement.id)
        db.session.commit()

    def draft(_i: int):
        from coopreg.agreements.models import Agreement
        from coopreg.cooperatives.models import Cooperative

        with app.app_context(), acting_as(None, "tests"):
            try:
                batch = services.create_batch(db.session.get(Cooperative, ids[0]),
                                              db.session.get(Agreement, ids[1]), "remittance",
                                              None, period="2025-03")
            except DomainError as error:
                db.session.rollback()
                return error
            db.session.commit()
            return batch.reference

    results = run_together(2, draft)
    made = [r for r in results if isinstance(r, str)]
    refusals = [r for r in results if isinstance(r, services.RemittanceFileExists)]
    assert len(made) == 1 and len(refusals) == 1, results
    assert made[0] in refusals[0].message
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Batch).where(
            Batch.agreement_id == ids[1])) == 1
