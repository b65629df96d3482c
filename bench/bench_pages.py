"""Goals 1 and 2: every page stays flat as the register grows, and the member list stays light.

Goal 1 loads two cooperatives into one database, SMALL (10,000 members) and LARGE (1,000,000),
each with a year of history (bench/generate.py: an agreement, 12 months of dues, receipts for
two thirds of the members), and opens EVERY page of the app's route list (every GET route of
`app.url_map` but the few non-pages in NOT_PAGES) as each role allowed to open it (secretary,
treasurer, admin, viewer; the access each view declares). Pages are rendered fresh (the test
configuration: every cache off); SMALL and LARGE requests are interleaved, medians of 3. Each
page's LARGE / SMALL ratio must stay ≤ 1.5 and its LARGE time under 1 s.
tests/core/test_bench_pages.py fails when a GET route has no entry here.

Goal 2 serves the app with gunicorn (2 sync workers) on loopback and compares the member
list's requests per second with a bare "hello" route, every page rendered afresh (the cached
figure is reported for information).
"""

from __future__ import annotations

import http.cookiejar
import os
import statistics
import subprocess
import sys
import time
import types
import urllib.parse
import urllib.request
from pathlib import Path

import sqlalchemy as sa

from bench.common import (
    BENCH_DIR,
    Goal,
    drop_database,
    fresh_database,
    requests_per_second,
)
from bench.generate import load_history, load_members

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "a long benchmark passphrase"
ROLES = ("secretary", "treasurer", "admin", "viewer")
REPEAT = 3

# GET routes that are not pages a person waits for, and why they are left out
NOT_PAGES = {
    "static": "files served from disk (CSS, scripts), the same at any size",
    "core.health": "the load balancer's health check, not a page; reads no register",
    "auth.login": "a logged-in person is sent on (302); the form itself reads no register",
    "auth.join": "an invitation's page for someone not logged in; reads one invitation by "
                 "its token, never the register",
    "imports.problems": "a download of the problems file a preview stored: its size is the "
                        "imported file's, not the register's (goal 4 times imports)",
    "jobs.download": "a download of a file a finished job stored: its size is the export's "
                     "(goal 3 times the writing), not the register's",
    "field.view_photo": "a photo taken in the field, read from disk: its size is the "
                        "photo's, not the register's",
}


def missing_entries(app) -> list[str]:
    """What keeps the bench from opening every page: a GET route neither timed nor in
    NOT_PAGES cannot happen (pages() takes every one), so these are a route taking an
    argument the bench cannot fill, a page no role may open, or a NOT_PAGES entry for a
    route that no longer exists."""
    problems = []
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    problems += [f"{e}: in NOT_PAGES but no such GET route" for e in NOT_PAGES
                 if e not in endpoints]
    for endpoint, rule in pages(app).items():
        unknown = set(rule.arguments) - ID_ARGUMENTS
        if unknown:
            problems.append(f"{endpoint}: the bench cannot fill {sorted(unknown)}")
        from coopreg.auth.access import ACCESS_ATTR
        if getattr(app.view_functions[endpoint], ACCESS_ATTR, None) is None:
            problems.append(f"{endpoint}: declares no access, so no role opens it")
        elif not roles_of(app, endpoint):
            problems.append(f"{endpoint}: no role of the bench may open it")
    return problems

# URL arguments the bench fills (see page_ids): a route taking another argument fails
# tests/core/test_bench_pages.py until the bench learns how to fill it
ID_ARGUMENTS = frozenset({
    "member_id", "dependant_id", "type_id", "membership_id", "invitation_id", "token",
    "institution_id", "scheme_id", "agreement_id", "registration_id", "batch_id", "ack_id",
    "layout_id", "column_id", "receipt_id", "remittance_id", "due_id", "statement_id",
    "statement_line_id", "run_id", "job_id", "answer_id",
    # the platform admin's page of a federation (tests/federations/access.py make_ids)
    "federation_id",
})


def pages(app) -> dict[str, object]:
    """Every GET route of the app but NOT_PAGES: endpoint → rule."""
    return {rule.endpoint: rule for rule in app.url_map.iter_rules()
            if "GET" in rule.methods and rule.endpoint not in NOT_PAGES}


def roles_of(app, endpoint: str) -> tuple[str, ...]:
    """The roles that may open a page, as its view declares (public and login-only pages:
    every role)."""
    from coopreg.auth.access import ACCESS_ATTR

    declared = getattr(app.view_functions[endpoint], ACCESS_ATTR)
    if declared[0] in ("roles", "token"):  # a page's roles, or the API's (a role's token)
        allowed = {role.value for role in declared[1]}
        return tuple(role for role in ROLES if role in allowed)
    return ROLES


