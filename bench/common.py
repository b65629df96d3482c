"""Shared benchmark helpers: timing, fresh databases, the report."""

from __future__ import annotations

import json
import os
import platform
import statistics
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import sqlalchemy as sa

RESULTS = Path(__file__).resolve().parent / "results.md"
# BENCH_NAME=x: this run's files and databases apart (/tmp/coopreg-bench-x, coopreg_bench_x_…),
# so two checkouts benchmarking on one machine do not drop each other's
NAME = "".join(c for c in os.environ.get("BENCH_NAME", "").lower() if c.isalnum())[:20]
BENCH_DIR = Path(tempfile.gettempdir()) / ("coopreg-bench" + (f"-{NAME}" if NAME else ""))
PG_BASE = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def median_seconds(fn: Callable[[], object], repeat: int = 15, warmup: int = 3) -> float:
    """Median wall time of `fn` over `repeat` runs, after `warmup` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def fresh_database(kind: str, name: str) -> str:
    """A new empty database URL: a SQLite file under /tmp, or a PostgreSQL database."""
    if kind == "sqlite":
        BENCH_DIR.mkdir(exist_ok=True)
        path = BENCH_DIR / f"{name}.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return f"sqlite:///{path}"
    url = sa.engine.make_url(PG_BASE)
    db_name = f"coopreg_bench_{NAME}_{name}" if NAME else f"coopreg_bench_{name}"
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{db_name}"'))
    engine.dispose()
    return url.set(database=db_name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    engine = sa.create_engine(sa.engine.make_url(PG_BASE), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(
            f'DROP DATABASE IF EXISTS "{sa.engine.make_url(url).database}" WITH (FORCE)'))
    engine.dispose()


@dataclass
class Goal:
    number: int
    title: str
    target: str
    lines: list[str] = field(default_factory=list)
    met: bool | None = None
    note: str = ""
    measured_at: str = field(default_factory=lambda: time.strftime("%Y-%m-%d %H:%M UTC",
                                                                    time.gmtime()))


GOALS_DIR = BENCH_DIR / "goals"


def save_goal(goal: Goal) -> None:
    """Keep a measured goal, so a later run of other goals can report it too (--keep)."""
    GOALS_DIR.mkdir(parents=True, exist_ok=True)
    (GOALS_DIR / f"{goal.number}.json").write_text(json.dumps(goal.__dict__))


def saved_goals() -> list[Goal]:
    if not GOALS_DIR.exists():
        return []
    return [Goal(**json.loads(path.read_text())) for path in GOALS_DIR.glob("*.json")]


def machine_header() -> list[str]:
    packages = ["Flask", "SQLAlchemy", "openpyxl", "python-calamine", "psycopg", "gunicorn"]
    versions = []
    for name in packages:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return [
        f"- machine: {platform.node()}, {os.cpu_count()} cores, {cpu}",
        f"- Python {platform.python_version()} on {platform.platform()}",
        f"- {', '.join(versions)}",
        f"- run at {time.strftime('%Y-%m-%d %H:%M:%S %Z')}",
    ]


def write_report(goals: list[Goal], extra: list[str] | None = None) -> Path:
    lines = ["# coopreg benchmark results", "", "Written by `make bench` (bench/run.py). Each "
             "figure is a ratio measured in the same run (LARGE against SMALL, or against a "
             "bare baseline); absolute times are for information only: on a machine whose "
             "cores are shared with other work they move by ±30 % or more from run to run. "
             "Each goal says when it was measured and at which sizes.", "",
             *machine_header(), ""]
    lines += ["| goal | result |", "| --- | --- |"]
    for goal in sorted(goals, key=lambda g: g.number):
        status = {True: "met", False: "NOT met", None: "not measured"}[goal.met]
        lines.append(f"| {goal.number}: {goal.title} | {status} |")
    lines.append("")
    for goal in sorted(goals, key=lambda g: g.number):
        status = {True: "met", False: "NOT met", None: "not measured"}[goal.met]
        lines += [f"## Goal {goal.number}: {goal.title} — {status}", "",
                  f"Target: {goal.target}", "", f"Measured {goal.measured_at}.", "",
                  *goal.lines, ""]
        if goal.note:
            lines += [goal.note, ""]
    lines += extra or []
    RESULTS.write_text("\n".join(lines) + "\n")
    return RESULTS


def requests_per_second(base: str, path: str, headers: dict, seconds: float = 5.0,
                        threads: int = 4) -> float:
    """GET `path` from `threads` threads for `seconds`, with `headers`; requests per second
    (any answer but 200 stops the run)."""
    count = 0
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker():
        nonlocal count
        done = 0
        while time.perf_counter() < deadline:
            request = urllib.request.Request(base + path, headers=headers)
            with urllib.request.urlopen(request) as response:
                response.read()
                if response.status != 200:
                    raise RuntimeError(f"{path}: {response.status}")
            done += 1
        with lock:
            count += done

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    start = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return count / (time.perf_counter() - start)
