"""The app as gunicorn serves it in the benchmark, plus a bare "hello" route as the baseline
(same app, same server, same middleware). BENCH_CACHES=production turns production's caches
on (kept member rows, localities, dashboard); otherwise every page is rendered afresh (the
test configuration turns every cache off)."""

from __future__ import annotations

import os

from config import Config, TestConfig
from coopreg import create_app
from coopreg.auth.access import public

CACHES = ("LOCALITIES_CACHE_SECONDS", "MEMBER_ROWS_CACHE_SIZE", "DASHBOARD_CACHE_SECONDS")

app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=os.environ["BENCH_DATABASE_URL"],
                 RATELIMIT_ENABLED=False,
                 **({name: getattr(Config, name) for name in CACHES}
                    if os.environ.get("BENCH_CACHES") == "production" else {}))


@app.route("/hello")
@public
def hello():
    return "hello"
