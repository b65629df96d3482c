"""The failed-login count is atomic: 40 wrong passwords sent at the same moment get at most
10 password checks (the attack run got 17). Each thread is its own browser, committing for
real."""

from __future__ import annotations

import pytest

from coopreg.auth import services
from coopreg.cooperatives.services import create_cooperative
from coopreg.core.audit import acting_as
from coopreg.extensions import db, limiter
from tests.conftest import PASSWORD, run_together

pytestmark = pytest.mark.no_transaction


@pytest.fixture(scope="module")
def account(committed_app):
    with committed_app.app_context(), acting_as(None, "tests"):
        cooperative = create_cooperative("LIMIT", "Limit coop", "CR", "CRC")
        user = services.create_user("target@limit.example", "Target", PASSWORD)
        services.grant_role(user, cooperative, "admin")
        db.session.commit()
    return committed_app, "target@limit.example"


def test_forty_parallel_wrong_passwords_get_at_most_ten_checks(account, monkeypatch):
    app, email = account
    limiter.reset()
    checks = []
    real = services.verify_password

    def counting(password_hash, password):
        checks.append(password)
        return real(password_hash, password)

    monkeypatch.setattr(services, "verify_password", counting)

    def attempt(i):
        client = app.test_client()
        return client.post("/login", data={"email": email, "password": f"wrong guess {i}"},
                           environ_base={"REMOTE_ADDR": "203.0.113.40"}).status_code

    statuses = run_together(40, attempt)
    assert all(s in (401, 429) for s in statuses), statuses
    assert statuses.count(401) <= 10, statuses
    assert len(checks) <= 10
    assert statuses.count(429) >= 30
    limiter.reset()
