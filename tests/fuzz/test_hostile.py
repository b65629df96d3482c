"""Hostile input never breaks the app: generated or mutated spreadsheets and random form posts
to every route give a clear answer (a refusal or a form error), never an unhandled exception,
never a 500, and never a half-written register. Small here; `make fuzz` runs it at full size."""

from __future__ import annotations

import io
import random
from collections import Counter

import pytest
from sqlalchemy import func, select

from coopreg.core.errors import DomainError
from coopreg.core.spreadsheets import ReadLimits, read_table
from coopreg.extensions import db
from coopreg.members.models import Member
from tests.conftest import login
from tests.core.test_access_matrix import ACCESS, _ids_in
from tests.fuzz.hostile import FILES, POSTS, hostile_files, random_value

LIMITS = ReadLimits(max_bytes=5 * 1024 * 1024, max_uncompressed_bytes=3 * 1024 * 1024,
                    max_rows=2_000, max_columns=100)


def test_hostile_files_get_a_clear_refusal_or_a_clean_read():
    outcomes: Counter = Counter()
    for name, data, how in hostile_files(FILES):
        try:
            table = read_table(data, filename=name, limits=LIMITS)
        except DomainError as refusal:
            assert refusal.message and len(refusal.message) < 400, how
            outcomes["refused"] += 1
        else:
            assert len(table.rows) <= LIMITS.max_rows, how
            outcomes["read"] += 1
    assert sum(outcomes.values()) == FILES
    assert outcomes["refused"] > FILES // 4, outcomes


def test_hostile_uploads_through_the_page_write_no_member(app, client, coop, make_user,
                                                          make_member):
    make_member(coop)
    _uid, email = make_user(coop, "secretary")
    login(client, email, cooperative=coop)
    statuses: Counter = Counter()
    for number, (name, data, how) in enumerate(hostile_files(max(24, FILES // 10), seed=11)):
        response = client.post("/imports/", data={"file": (io.BytesIO(data), name)},
                               content_type="multipart/form-data")
        assert response.status_code < 500, (how, number)
        statuses[response.status_code] += 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Member)) == 1
    assert statuses


def _urls(app, ids):
    from flask import url_for
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint == "static" or rule.endpoint == "auth.logout":
                continue
            if rule.endpoint not in ACCESS:  # the API: fuzzed by tests/api/test_api_schema
                continue
            yield rule, url_for(rule.endpoint, **{arg: ids[arg] for arg in rule.arguments})


def test_random_form_posts_to_every_route_never_give_a_500(app, client, coop, make_user,
                                                          make_member):
    rng = random.Random(3)
    ids = _ids_in(app, coop, make_member, make_user)
    _uid, email = make_user(coop, "admin")
    login(client, email, cooperative=coop)
    field_names = ["name", "email", "password", "role", "first_name", "last_name", "sex",
                   "date_of_birth", "id_type", "id_number", "phone", "amount", "member_id",
                   "received_on", "method", "reason", "status", "effective_on", "reference",
                   "period", "through", "kind", "agreement_id", "locale", "q", "after",
                   "before", "sort", "rule_kind", "flat_amount", "schedule", "due_day",
                   "valid_from", "cooperative_id", "header_row", "idempotency_key", "count",
                   "total", "confirm", "file", "format", "as_of", "lines", "collected_on"]
    tried = 0
    for rule, url in _urls(app, ids):
        assert rule.endpoint in ACCESS
        for _ in range(POSTS):
            data = {name: random_value(rng) for name in rng.sample(field_names, 12)}
            if "POST" in rule.methods:
                response = client.post(url, data=data)
            else:
                response = client.get(url, query_string=data)
            assert response.status_code < 500, (rule.endpoint, data)
            tried += 1
            if response.status_code == 302 and "/login" in response.headers.get("Location", ""):
                login(client, email, cooperative=coop)
    assert tried >= len(ACCESS) * POSTS * 0.9


@pytest.mark.parametrize("path", ["/members/?after=%FF%FE", "/members/?sort=x&before=!!",
                                  "/members/999999999999999999999", "/admin/audit?before=x",
                                  "/members/?q=" + "%25" * 300,
                                  "/batches/?agreement_id=" + "9" * 30,
                                  "/admin/audit?entity=members&entity_id=" + "9" * 30])
def test_odd_addresses(client, coop, make_user, path):
    _uid, email = make_user(coop, "admin")
    login(client, email, cooperative=coop)
    assert client.get(path).status_code in (200, 400, 404)
