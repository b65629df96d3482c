"""Several app processes behind gunicorn share Redis: failed logins are counted across them
(the 11th from one address gets 429 whichever process answers), and the health check asks
Redis too. Uses the machine's Redis (127.0.0.1:6379, database 15, flushed by the test)."""

from __future__ import annotations

import uuid

import pytest
import redis

from tests.conftest import make_test_app

REDIS = "redis://127.0.0.1:6379/15"


@pytest.fixture
def shared_redis():
    client = redis.Redis.from_url(REDIS, socket_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:  # pragma: no cover - make test starts Redis
        pytest.fail("Redis is not running on 127.0.0.1:6379 (make test starts it)")
    client.flushdb()
    yield client
    client.flushdb()


@pytest.mark.no_transaction
def test_login_failures_are_counted_across_processes(app, shared_redis):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    prefix = f"coopreg-test-{uuid.uuid4().hex}"
    first = make_test_app(url, RATELIMIT_STORAGE_URI=REDIS, RATELIMIT_KEY_PREFIX=prefix)
    second = make_test_app(url, RATELIMIT_STORAGE_URI=REDIS, RATELIMIT_KEY_PREFIX=prefix)
    clients = [first.test_client(), second.test_client()]
    for attempt in range(10):
        response = clients[attempt % 2].post(
            "/login", data={"email": f"nobody{attempt}@example.org", "password": "x" * 12},
            environ_base={"REMOTE_ADDR": "198.51.100.7"})
        assert response.status_code == 401
    response = clients[0].post("/login", data={"email": "x@example.org", "password": "x" * 12},
                               environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert response.status_code == 429
    assert shared_redis.dbsize() > 0, "the counts live in Redis"


@pytest.mark.no_transaction
def test_health_checks_redis_when_configured(app, shared_redis):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    healthy = make_test_app(url, REDIS_URL=REDIS).test_client().get("/health")
    assert healthy.status_code == 200
    assert healthy.get_json()["checks"] == {"database": "ok", "redis": "ok"}
    broken = make_test_app(url, REDIS_URL="redis://127.0.0.1:1/0").test_client().get("/health")
    assert broken.status_code == 503
    assert broken.get_json()["checks"]["redis"] == "unavailable"


def test_the_job_queue_uses_redis_when_configured(monkeypatch, shared_redis):
    from huey import RedisHuey

    from coopreg.jobs import queue

    monkeypatch.setenv("REDIS_URL", REDIS)
    huey = queue._make_huey()
    assert isinstance(huey, RedisHuey)

    @huey.task()
    def add(a, b):
        return a + b

    add(2, 3)
    assert huey.pending_count() == 1, "the task waits in Redis for a worker process"
    task = huey.dequeue()
    assert huey.execute(task) == 5
    huey.flush()