def _email(role: str) -> str:
    return f"{role}@bench.example.org"


def setup(url: str, sizes: dict[str, int]):
    """Migrate a fresh database; one cooperative per size, each with its members and a
    year of history; one user per role holding that role in every cooperative.
    Returns (app, {code: ids for the page URLs}, {step: seconds})."""
    from flask_migrate import upgrade

    from config import TestConfig
    from coopreg import create_app
    from coopreg.auth import services as auth_services
    from coopreg.cooperatives.models import Cooperative
    from coopreg.cooperatives.services import create_cooperative
    from coopreg.core.audit import acting_as
    from coopreg.extensions import db

    backend = sa.engine.make_url(url).get_backend_name()  # the two may run at once
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url, RATELIMIT_ENABLED=False,
                     EXPORT_DIR=str(BENCH_DIR / f"exports-{backend}"))
    timings: dict[str, float] = {}
    all_ids: dict[str, dict] = {}
    with app.app_context(), acting_as(None, "bench"):
        upgrade()
        coops = {}
        for code in sizes:
            coops[code] = create_cooperative(code, code.title(), "CR", "CRC").id
        for role in ROLES:
            user = auth_services.create_user(_email(role), f"Bench {role}", PASSWORD)
            for cooperative_id in coops.values():
                auth_services.grant_role(user, db.session.get(Cooperative, cooperative_id),
                                         role)
        db.session.commit()
        db.session.close()
        for seed, (code, count) in enumerate(sizes.items(), start=1):
            started = time.perf_counter()
            with db.engine.begin() as conn:
                rate = load_members(conn, coops[code], "CR", count, seed=seed)
            timings[f"{code}: {count:,} members"] = time.perf_counter() - started
            print(f"  {code}: {count:,} members in {time.perf_counter() - started:.0f} s "
                  f"({rate:,.0f} rows/s)", flush=True)
            history = load_history(coops[code], code)
            for step, seconds in history["timings"].items():
                timings[f"{code}: {step}"] = seconds
                print(f"  {code}: {step} in {seconds:.0f} s", flush=True)
            all_ids[code] = page_ids(app, coops[code], history["ids"])
        db.session.close()
    return app, all_ids, timings


def page_ids(app, cooperative_id: int, history: dict) -> dict:
    """The ids the page URLs take in one cooperative: the access matrix's objects (each area's
    tests/<area>/access.py make_ids), with the year of history's agreement, member,
    registration, receipt and due in their place, so the pages read the large register."""
    from coopreg.auth import invitations
    from coopreg.auth.models import Membership, User
    from coopreg.cooperatives.models import Cooperative, DocumentType
    from coopreg.core.audit import acting_as
    from coopreg.extensions import db
    from coopreg.members import services as member_services
    from coopreg.members.models import Member
    from tests.area_access import AREA_MODULES

    spare = iter(db.session.scalars(
        sa.select(Member.id).where(Member.cooperative_id == cooperative_id,
                                   Member.id % 20 != 0).order_by(Member.id).limit(50)))

    def make_member(cooperative, **_overrides):
        return types.SimpleNamespace(id=next(spare), cooperative_id=cooperative_id)

    with app.test_request_context(), acting_as(None, "bench"):
        cooperative = db.session.get(Cooperative, cooperative_id)
        member = db.session.get(Member, history["member_id"])
        dependant = member_services.add_dependant(member, "Child Name", "child", None, None)
        type_id = db.session.scalar(sa.select(DocumentType.id).where(
            DocumentType.cooperative_id == cooperative_id))
        membership_id = db.session.scalar(sa.select(Membership.id).join(User).where(
            Membership.cooperative_id == cooperative_id, User.email == _email("viewer")))
        invitation, token = invitations.invite(cooperative, f"invited{cooperative_id}@example.org",
                                               "", "viewer", None)
        ids = {"dependant_id": dependant.id, "type_id": type_id,
               "membership_id": membership_id, "invitation_id": invitation.id,
               "token": token, "api_secrets": _api_secrets(cooperative)}
        db.session.commit()
    factories = {"make_member": make_member, "member_id": history["member_id"]}
    for module in AREA_MODULES:
        ids.update(module.make_ids(app, types.SimpleNamespace(id=cooperative_id), factories))
    ids.update(history)
    ids["answer_id"] = ids["ack_id"]  # the API's name for a batch's answer
    ids["cooperative_id"] = cooperative_id
    return ids


