"""The API: tokens made and refused, members read within the token's cooperative only, errors
as problem+json in the caller's language, the OpenAPI document and its page."""

from __future__ import annotations

from coopreg.auth.tokens import ApiToken
from coopreg.extensions import db
from tests.factories import cedula


def test_a_token_reads_its_cooperatives_members_page_by_page(client, coop, make_member,
                                                              token_for, bearer):
    made = [make_member(coop, first_name=f"Ana{i}") for i in range(3)]
    secret, _email = token_for("secretary")
    response = client.get("/api/v1/members/?limit=2", headers=bearer(secret))
    assert response.status_code == 200, response.get_data(as_text=True)
    first = response.get_json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = client.get(f"/api/v1/members/?limit=2&cursor={first['next_cursor']}",
                        headers=bearer(secret)).get_json()
    seen = [m["id"] for m in first["items"] + second["items"]]
    assert sorted(seen) == sorted(m.id for m in made) and second["next_cursor"] is None
    one = client.get(f"/api/v1/members/{made[0].id}", headers=bearer(secret))
    assert one.status_code == 200 and one.get_json()["member_number"] == made[0].member_number
    assert one.headers["ETag"]
    again = client.get(f"/api/v1/members/{made[0].id}",
                       headers=bearer(secret, **{"If-None-Match": one.headers["ETag"]}))
    assert again.status_code == 304


def test_another_cooperatives_member_is_404_and_ids_are_masked_for_viewers(
        client, coop, other_coop, make_member, token_for, bearer):
    foreign = make_member(other_coop, id_type="local", id_number="123456789012")
    ours = make_member(coop, id_type="cr_cedula", id_number=cedula())
    secret, _ = token_for("viewer")
    response = client.get(f"/api/v1/members/{foreign.id}", headers=bearer(secret))
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
    assert response.get_json()["type"] == "/api/v1/problems/not-found"
    listed = client.get("/api/v1/members/", headers=bearer(secret)).get_json()["items"]
    assert [m["id"] for m in listed] == [ours.id]
    assert ours.id_number not in listed[0]["id_number"] and "•" in listed[0]["id_number"]


def test_no_token_a_wrong_token_and_a_revoked_one_are_401_in_the_callers_language(
        app, client, token_for, bearer):
    secret, _ = token_for("admin")
    for headers in ({}, bearer("coopreg_forged"), {"Authorization": "Basic eDp5"}):
        response = client.get("/api/v1/members/", headers=headers)
        assert response.status_code == 401 and response.content_type == "application/problem+json"
    spanish = client.get("/api/v1/members/", headers={"Accept-Language": "es"}).get_json()
    assert spanish["type"] == "/api/v1/problems/unauthenticated"
    assert "token" in spanish["title"] and "A valid API token" not in spanish["title"]
    with app.app_context():
        token = db.session.scalar(db.select(ApiToken))
        token_id, code = token.id, token.cooperative.code
    revoked = app.test_cli_runner().invoke(args=["tokens", "revoke", str(token_id),
                                                 "--cooperative", code])
    assert revoked.exit_code == 0, revoked.output
    assert client.get("/api/v1/members/", headers=bearer(secret)).status_code == 401


def test_a_token_follows_its_users_role_and_scope(app, client, coop, token_for, bearer):
    from coopreg.auth import services as auth_services
    from coopreg.core.audit import acting_as

    secret, email = token_for("secretary", scope="read")
    response = client.post("/api/v1/batches/1/answers", headers=bearer(secret))
    assert response.status_code == 403  # a read token never writes
    with app.app_context(), acting_as(None, "tests"):
        user = auth_services.find_user_by_email(email)
        auth_services.revoke_role(user.memberships[0])
        db.session.commit()
    assert client.get("/api/v1/members/", headers=bearer(secret)).status_code == 401


def test_bad_input_names_the_field(client, token_for, bearer):
    secret, _ = token_for("admin")
    response = client.get("/api/v1/members/?limit=0&status=gone", headers=bearer(secret))
    body = response.get_json()
    assert response.status_code == 422 and body["type"] == "/api/v1/problems/invalid"
    assert set(body["errors"]) == {"limit", "status"}


def test_the_openapi_document_and_its_page_are_served_by_the_app(client):
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200
    paths = spec.get_json()["paths"]
    assert "/api/v1/members/" in paths and "/api/v1/batches/{batch_id}/file" in paths
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and "/api/v1/batches/{batch_id}/answers" in page.get_data(
        as_text=True)
    assert "cdn" not in page.get_data(as_text=True).lower()


def test_tokens_cli_refuses_bad_input(app, coop, make_user):
    runner = app.test_cli_runner()
    _uid, email = make_user(coop, "secretary")
    for args, message in [
        (["--user", "nobody@example.org", "--cooperative", coop.code], "No user"),
        (["--user", email, "--cooperative", "NOPE"], "No cooperative"),
        (["--user", email, "--cooperative", coop.code, "--expires", "0"], "0"),
        (["--user", email, "--cooperative", coop.code, "--scope", "all"], "all"),
    ]:
        result = runner.invoke(args=["tokens", "create", *args])
        assert result.exit_code != 0 and message in result.output, result.output


def test_an_id_past_the_databases_integers_is_a_problem_not_a_page(client, token_for, bearer):
    secret, _ = token_for("admin")
    for path in ("/api/v1/members/15192456739", "/api/v1/batches/99999999999999"):
        response = client.get(path, headers=bearer(secret))
        assert response.status_code in (400, 404), path  # 400 where PostgreSQL says so
        assert response.content_type == "application/problem+json", path


def test_each_token_has_its_own_allowance_and_is_told_when_to_come_back(app, client,
                                                                         token_for, bearer,
                                                                         monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "3 per minute")
    monkeypatch.setitem(app.config, "RATELIMIT_KEY_PREFIX", f"t{id(monkeypatch)}")
    first, _ = token_for("admin")
    second, _ = token_for("viewer")
    statuses = [client.get("/api/v1/members/", headers=bearer(first)).status_code
                for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = client.get("/api/v1/members/", headers=bearer(first))
    assert refused.content_type == "application/problem+json"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert client.get("/api/v1/members/", headers=bearer(second)).status_code == 200


def test_a_bad_rate_limit_setting_stops_the_app_at_start():
    import pytest

    from tests.conftest import make_test_app

    with pytest.raises(RuntimeError, match="COOPREG_API_RATE_LIMIT"):
        make_test_app("sqlite://", API_RATE_LIMIT="lots")
