"""Goals 1 and 2: member pages stay flat as the register grows, and stay light.

Goal 1 loads two cooperatives into one database, SMALL (10,000 members) and LARGE (1,000,000),
and times each page (median of repeated requests through the test client) in both: the ratio
LARGE / SMALL must stay ≤ 1.5. Goal 2 serves the app with gunicorn (2 sync workers) on
loopback and compares the member list's requests per second with a bare "hello" route.
"""

from __future__ import annotations

import base64
import http.cookiejar
import json
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import sqlalchemy as sa

from bench.common import (
    Goal,
    drop_database,
    fresh_database,
    median_seconds,
    requests_per_second,
)
from bench.generate import load_members

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "a long benchmark passphrase"


def _cursor(value, member_id) -> str:
    raw = json.dumps([value, member_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _setup(url: str, small: int, large: int):
    from flask_migrate import upgrade

    from config import Config, TestConfig
    from coopreg import create_app
    from coopreg.auth import services as auth_services
    from coopreg.cooperatives.services import create_cooperative
    from coopreg.core.audit import acting_as
    from coopreg.extensions import db

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url, RATELIMIT_ENABLED=False,
                     LOCALITIES_CACHE_SECONDS=Config.LOCALITIES_CACHE_SECONDS)
    with app.app_context(), acting_as(None, "bench"):
        upgrade()
        coops = {}
        for code, count, seed in (("SMALL", small, 1), ("LARGE", large, 2)):
            cooperative = create_cooperative(code, code.title(), "CR", "CRC")
            coops[code] = (cooperative.id, count, seed)
        user = auth_services.create_user("bench@example.org", "Bench", PASSWORD)
        for code in coops:
            from coopreg.cooperatives.models import Cooperative
            auth_services.grant_role(user, db.session.get(Cooperative, coops[code][0]), "admin")
        db.session.commit()
        db.session.close()
        for code, (cooperative_id, count, seed) in coops.items():
            started = time.perf_counter()
            with db.engine.begin() as conn:
                rate = load_members(conn, cooperative_id, "CR", count, seed=seed)
            print(f"  loaded {count:,} members into {code} in "
                  f"{time.perf_counter() - started:.0f} s ({rate:,.0f} rows/s)", flush=True)
    return app, {code: value[0] for code, value in coops.items()}


def _probes(app, cooperative_id: int) -> dict[str, str]:
    """The URLs to time in one cooperative: a member in the middle of the register."""
    from coopreg.extensions import db

    with app.app_context():
        count = db.session.execute(sa.text(
            "SELECT count(*) FROM members WHERE cooperative_id = :c"),
            {"c": cooperative_id}).scalar()
        search_name, member_id, id_number = db.session.execute(sa.text(
            "SELECT search_name, id, id_number FROM members WHERE cooperative_id = :c "
            "ORDER BY search_name, id LIMIT 1 OFFSET :o"),
            {"c": cooperative_id, "o": count // 2}).one()
    words = search_name.split()
    name_query = " ".join(words[:3])  # "nunez solis maria": surnames and given name, no accents
    return {
        "list, first page": "/members/",
        "list, a page deep in the register": "/members/?after=" + _cursor(search_name,
                                                                            member_id),
        "search by national ID": "/members/?q=" + urllib.parse.quote(id_number),
        "accent-insensitive name search": "/members/?q=" + urllib.parse.quote(name_query),
        "member page": f"/members/{member_id}",
    }


def goal_flat_pages(kind: str, small: int, large: int) -> tuple[Goal, str]:
    goal = Goal(1, f"flat pages ({kind})", f"each page at {large:,} members ≤ 1.5× its time "
                f"at {small:,} members (median of repeated requests through the test client, "
                "each page rendered afresh: kept rows turned off)")
    url = fresh_database(kind, "pages")
    app, coops = _setup(url, small, large)
    client = app.test_client()
    response = client.post("/login", data={"email": "bench@example.org", "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    times: dict[str, dict[str, float]] = {}
    for code, cooperative_id in coops.items():
        with client.session_transaction() as session:
            session["cooperative_id"] = cooperative_id
        for label, path in _probes(app, cooperative_id).items():
            def request(path=path):
                r = client.get(path)
                assert r.status_code == 200, (path, r.status_code)
            times.setdefault(label, {})[code] = median_seconds(request, repeat=21)
    goal.lines = ["| page | SMALL (ms) | LARGE (ms) | ratio |", "| --- | --- | --- | --- |"]
    worst = 0.0
    for label, pair in times.items():
        ratio = pair["LARGE"] / pair["SMALL"]
        worst = max(worst, ratio)
        goal.lines.append(f"| {label} | {pair['SMALL'] * 1000:.1f} | "
                          f"{pair['LARGE'] * 1000:.1f} | {ratio:.2f}× |")
    goal.met = worst <= 1.5
    if not goal.met and kind == "sqlite":
        goal.note = ("Why: on SQLite the \"contains\" searches (a part of a name, an ID or a "
                     "phone) read every member of the cooperative: SQLite has no trigram "
                     "index. What would get there: an FTS5 table with the trigram tokenizer "
                     "kept by triggers, searched instead of LIKE. The goal itself is set on "
                     "PostgreSQL, where trigram indexes serve these searches.")
    goal.lines.append("")
    goal.lines.append(f"Worst ratio: {worst:.2f}×.")
    return goal, url


def _rps(base: str, path: str, cookie: str, seconds: float = 5.0, threads: int = 4) -> float:
    return requests_per_second(base, path, {"Cookie": cookie}, seconds, threads)


def _serve_and_measure(url: str, rows_cache_size: int | None) -> tuple[float, float]:
    """Start gunicorn (2 sync workers) on the app, log in, choose the LARGE cooperative;
    returns (hello requests/s, member list requests/s)."""
    port = 5987
    env = dict(os.environ, BENCH_DATABASE_URL=url, PYTHONPATH=str(ROOT))
    if rows_cache_size is not None:
        env["BENCH_MEMBER_ROWS_CACHE_SIZE"] = str(rows_cache_size)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--worker-class", "sync",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "bench.wsgi:app"],
        cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/hello", timeout=1).read()
                break
            except OSError:
                time.sleep(0.2)
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        opener.open(base + "/login", data=urllib.parse.urlencode(
            {"email": "bench@example.org", "password": PASSWORD}).encode()).read()
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            large_id = conn.execute(sa.text(
                "SELECT id FROM cooperatives WHERE code = 'LARGE'")).scalar()
        engine.dispose()
        opener.open(base + "/cooperative", data=urllib.parse.urlencode(
            {"cooperative_id": large_id}).encode()).read()
        cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
        _rps(base, "/hello", cookie, seconds=1)
        hello = _rps(base, "/hello", cookie)
        members = _rps(base, "/members/", cookie)
    finally:
        server.terminate()
        server.wait(10)
    return hello, members


def goal_light_pages(url: str, kind: str) -> Goal:
    goal = Goal(2, f"light pages ({kind})", "the member list served by gunicorn (2 sync "
                "workers) answers ≥ 25% of the requests per second of a bare hello route")
    hello, members = _serve_and_measure(url, None)
    fresh_hello, fresh_members = _serve_and_measure(url, 0)
    ratio = members / hello
    fresh_ratio = fresh_members / fresh_hello
    goal.met = ratio >= 0.25
    if not goal.met:
        goal.note = (
            "Why: the hello route reads no session user and no database; the member list "
            "loads the logged-in user with its memberships (one query) and, unless the page "
            "is kept, the page of 50 members (one query) and renders 50 rows, inside the "
            "full layout with its menu and translated labels. What would get there: a "
            "lighter layout, or loading the user without the ORM.")
    goal.lines = [
        f"- hello: {hello:,.0f} requests/s",
        f"- member list (LARGE cooperative, first page), as production serves it (rendered "
        f"rows kept until the register changes): {members:,.0f} requests/s",
        f"- ratio: **{ratio:.0%}**",
        f"- for information, every page rendered afresh (the first view after a change; "
        f"COOPREG_MEMBER_ROWS_CACHE_SIZE=0): hello {fresh_hello:,.0f}, member list "
        f"{fresh_members:,.0f} requests/s, {fresh_ratio:.0%}",
    ]
    return goal


def run(kind: str, small: int, large: int) -> list[Goal]:
    goal1, url = goal_flat_pages(kind, small, large)
    try:
        goal2 = goal_light_pages(url, kind)
    finally:
        drop_database(url)
    return [goal1, goal2]