def _api_secrets(cooperative) -> dict[str, str]:
    """role → the secret of a read token of that role's bench user in the cooperative (the
    API's pages are opened with it, as an integration would)."""
    from coopreg.auth.models import User
    from coopreg.auth.tokens import create_token
    from coopreg.extensions import db

    secrets = {}
    for role in ROLES:
        user = db.session.scalar(sa.select(User).where(User.email == _email(role)))
        secrets[role] = create_token(user, cooperative, "bench")[1]
    return secrets


def _is_api(app, endpoint: str) -> bool:
    from coopreg.auth.access import ACCESS_ATTR

    return getattr(app.view_functions[endpoint], ACCESS_ATTR)[0] == "token"


def _urls(app, ids: dict) -> dict[str, str]:
    from flask import url_for

    with app.test_request_context():
        return {endpoint: url_for(endpoint, **{a: ids[a] for a in rule.arguments})
                for endpoint, rule in pages(app).items()}


def chosen(endpoint: str, only: tuple[str, ...]) -> bool:
    """Whether `--pages` keeps a page: no filter keeps every page; a name ending in '.'
    keeps an area's every page, another name that one endpoint."""
    return not only or any(endpoint.startswith(name) if name.endswith(".")
                           else endpoint == name for name in only)


def time_pages(app, all_ids: dict[str, dict], repeat: int = REPEAT,
               progress: bool = True, only: tuple[str, ...] = ()) -> dict:
    """Open every page (or those `only` names, see `chosen`) as every role allowed to, in
    every cooperative, interleaved (each pass visits each page in each cooperative in turn,
    alternating which goes first). Returns {(endpoint, role): {code: (median seconds,
    [statuses])}}."""
    codes = list(all_ids)
    urls = {code: _urls(app, ids) for code, ids in all_ids.items()}
    clients = {}
    for role in ROLES:
        for code in codes:
            client = app.test_client()
            response = client.post("/login", data={"email": _email(role),
                                                    "password": PASSWORD})
            assert response.status_code == 302, response.status_code
            with client.session_transaction() as session:
                session["cooperative_id"] = all_ids[code]["cooperative_id"]
            clients[role, code] = client
    endpoints = sorted(e for e in pages(app) if chosen(e, only))
    api = {endpoint: _is_api(app, endpoint) for endpoint in endpoints}
    samples: dict = {}
    statuses: dict = {}
    for pass_number in range(repeat + 1):  # the first pass warms up (templates, caches of
        order = codes if pass_number % 2 else codes[::-1]  # the database), is not counted
        for role in ROLES:
            if pass_number == 0 and role != "admin":
                continue
            for endpoint in endpoints:
                if role not in roles_of(app, endpoint):
                    continue
                for code in order:
                    headers = ({"Authorization": "Bearer " + all_ids[code]["api_secrets"][role]}
                               if api[endpoint] else {})
                    started = time.perf_counter()
                    response = clients[role, code].get(urls[code][endpoint], headers=headers)
                    response.get_data()
                    seconds = time.perf_counter() - started
                    response.close()
                    if pass_number:
                        samples.setdefault((endpoint, role), {}).setdefault(code, []).append(
                            seconds)
                        statuses.setdefault((endpoint, role), {}).setdefault(code, set()).add(
                            response.status_code)
        if progress:
            print(f"  pass {pass_number} done", flush=True)
    return {key: {code: (statistics.median(values), sorted(statuses[key][code]))
                  for code, values in by_code.items()}
            for key, by_code in samples.items()}


def _verdict(small: float, large: float) -> bool:
    return large / small <= 1.5 and large < 1.0


