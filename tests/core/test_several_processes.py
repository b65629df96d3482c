"""Several app processes behind gunicorn share Redis: failed logins are counted across them
(the 11th for one account from one address gets 429 whichever process answers), and the
health check asks Redis too. Uses the machine's Redis (127.0.0.1:6379, database 15, flushed by
the test), or the one in COOPREG_TEST_REDIS_URL."""

from __future__ import annotations

import os
import uuid

import pytest
import redis

from tests.conftest import make_test_app

REDIS = os.environ.get("COOPREG_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def apps():
    """Apps made by a test, their database connections closed afterwards."""
    made = []

    def make(url, **overrides):
        application = make_test_app(url, **overrides)
        made.append(application)
        return application

    yield make
    from coopreg.extensions import db
    for application in made:
        with application.app_context():
            db.engine.dispose()


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
def test_login_failures_are_counted_across_processes(app, apps, shared_redis):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    prefix = f"coopreg-test-{uuid.uuid4().hex}"
    first = apps(url, RATELIMIT_STORAGE_URI=REDIS, RATELIMIT_KEY_PREFIX=prefix)
    second = apps(url, RATELIMIT_STORAGE_URI=REDIS, RATELIMIT_KEY_PREFIX=prefix)
    clients = [first.test_client(), second.test_client()]
    for attempt in range(10):
        response = clients[attempt % 2].post(
            "/login", data={"email": "nobody@example.org", "password": f"x{attempt}" * 6},
            environ_base={"REMOTE_ADDR": "198.51.100.7"})
        assert response.status_code == 401
    response = clients[0].post("/login", data={"email": "nobody@example.org",
                                               "password": "x" * 12},
                               environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert response.status_code == 429
    assert shared_redis.dbsize() > 0, "the counts live in Redis"


@pytest.mark.no_transaction
def test_health_checks_redis_when_configured(app, apps, shared_redis):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    healthy = apps(url, REDIS_URL=REDIS).test_client().get("/health")
    assert healthy.status_code == 200
    assert healthy.get_json()["checks"] == {"database": "ok", "redis": "ok"}
    broken = apps(url, REDIS_URL="redis://127.0.0.1:1/0").test_client().get("/health")
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


@pytest.mark.no_transaction
def test_proxy_headers_are_trusted_only_when_configured(app, apps, shared_redis):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    seen = {}
    for behind_proxy in (False, True):
        proxied = apps(url, BEHIND_PROXY=behind_proxy)

        @proxied.route("/whoami-test")
        def whoami():
            from flask import request
            return f"{request.remote_addr} {request.scheme}"

        whoami.__coopreg_access__ = ("public",)
        response = proxied.test_client().get(
            "/whoami-test", headers={"X-Forwarded-For": "203.0.113.9",
                                     "X-Forwarded-Proto": "https"})
        seen[behind_proxy] = response.get_data(as_text=True)
    assert seen[True] == "203.0.113.9 https", "behind a proxy: the client's address and scheme"
    assert seen[False] == "127.0.0.1 http", "without: forwarded headers are not believed"


@pytest.mark.no_transaction
def test_gunicorn_with_two_workers_shares_sessions_and_login_limits(committed_app,
                                                                    shared_redis, tmp_path):
    """The production shape: gunicorn, two sync worker processes, Redis for the limits."""
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.parse
    import urllib.request
    from http.cookiejar import CookieJar
    from pathlib import Path

    from coopreg.auth import services as auth_services
    from coopreg.cooperatives.services import create_cooperative
    from coopreg.core.audit import acting_as
    from coopreg.extensions import db

    with committed_app.app_context(), acting_as(None, "tests"):
        cooperative = create_cooperative("GUNI", "Gunicorn coop", "CR", "CRC")
        user = auth_services.create_user("guni@example.org", "Guni", "a long gunicorn phrase")
        auth_services.grant_role(user, cooperative, "secretary")
        db.session.commit()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    root = Path(__file__).resolve().parents[2]
    wsgi = tmp_path / "wsgi_app.py"
    database = committed_app.config["SQLALCHEMY_DATABASE_URI"]
    wsgi.write_text(
        "from config import TestConfig\nfrom coopreg import create_app\n"
        f"app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI={database!r},"
        f" RATELIMIT_STORAGE_URI={REDIS!r}, RATELIMIT_KEY_PREFIX='guni')\n")
    env = dict(os.environ, PYTHONPATH=f"{root}{os.pathsep}{tmp_path}")
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "2",
                               "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
                               "wsgi_app:app"], cwd=root, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/health", timeout=1).read()  # noqa: S310
                break
            except OSError:
                time.sleep(0.2)
        jar = CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        opener.open(base + "/login", data=urllib.parse.urlencode(
            {"email": "guni@example.org", "password": "a long gunicorn phrase"}).encode())
        for _ in range(20):  # requests land on both workers; the session holds on each
            with opener.open(base + "/members/") as response:
                assert response.status == 200 and response.url.endswith("/members/")
        failures = []
        for attempt in range(11):
            try:
                urllib.request.urlopen(base + "/login", data=urllib.parse.urlencode(  # noqa: S310
                    {"email": "guni@example.org", "password": f"wrong {attempt}"}).encode())
            except urllib.error.HTTPError as error:
                failures.append(error.code)
        assert failures[:10] == [401] * 10 and failures[10] == 429, failures
    finally:
        server.terminate()
        server.wait(10)
