"""Figures for issue 26 (figures go to bench/results.md; tests assert no timing):

    PYTHONPATH=. python -m bench.faults logins   # logins while Redis is down

Logins: an app on a SQLite file whose login limiter counts in a redis-server of its own;
the server is killed, then N logins with the right password are timed.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def logins_during_redis_outage(count: int = 100) -> None:
    import redis
    from flask_migrate import upgrade

    from config import TestConfig
    from coopreg import create_app
    from coopreg.auth import services as auth_services
    from coopreg.cooperatives.services import create_cooperative
    from coopreg.core.audit import acting_as
    from coopreg.extensions import db

    with tempfile.TemporaryDirectory() as tmp:
        port = _free_port()
        server = subprocess.Popen([shutil.which("redis-server"), "--port", str(port),
                                   "--save", "", "--appendonly", "no", "--dir", tmp],
                                  stdout=subprocess.DEVNULL)
        url = f"redis://127.0.0.1:{port}/0"
        for _ in range(100):
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp}/db.sqlite",
                         RATELIMIT_STORAGE_URI=url, REDIS_URL=url, PASSWORD_HASH_FAST=False)
        with app.app_context():
            upgrade()
            with acting_as(None, "bench"):
                coop = create_cooperative("RB", "Redis bench", "CR", "CRC")
                user = auth_services.create_user("bench@example.org", "B", "a long bench phrase")
                auth_services.grant_role(user, coop, "secretary")
                db.session.commit()
        login = {"email": "bench@example.org", "password": "a long bench phrase"}

        def run(label):
            ok, started = 0, time.perf_counter()
            for _ in range(count):
                ok += app.test_client().post("/login", data=login).status_code == 302
            elapsed = time.perf_counter() - started
            print(f"{label}: {ok}/{count} logins succeeded, {elapsed / count * 1000:.0f} ms "
                  "each", flush=True)

        run("Redis up")
        server.kill()
        server.wait()
        run("Redis down (killed)")
        print("health:", app.test_client().get("/health").get_json())


if __name__ == "__main__":
    if sys.argv[1:] == ["logins"]:
        logins_during_redis_outage()
    else:
        print(__doc__)
