"""Item 9 of issue 26: 200 idle or slow connections do not starve the app server with the
shipped configuration (coopreg/gunicorn_conf.py): /health still answers. Loopback only,
bounded: each request gives up after 30 s. (Sync workers, before, did not answer at all:
bench/slow_clients.py and bench/results.md.)"""

from __future__ import annotations

import subprocess

import pytest

from bench.slow_clients import health_while_open, open_slow_connections, start_gunicorn


@pytest.mark.no_transaction
def test_health_answers_with_200_idle_and_slow_connections_open(tmp_path):
    server, base = start_gunicorn(["-c", "python:coopreg.gunicorn_conf", "--workers", "2"],
                                  tmp_path)
    sockets = []
    try:
        sockets = open_slow_connections(base, idle=100, slow=100)
        answers = [health_while_open(base, limit=30)[0] for _ in range(3)]
        assert answers == [200, 200, 200]
    finally:
        for s in sockets:
            s.close()
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)
