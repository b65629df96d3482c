"""Items 1 and 2 of issue 26: a job whose worker dies is retried when its lease lapses,
with no manual step (or, after the last attempt, failed with a message and a "Start again"
button); a job the queue lost (Redis killed without persistence) is handed to the queue
again, because the database is the record of jobs. Real worker processes (`coopreg worker`
through the CLI), killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from coopreg.cooperatives.services import create_cooperative
from coopreg.core.audit import acting_as
from coopreg.core.models import utcnow
from coopreg.core.sentences import say
from coopreg.extensions import db
from coopreg.jobs import services
from coopreg.jobs.models import Job, JobStatus
from tests.conftest import login
from tests.faults.conftest import wait_for

KIND = "fault_test_wait"
ROOT = Path(__file__).resolve().parents[2]

# The worker process's program: the app of the test's database with short leases, a job
# kind that hangs on its first attempt (until the worker is killed) and ends at once on the
# next, then the real `coopreg worker` command.
WORKER = '''
import sys, time
from pathlib import Path
from config import TestConfig
from coopreg import create_app
from coopreg.jobs.services import job_handler, start_job

@job_handler("fault_test_wait")
def wait(job, progress):
    folder = Path(job.params["dir"])
    (folder / f"attempt-{job.attempts}").write_text(repr(time.time()))
    if job.attempts == 1 and job.params.get("hang_first"):
        end = time.time() + 120
        while time.time() < end:  # killed meanwhile
            time.sleep(0.05)
    from coopreg.cooperatives.models import Cooperative
    from coopreg.extensions import db
    db.session.get(Cooperative, job.cooperative_id).name = f"done by attempt {job.attempts}"
    return {"attempt": job.attempts}

app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=sys.argv[1], JOBS_IMMEDIATE=False,
                 JOBS_LEASE_SECONDS=3, JOBS_SUPERVISE_SECONDS=0.5, JOBS_REQUEUE_SECONDS=2)
if sys.argv[2] == "enqueue":
    with app.app_context():
        start_job(int(sys.argv[3]))
else:
    result = app.test_cli_runner().invoke(args=["worker", "--workers", "1"])
    print(result.output, result.exception, file=sys.stderr)
'''


@services.job_handler(KIND)
def _wait_here(job, progress):  # the kind exists in this process too (create_job checks)
    return {"attempt": job.attempts}


@pytest.fixture
def worker(committed_app, tmp_path):
    """Start worker processes (or the enqueueing program) on the test's database; every
    process left is killed at the end."""
    script = tmp_path / "fault_worker.py"
    script.write_text(WORKER)
    processes: list[subprocess.Popen] = []

    def start(*args, redis_url: str | None = None) -> subprocess.Popen:
        env = dict(os.environ, PYTHONPATH=str(ROOT), COOPREG_INSTANCE_DIR=str(tmp_path))
        env.pop("REDIS_URL", None)
        if redis_url:
            env["REDIS_URL"] = redis_url
        process = subprocess.Popen(
            [sys.executable, str(script), committed_app.config["SQLALCHEMY_DATABASE_URI"],
             *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def _job(app, job_id) -> Job:
    from coopreg.core.security import read_only_transaction

    with app.app_context():
        read_only_transaction()  # as a page reads: on SQLite, beside a job's write lock
        job = db.session.get(Job, job_id)
        db.session.expunge(job)
        return job


def _queued_job(app, folder, **params) -> int:
    with app.app_context(), acting_as(None, "tests"):
        cooperative = create_cooperative(f"F{os.getpid() % 1000}{time.time_ns() % 10000}",
                                         "Faults", "CR", "CRC")
        job = services.create_job(cooperative.id, KIND, None, {"dir": str(folder), **params})
        db.session.commit()
        return job.id


@pytest.mark.no_transaction
def test_a_job_whose_worker_is_killed_is_retried_without_a_manual_step(committed_app,
                                                                        worker, tmp_path):
    job_id = _queued_job(committed_app, tmp_path, hang_first=True)
    first = worker("work")  # takes the queued job (no message yet: handed after 2 s)
    assert wait_for(lambda: (tmp_path / "attempt-1").exists(), 60), "never started"
    assert _job(committed_app, job_id).status == JobStatus.RUNNING
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    died = time.time()
    worker("work")  # a worker started again (or another one still running)
    retried = wait_for(lambda: (tmp_path / "attempt-2").exists(), 60)
    assert retried, "the job was not taken up again"
    retry_seconds = float((tmp_path / "attempt-2").read_text()) - died
    assert wait_for(lambda: _job(committed_app, job_id).finished, 30)
    job = _job(committed_app, job_id)
    assert job.status == JobStatus.SUCCEEDED and job.attempts == 2, (job.status, job.error)
    assert job.result == {"attempt": 2}
    print(f"\nworker killed -> job retried in {retry_seconds:.1f} s "
          "(lease 3 s, supervisor every 0.5 s)")


@pytest.mark.no_transaction
def test_a_job_lost_by_redis_is_handed_to_the_queue_again(committed_app, worker, tmp_path,
                                                          own_redis):
    import redis

    job_id = _queued_job(committed_app, tmp_path)
    enqueue = worker("enqueue", str(job_id), redis_url=own_redis.url)
    assert enqueue.wait(60) == 0
    client = redis.Redis.from_url(own_redis.url)
    assert client.dbsize() > 0, "the message waits in Redis"
    client.close()
    own_redis.stop()  # killed without persistence: the message is gone
    own_redis.start()
    client = redis.Redis.from_url(own_redis.url)
    assert client.dbsize() == 0
    client.close()
    assert _job(committed_app, job_id).status == JobStatus.QUEUED

    worker("work", redis_url=own_redis.url)
    assert wait_for(lambda: _job(committed_app, job_id).finished, 60), "still queued"
    job = _job(committed_app, job_id)
    assert job.status == JobStatus.SUCCEEDED and job.attempts == 1


def _running_with_lapsed_lease(app, coop, attempts: int, user_id=None) -> int:
    with app.app_context():
        job = services.create_job(coop.id, KIND, user_id, {"dir": "unused"})
        job.status = JobStatus.RUNNING
        job.attempts = attempts
        job.started_at = utcnow() - timedelta(minutes=2)
        job.lease_expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        return job.id


def test_a_lapsed_lease_is_retried_then_failed_after_the_last_attempt(app, coop):
    retried = _running_with_lapsed_lease(app, coop, attempts=1)
    failed = _running_with_lapsed_lease(app, coop, attempts=app.config["JOBS_MAX_ATTEMPTS"])
    alive = _running_with_lapsed_lease(app, coop, attempts=1)
    with app.app_context():
        db.session.get(Job, alive).lease_expires_at = utcnow() + timedelta(seconds=30)
        db.session.commit()
        done = services.supervise_jobs()
    assert done["retried"] == [retried] and done["failed"] == [failed]
    assert _job(app, retried).status == JobStatus.SUCCEEDED  # immediate mode: ran again
    assert _job(app, retried).attempts == 2
    job = _job(app, failed)
    assert job.status == JobStatus.FAILED
    assert "The worker running this job stopped 3 times; nothing was saved" in say(job.error)
    assert _job(app, alive).status == JobStatus.RUNNING, "a renewed lease is left alone"


def test_a_failed_job_has_a_start_again_button(app, client, coop, make_user):
    user_id, email = make_user(coop, "secretary")
    failed = _running_with_lapsed_lease(app, coop, attempts=3, user_id=user_id)
    with app.app_context():
        services.supervise_jobs()
    login(client, email, cooperative=coop)
    page = client.get(f"/jobs/{failed}").get_data(as_text=True)
    assert "stopped 3 times" in page and 'id="job-retry"' in page
    response = client.post(f"/jobs/{failed}/retry")
    assert response.status_code == 302
    new_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    assert new_id != failed
    new = _job(app, new_id)
    assert new.status == JobStatus.SUCCEEDED and new.params == {"dir": "unused"}


def test_only_who_started_a_job_or_an_admin_starts_it_again(app, client, coop, make_user):
    owner_id, _email = make_user(coop, "secretary")
    failed = _running_with_lapsed_lease(app, coop, attempts=3, user_id=owner_id)
    with app.app_context():
        services.supervise_jobs()
    _other, email = make_user(coop, "treasurer")
    login(client, email, cooperative=coop)
    assert 'id="job-retry"' not in client.get(f"/jobs/{failed}").get_data(as_text=True)
    response = client.post(f"/jobs/{failed}/retry", follow_redirects=True)
    assert "Only who started this job" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Job)
                                 .where(Job.kind == KIND, Job.id > failed)) == 0


def test_an_attempt_that_lost_its_lease_keeps_nothing(app, coop):
    """Fencing: a worker that was only slow (its lease lapsed, the job went to another) does
    not commit its work over the other attempt's."""
    from coopreg.cooperatives.models import Cooperative

    @services.job_handler("fault_test_overtaken")
    def overtaken(job, progress):
        db.session.get(Cooperative, job.cooperative_id).name = "written by the slow one"
        # meanwhile its lease lapsed and another attempt took the job (written here, in the
        # same transaction, as the suite's rolled-back connection is the only one)
        db.session.execute(db.update(Job).where(Job.id == job.id)
                           .values(attempts=Job.attempts + 1))
        return {}

    with app.app_context():
        job = services.create_job(coop.id, "fault_test_overtaken", None, {})
        db.session.commit()
        services.start_job(job.id)
        assert db.session.get(Cooperative, coop.id).name != "written by the slow one"
        assert db.session.get(Job, job.id).status == JobStatus.RUNNING  # the other's to end
