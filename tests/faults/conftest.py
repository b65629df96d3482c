"""Fault injection: the test's own Redis (a redis-server on a free port, no persistence, that
the test stops and starts), a free port, and waiting for a condition with a bound."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest
import redis


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition, seconds: float = 30.0, step: float = 0.05):
    """Poll `condition()` until it returns something true (returned) or `seconds` pass
    (None): a bound on the loop, not a timing assertion."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(step)
    return None


class OwnRedis:
    """A redis-server of the test's own, on a free port, keeping nothing on disk (as a Redis
    killed without persistence loses what it held)."""

    def __init__(self, workdir):
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, socket_timeout=1)

        def up():
            try:
                return client.ping()
            except redis.exceptions.ConnectionError:
                return False

        assert wait_for(up, 20), "the test's redis-server did not start"
        client.close()

    def stop(self) -> None:
        """Kill it (SIGKILL): whatever it held is gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None


@pytest.fixture
def own_redis(tmp_path):
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.stop()
