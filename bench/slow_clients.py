"""How long /health takes to answer while N idle and N slow connections are open
(loopback only, bounded). Slow: sends half a request line and stops (slowloris); idle:
connects and sends nothing.

    PYTHONPATH=. python -m bench.slow_clients            # sync (before) and the shipped config

Prints one line per set-up. Not a test: figures go to bench/results.md.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(args: list[str], workdir: Path) -> tuple[subprocess.Popen, str]:
    """gunicorn serving the app (test configuration, a SQLite file) on a free port."""
    port = _free_port()
    wsgi = workdir / "slow_wsgi.py"
    wsgi.write_text(
        "from config import TestConfig\nfrom coopreg import create_app\n"
        f"app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI="
        f"{'sqlite:///' + str(workdir / 'db.sqlite')!r})\n")
    env = dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{workdir}",
               COOPREG_INSTANCE_DIR=str(workdir))
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", *args,
                               "--bind", f"127.0.0.1:{port}", "--log-level", "error",
                               "slow_wsgi:app"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(base + "/health", timeout=2).read()  # noqa: S310
            return server, base
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("gunicorn did not start")


def open_slow_connections(base: str, idle: int, slow: int) -> list[socket.socket]:
    host, port = base.removeprefix("http://").split(":")
    sockets = []
    for n in range(idle + slow):
        s = socket.create_connection((host, int(port)), timeout=5)
        if n >= idle:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # and never the end
        sockets.append(s)
    return sockets


def health_while_open(base: str, limit: float = 30.0) -> tuple[int | None, float]:
    """(status, seconds) of GET /health, or (None, limit) when it did not answer."""
    started = time.monotonic()
    try:
        with urllib.request.urlopen(base + "/health", timeout=limit) as response:  # noqa: S310
            return response.status, time.monotonic() - started
    except OSError:
        return None, time.monotonic() - started


def measure(args: list[str], idle: int, slow: int, rounds: int = 5) -> list:
    with tempfile.TemporaryDirectory() as tmp:
        server, base = start_gunicorn(args, Path(tmp))
        try:
            sockets = open_slow_connections(base, idle, slow)
            time.sleep(0.5)
            results = [health_while_open(base) for _ in range(rounds)]
            for s in sockets:
                s.close()
            return results
        finally:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(10)


def main() -> None:
    setups = {"before: sync, 3 workers": ["--workers", "3"],
              "after: -c python:coopreg.gunicorn_conf": ["-c", "python:coopreg.gunicorn_conf"]}
    for idle, slow in ((200, 0), (0, 200), (100, 100)):
        for label, args in setups.items():
            results = measure(args, idle, slow)
            answered = [s for s, _t in results if s == 200]
            worst = max(t for _s, t in results)
            print(f"{idle} idle + {slow} slow open | {label}: {len(answered)}/{len(results)} "
                  f"/health answered 200, slowest {worst:.2f} s", flush=True)


if __name__ == "__main__":
    main()
