"""Item 3 of issue 26: while Redis is down, logins keep working (the login limiter counts in
the process's memory), the log and /health say so."""

from __future__ import annotations

import logging

import pytest

from coopreg.auth import services as auth_services
from coopreg.cooperatives.services import create_cooperative
from coopreg.core import ratelimits
from coopreg.core.audit import acting_as
from coopreg.extensions import db, limiter
from tests.conftest import make_test_app

PASSWORD = "a long phrase for the redis outage"


@pytest.fixture
def user(committed_app):
    with committed_app.app_context(), acting_as(None, "tests"):
        cooperative = create_cooperative("REDIS", "Redis coop", "CR", "CRC")
        user = auth_services.create_user("outage@example.org", "Outage", PASSWORD)
        auth_services.grant_role(user, cooperative, "secretary")
        db.session.commit()
    yield "outage@example.org"


@pytest.mark.no_transaction
def test_logins_keep_working_while_redis_is_down(app, committed_app, user, own_redis, caplog):
    outage_app = make_test_app(committed_app.config["SQLALCHEMY_DATABASE_URI"],
                        RATELIMIT_STORAGE_URI=own_redis.url, REDIS_URL=own_redis.url,
                        RATELIMIT_KEY_PREFIX="outage")
    try:
        client = outage_app.test_client()
        assert client.post("/login", data={"email": user, "password": PASSWORD}
                           ).status_code == 302
        assert client.get("/health").get_json()["rate_limits"] == "shared"
        client.post("/logout")

        own_redis.stop()
        with caplog.at_level(logging.WARNING):
            for _ in range(5):  # the right password signs in, again and again
                fresh = outage_app.test_client()
                response = fresh.post("/login", data={"email": user, "password": PASSWORD})
                assert response.status_code == 302, response.get_data(as_text=True)[:300]
        assert any("does not answer" in r.getMessage() and "counting failed logins in this "
                   "process's memory" in r.getMessage() for r in caplog.records)
        health = outage_app.test_client().get("/health")
        assert health.get_json()["rate_limits"] == "local"
        assert health.get_json()["checks"]["redis"] == "unavailable"

        # the limit still holds, counted locally: ten wrong passwords, then 429
        attacker = outage_app.test_client()
        codes = [attacker.post("/login", data={"email": user, "password": f"wrong {i}"},
                               environ_base={"REMOTE_ADDR": "198.51.100.20"}).status_code
                 for i in range(11)]
        assert codes[:10] == [401] * 10 and codes[10] == 429, codes
    finally:
        with outage_app.app_context():
            db.engine.dispose()
        # the limiter is one object for every app of the process: give it back its storage
        limiter.init_app(app)
        ratelimits.note_shared_storage(True)