def goal_flat_pages(kind: str, small: int, large: int,
                    only: tuple[str, ...] = ()) -> tuple[Goal, str]:
    goal = Goal(1, f"every page flat ({kind})",
                f"each page, for each role that may open it, at {large:,} members ≤ 1.5× its "
                f"time at {small:,} members and under 1 s (every GET route of the app; "
                "requests through the test client, every cache off, SMALL and LARGE "
                "interleaved, median of 3)")
    url = fresh_database(kind, "pages")
    started = time.perf_counter()
    app, all_ids, timings = setup(url, {"SMALL": small, "LARGE": large})
    loaded = time.perf_counter() - started
    results = time_pages(app, all_ids, only=only)
    rows = []
    for (endpoint, role), by_code in results.items():
        (s, s_status), (lg, l_status) = by_code["SMALL"], by_code["LARGE"]
        rows.append((lg / s, endpoint, role, s, lg, sorted(set(s_status) | set(l_status))))
    rows.sort(key=lambda r: (-r[0], r[1], r[2]))
    missed = [r for r in rows if not _verdict(r[3], r[4])]
    not_ok = [r for r in rows if set(r[5]) - {200, 302}]
    goal.met = not missed and not not_ok
    goal.lines = [
        f"Data: {large:,} members (LARGE) and {small:,} (SMALL), each with 12 months of dues "
        f"and receipts for two thirds of the members; loaded in {loaded:.0f} s:", ""]
    goal.lines += [f"- {step}: {seconds:.1f} s" for step, seconds in timings.items()]
    goal.lines += [
        "", f"{len(rows)} page × role pairs over {len({r[1] for r in rows})} pages; "
        f"**{len(rows) - len(missed)} met, {len(missed)} not met**"
        + (f"; {len(not_ok)} answered an error (status column)" if not_ok else "")
        + ". Sorted by ratio, worst first.", "",
        "| page (endpoint) | role | SMALL (ms) | LARGE (ms) | ratio | status | goal |",
        "| --- | --- | --- | --- | --- | --- | --- |"]
    for ratio, endpoint, role, s, lg, status in rows:
        mark = "met" if _verdict(s, lg) else "**NOT met**"
        goal.lines.append(f"| {endpoint} | {role} | {s * 1000:,.1f} | {lg * 1000:,.1f} | "
                          f"{ratio:.2f}× | {','.join(map(str, status))} | {mark} |")
    if only:
        goal.lines[2:2] = ["", "Only the pages asked for were timed (`--pages "
                           + ",".join(only) + "`): not a verdict on every page."]
    if large < 1_000_000:
        goal.note = (f"This run's LARGE is {large:,} members, not the goal's 1,000,000 "
                     "(`--large` was given): the ratios understate what 1,000,000 would show "
                     "for the pages that grow.")
    return goal, url

def _rps(base: str, path: str, cookie: str, seconds: float = 5.0, threads: int = 4) -> float:
    return requests_per_second(base, path, {"Cookie": cookie}, seconds, threads)


def _serve_and_measure(url: str, cached: bool) -> tuple[float, float]:
    """Start gunicorn (2 sync workers) on the app, log in, choose the LARGE cooperative;
    returns (hello requests/s, member list requests/s). `cached`: production's caches on
    (kept rows, localities, dashboard); otherwise every page is rendered afresh."""
    port = 5987 if url.startswith("sqlite") else 5988  # the two databases may run at once
    env = dict(os.environ, BENCH_DATABASE_URL=url, PYTHONPATH=str(ROOT),
               BENCH_CACHES="production" if cached else "off")
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
            {"email": _email("admin"), "password": PASSWORD}).encode()).read()
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
    goal = Goal(2, f"light pages, rendered fresh ({kind})",
                "the member list served by gunicorn (2 sync workers), every page rendered "
                "afresh (no kept rows, no cache), answers ≥ 25% of the requests per second "
                "of a bare hello route")
    fresh_hello, fresh_members = _serve_and_measure(url, cached=False)
    hello, members = _serve_and_measure(url, cached=True)
    fresh_ratio = fresh_members / fresh_hello
    ratio = members / hello
    goal.met = fresh_ratio >= 0.25
    if not goal.met:
        goal.note = (
            "Why: the hello route reads no session user and no database; the member list "
            "loads the logged-in user with its memberships (one query), the page of 50 "
            "members (one query) and renders 50 rows inside the full layout with its menu "
            "and translated labels. What would get there: a lighter layout, or loading the "
            "user without the ORM.")
    goal.lines = [
        f"- hello: {fresh_hello:,.0f} requests/s",
        f"- member list (LARGE cooperative, first page), every page rendered afresh "
        f"(caches off): {fresh_members:,.0f} requests/s",
        f"- ratio: **{fresh_ratio:.0%}** (the goal)",
        f"- for information only, with production's caches on (the rows of a page kept "
        f"until the register changes, so most requests are answered from memory): hello "
        f"{hello:,.0f}, member list {members:,.0f} requests/s, {ratio:.0%}",
    ]
    return goal


def run(kind: str, small: int, large: int, only: tuple[str, ...] = (),
        light: bool = True) -> list[Goal]:
    """Goal 1 (the pages `only` names, or every page) and, when `light`, goal 2."""
    goal1, url = goal_flat_pages(kind, small, large, only)
    try:
        goals = [goal1]
        if light:
            goals.append(goal_light_pages(url, kind))
    finally:
        drop_database(url)
    return goals
