"""The task queue: Huey, on a SQLite file by default (no server) or Redis when REDIS_URL is
set; tests run tasks immediately in memory (`JOBS_IMMEDIATE`)."""

from __future__ import annotations

import os

from huey import RedisHuey, SqliteHuey

import config


def _make_huey():
    if os.environ.get("REDIS_URL"):
        return RedisHuey("coopreg", url=os.environ["REDIS_URL"])
    config.INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("coopreg", filename=str(config.INSTANCE_DIR / "jobs.sqlite"))


huey = _make_huey()
