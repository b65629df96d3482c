"""Preparing and sealing batches as background jobs: the pages send the person to the job's
page (progress, then "Continue" to the batch); failures end the job with the reason and
change nothing; a second sealing is not queued while one runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from coopreg.agreements.models import Agreement
from coopreg.batches import jobs as batch_jobs
from coopreg.batches import services
from coopreg.batches.models import Batch, BatchStatus
from coopreg.cooperatives.models import Cooperative
from coopreg.core.audit import acting_as
from coopreg.core.sentences import say
from coopreg.extensions import db
from coopreg.jobs import services as job_services
from coopreg.jobs.models import Job, JobStatus
from tests.batches.helpers import make_agreement, ready_member

CONFIRMED = {"confirmed": "y"}  # the "I understand" box of irreversible actions


@pytest.fixture
def seeded(app, coop):
    with app.app_context(), acting_as(None, "tests"):
        cooperative = db.session.get(Cooperative, coop.id)
        agreement = make_agreement(cooperative, "JOB-1")
        for _ in range(5):
            ready_member(cooperative, agreement)
        empty = make_agreement(cooperative, "JOB-EMPTY")
        db.session.commit()
        return {"agreement_id": agreement.id, "empty_id": empty.id}


def _job(app, job_id: int) -> Job:
    with app.app_context():
        job = db.session.get(Job, job_id)
        db.session.expunge(job)
        return job


def _job_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)
    match = re.fullmatch(r".*/jobs/(\d+)", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def _draft(client, agreement_id, **extra) -> int:
    return _job_id(client.post("/batches/new", data={"agreement_id": agreement_id,
                                                    "kind": "enrolment", "policy": "exclude",
                                                    **extra}))


def _batches(app) -> list[Batch]:
    with app.app_context():
        rows = db.session.scalars(select(Batch).order_by(Batch.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def test_preparing_and_sealing_go_through_the_job_page(client, app, as_role, seeded):
    as_role("secretary")
    job_id = _draft(client, seeded["agreement_id"])
    job = _job(app, job_id)
    assert (job.kind, job.status) == (batch_jobs.DRAFT, JobStatus.SUCCEEDED)
    [batch] = _batches(app)
    assert batch.status == BatchStatus.DRAFT and job.result["batch_id"] == batch.id
    progress = client.get(f"/jobs/{job_id}/status").get_json()
    assert progress["percent"] == 100 and progress["total"] == 5
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "Preparing a batch" in page and f"Draft {batch.reference} made" in page
    assert f'href="/batches/{batch.id}">Continue' in page

    job_id = _job_id(client.post(f"/batches/{batch.id}/seal", data=CONFIRMED))
    job = _job(app, job_id)
    assert job.status == JobStatus.SUCCEEDED, job.error
    [batch] = _batches(app)
    assert batch.status == BatchStatus.SEALED
    assert services.sha256_file(Path(app.config["EXPORT_DIR"]) / batch.file_path) == batch.sha256
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "Sealing a batch" in page and "is sealed" in page
    assert f'href="/batches/{batch.id}">Continue' in page
    # a finished job goes on to its next page by itself, no script needed
    assert f'<meta http-equiv="refresh" content="3; url=/batches/{batch.id}">' in page


def test_refresh_and_supersede_run_as_jobs(client, app, as_role, seeded):
    as_role("admin")
    _draft(client, seeded["agreement_id"])
    [batch] = _batches(app)
    job = _job(app, _job_id(client.post(f"/batches/{batch.id}/refresh")))
    assert job.status == JobStatus.SUCCEEDED
    assert job.result["summary"] == {"code": "batches.draft_remade", "params": {"n": 5}}
    assert _job(app, _job_id(client.post(f"/batches/{batch.id}/seal", data=CONFIRMED))).status == \
        JobStatus.SUCCEEDED
    job = _job(app, _job_id(client.post(f"/batches/{batch.id}/supersede", data=CONFIRMED)))
    assert job.status == JobStatus.SUCCEEDED, job.error
    old, new = _batches(app)
    assert new.supersedes_id == old.id and job.result["batch_id"] == new.id
    assert f'href="/batches/{new.id}">Continue' in client.get(f"/jobs/{job.id}").get_data(
        as_text=True)


def test_nothing_to_send_ends_the_job_with_the_reason(client, app, as_role, seeded):
    as_role("secretary")
    job_id = _draft(client, seeded["empty_id"])
    job = _job(app, job_id)
    assert job.status == JobStatus.FAILED and "Nothing to send" in say(job.error)
    assert _batches(app) == []
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "Nothing to send" in page
    assert f"/batches/new?agreement_id={seeded['empty_id']}" in page  # back to the form


def test_a_bad_form_answers_at_once_without_a_job(client, app, as_role, seeded):
    as_role("treasurer")
    response = client.post("/batches/new", data={"agreement_id": seeded["agreement_id"],
                                                 "kind": "remittance", "policy": "exclude",
                                                 "period": "March"})
    assert response.status_code == 422
    assert "Give the period as a month" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Job)) == 0


def _block_with_a_problem(app, seeded) -> int:
    """A draft set to block sealing, one of whose lines has a problem."""
    with app.app_context(), acting_as(None, "tests"):
        agreement = db.session.get(Agreement, seeded["agreement_id"])
        cooperative = db.session.get(Cooperative, agreement.cooperative_id)
        ready_member(cooperative, agreement, phone="")
        layout = services.layout_for(agreement, "enrolment")
        next(c for c in layout.columns if c.source == "member.phone").required = True
        batch = services.create_batch(cooperative, agreement, "enrolment", None,
                                      policy="block")
        db.session.commit()
        return batch.id


def test_a_blocked_sealing_is_refused_at_once_or_by_the_job(client, app, as_role, seeded):
    batch_id = _block_with_a_problem(app, seeded)
    files_before = set(Path(app.config["EXPORT_DIR"]).rglob("*"))
    as_role("secretary")
    response = client.post(f"/batches/{batch_id}/seal", data=CONFIRMED, follow_redirects=True)
    assert "set to block sealing" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Job)) == 0
        # queued before the problem was known: the job ends with the same message
        job = job_services.create_job(db.session.get(Batch, batch_id).cooperative_id,
                                      batch_jobs.SEAL, None, {"batch_id": batch_id})
        db.session.commit()
        job_services.start_job(job.id)
        job = db.session.get(Job, job.id)
        assert job.status == JobStatus.FAILED and "set to block sealing" in say(job.error)
        assert db.session.get(Batch, batch_id).status == BatchStatus.DRAFT
    assert set(Path(app.config["EXPORT_DIR"]).rglob("*")) == files_before


def test_a_second_sealing_is_not_queued_while_one_waits(client, app, as_role, seeded):
    as_role("secretary")
    _draft(client, seeded["agreement_id"])
    [batch] = _batches(app)
    with app.app_context():  # a sealing queued, not started yet (the worker is busy)
        waiting = job_services.create_job(batch.cooperative_id, batch_jobs.SEAL, None,
                                          {"batch_id": batch.id})
        db.session.commit()
        waiting_id = waiting.id
    for action in ("seal", "refresh"):
        response = client.post(f"/batches/{batch.id}/{action}", data=CONFIRMED)
        assert response.headers["Location"].endswith(f"/jobs/{waiting_id}")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Job).where(
            Job.kind == batch_jobs.SEAL)) == 1
    page = client.get(f"/jobs/{waiting_id}").get_data(as_text=True)
    assert "already being done" in page
    page = client.get(f"/batches/{batch.id}").get_data(as_text=True)
    assert "being worked on right now" in page and f'href="/jobs/{waiting_id}"' in page


def test_progress_is_reported_per_chunk(app, seeded, monkeypatch):
    monkeypatch.setattr(services, "CHUNK", 2)
    heard = []

    def progress(done, total, message=""):
        heard.append((done, total, message))

    with app.app_context(), acting_as(None, "tests"):
        agreement = db.session.get(Agreement, seeded["agreement_id"])
        cooperative = db.session.get(Cooperative, agreement.cooperative_id)
        batch = services.create_batch(cooperative, agreement, "enrolment", None,
                                      progress=progress)
        assert [(d, t) for d, t, _m in heard] == [(0, 5), (2, 5), (4, 5), (5, 5)]
        assert heard[-1][2] == "5 of 5 lines checked"
        heard.clear()
        path = services.seal_batch(batch, None, app.config["EXPORT_DIR"], progress=progress)
        db.session.rollback()
        services.remove_file(path)
        written = [(d, t) for d, t, m in heard if "written" in m]
        assert written == [(2, 5), (4, 5)] and heard[-1][:2] == (5, 5)


def test_a_batch_job_of_another_cooperative_is_404(client, app, as_role, seeded,
                                                   other_coop):
    as_role("secretary")
    job_id = _draft(client, seeded["agreement_id"])
    [batch] = _batches(app)
    client.post("/logout")
    as_role("admin", other_coop)
    assert client.get(f"/jobs/{job_id}").status_code == 404
    for action in ("seal", "refresh", "supersede"):
        assert client.post(f"/batches/{batch.id}/{action}").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Job)) == 1


def test_a_running_job_page_refreshes_itself_without_javascript(client, app, as_role, coop):
    as_role("admin")
    with app.app_context():
        job = Job(cooperative_id=coop.id, kind="members_import", params={},
                  status=JobStatus.RUNNING)
        db.session.add(job)
        db.session.commit()
        job_id = job.id
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page
