"""The app as gunicorn serves it in the benchmark, plus bare "hello" routes (text, and JSON for
the API) as the baselines (same app, same server, same middleware)."""

from __future__ import annotations

import os

from flask import jsonify

from config import Config, TestConfig
from coopreg import create_app
from coopreg.auth.access import public

app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=os.environ["BENCH_DATABASE_URL"],
                 RATELIMIT_ENABLED=False,
                 # production's setting (the test configuration turns the cache off)
                 LOCALITIES_CACHE_SECONDS=Config.LOCALITIES_CACHE_SECONDS,
                 # production's (on) unless the benchmark asks for every page rendered afresh
                 MEMBER_ROWS_CACHE_SIZE=int(os.environ.get("BENCH_MEMBER_ROWS_CACHE_SIZE",
                                                           Config.MEMBER_ROWS_CACHE_SIZE)),
                 # the API benchmark's token asks far more than a script may (600 a minute)
                 API_RATE_LIMIT=os.environ.get("BENCH_API_RATE_LIMIT", "10000000 per minute"))


@app.route("/hello")
@public
def hello():
    return "hello"


@app.route("/hello.json")
@public
def hello_json():
    """The API benchmark's baseline: a bare JSON answer."""
    return jsonify({"hello": "world"})
