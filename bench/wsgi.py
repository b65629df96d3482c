"""The app as gunicorn serves it in the benchmark, plus bare "hello" routes (text, and JSON for
the API) as the baselines (same app, same server, same middleware). BENCH_CACHES=production
turns production's caches on (kept member rows, localities, dashboard); otherwise every page
is rendered afresh (the test configuration turns every cache off)."""

from __future__ import annotations

import os

from flask import jsonify

from config import Config, TestConfig
from coopreg import create_app
from coopreg.auth.access import public

CACHES = ("LOCALITIES_CACHE_SECONDS", "MEMBER_ROWS_CACHE_SIZE", "DASHBOARD_CACHE_SECONDS")

app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=os.environ["BENCH_DATABASE_URL"],
                 RATELIMIT_ENABLED=False,
                 # the API benchmark's token asks far more than a script may (600 a minute)
                 API_RATE_LIMIT=os.environ.get("BENCH_API_RATE_LIMIT", "10000000 per minute"),
                 **({name: getattr(Config, name) for name in CACHES}
                    if os.environ.get("BENCH_CACHES") == "production" else {}))


@app.route("/hello")
@public
def hello():
    return "hello"


@app.route("/hello.json")
@public
def hello_json():
    """The API benchmark's baseline: a bare JSON answer."""
    return jsonify({"hello": "world"})
