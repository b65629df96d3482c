"""Background jobs: progress, all-or-nothing, failure reasons, abandoned jobs."""

from __future__ import annotations

from datetime import timedelta

import pytest

from coopreg.core.errors import DomainError
from coopreg.core.models import utcnow
from coopreg.core.sentences import say
from coopreg.extensions import db
from coopreg.jobs import services
from coopreg.jobs.models import Job, JobStatus
from coopreg.members.models import Member
from coopreg.members.services import create_member
from tests.conftest import login, member_data


@services.job_handler("test_add_members")
def _add_members(job, progress):
    from coopreg.cooperatives.models import Cooperative

    cooperative = db.session.get(Cooperative, job.cooperative_id)
    count = job.params["count"]
    for n in range(count):
        if n == job.params.get("fail_at"):
            raise DomainError(f"row {n} is wrong")
        if n == job.params.get("crash_at"):
            raise RuntimeError("database went away")
        create_member(cooperative, member_data(second_last_name=f"Job{n}"),
                      confirm_duplicate=True)
        progress(n + 1, count, f"{n + 1} of {count}")
    return {"summary": f"{count} members added"}


def _run(app, coop, **params):
    with app.app_context():
        job = services.create_job(coop.id, "test_add_members", None, params)
        db.session.commit()
        services.start_job(job.id)
        job = db.session.get(Job, job.id)
        members = db.session.scalar(db.select(db.func.count()).select_from(Member))
        return job.status, job.result, say(job.error), members, services.read_progress(job.id)


def test_job_runs_to_the_end_and_commits(app, coop):
    status, result, error, members, progress = _run(app, coop, count=5)
    assert status == JobStatus.SUCCEEDED
    assert result == {"summary": "5 members added"}
    assert members == 5
    assert progress["done"] == progress["total"] == 5


@pytest.mark.parametrize("params,message", [
    ({"count": 5, "fail_at": 3}, "row 3 is wrong"),
    ({"count": 5, "crash_at": 2}, "unexpected error; nothing was saved"),
])
def test_a_failing_job_leaves_nothing_behind(app, coop, params, message):
    status, result, error, members, _progress = _run(app, coop, **params)
    assert status == JobStatus.FAILED
    assert message in error
    assert members == 0


def test_abandoned_running_jobs_are_marked_failed(app, coop):
    with app.app_context():
        job = Job(cooperative_id=coop.id, kind="test_add_members", params={},
                  status=JobStatus.RUNNING, started_at=utcnow() - timedelta(hours=2))
        fresh = Job(cooperative_id=coop.id, kind="test_add_members", params={},
                    status=JobStatus.RUNNING, started_at=utcnow())
        db.session.add_all([job, fresh])
        db.session.commit()
        assert services.fail_abandoned_jobs(3600) == 1
        db.session.commit()
        assert db.session.get(Job, job.id).status == JobStatus.FAILED
        assert db.session.get(Job, fresh.id).status == JobStatus.RUNNING


def test_job_page_and_status(app, client, coop, other_coop, make_user):
    status, *_ = _run(app, coop, count=2)
    assert status == JobStatus.SUCCEEDED
    with app.app_context():
        job_id = db.session.scalar(db.select(Job.id))
    _uid, email = make_user(coop, "viewer")
    login(client, email, cooperative=coop)
    page = client.get(f"/jobs/{job_id}")
    assert page.status_code == 200
    assert b"<progress" in page.data
    state = client.get(f"/jobs/{job_id}/status").get_json()
    assert state["status"] == "succeeded" and state["percent"] == 100


def test_a_job_of_another_cooperative_is_404(app, client, coop, other_coop, make_user):
    _run(app, other_coop, count=1)
    with app.app_context():
        job_id = db.session.scalar(db.select(Job.id))
    _uid, email = make_user(coop, "admin")
    login(client, email, cooperative=coop)
    assert client.get(f"/jobs/{job_id}").status_code == 404
    assert client.get(f"/jobs/{job_id}/status").status_code == 404


def test_an_area_names_its_kind_and_where_continue_goes(app, client, coop, make_user):
    """Handlers run without a request: the result names the record and the kind's link,
    registered by its area, is built on the page (a link that no longer builds is left
    out; without a registered link the result's own `next_url` is used)."""
    from coopreg.jobs import registry

    registry.register_kind("test_add_members", "Adding test members",
                        lambda job: ("jobs.view_job", {"job_id": job.result["to"]}))
    try:
        with app.app_context():
            job = Job(cooperative_id=coop.id, kind="test_add_members", params={},
                      status=JobStatus.SUCCEEDED, result={"to": 12345})
            db.session.add(job)
            db.session.commit()
            job_id = job.id
        _uid, email = make_user(coop, "viewer")
        login(client, email, cooperative=coop)
        page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
        assert "Adding test members" in page and 'href="/jobs/12345">Continue' in page
        registry.register_kind("test_add_members", "Adding test members",
                            lambda job: ("no.such_endpoint", {}))
        assert "Continue" not in client.get(f"/jobs/{job_id}").get_data(as_text=True)
    finally:
        registry.KIND_LABELS.pop("test_add_members", None)
        registry.NEXT_LINKS.pop("test_add_members", None)
    with app.app_context():
        db.session.get(Job, job_id).result = {"next_url": "/members/"}
        db.session.commit()
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert 'href="/members/">Continue' in page and "Adding test members" not in page


def test_the_progress_percentage_is_said_in_the_page_language(app, client, coop, make_user):
    """The script that moves the bar shows the server's text: "100 %" in French."""
    from coopreg.auth.models import User

    _run(app, coop, count=2)
    uid, email = make_user(coop, "viewer")

    def speaks(language):
        with app.app_context():
            db.session.get(User, uid).locale = language
            db.session.commit()

    with app.app_context():
        job_id = db.session.scalar(db.select(Job.id))
    login(client, email, cooperative=coop)
    speaks("fr")
    state = client.get(f"/jobs/{job_id}/status").get_json()
    assert state["percent_text"] == "100\xa0%"
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert '<span class="job-percent">100\xa0%</span>' in page
    speaks("en")
    assert client.get(f"/jobs/{job_id}/status").get_json()["percent_text"] == "100%"
