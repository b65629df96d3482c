"""The API's batch and answer endpoints with an institution's desk token: the desk's batches
only (404 for the others), downloads logged as at the desk with the SHA-256 in a header, the
answer read as at the desk; every other endpoint refused; the same rate limits."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from coopreg.agreements.models import Registration, RegistrationStatus
from coopreg.extensions import db
from coopreg.federations.models import DeskEvent
from tests.federations.test_desk import _account, _answer, _sealed_batch


def _token(app, email: str, scope: str = "write") -> dict:
    result = app.test_cli_runner().invoke(args=["federations", "desk-token", email,
                                                "--scope", scope])
    assert result.exit_code == 0, result.output
    return {"Authorization": f"Bearer {result.output.strip().splitlines()[-1]}"}


def test_a_desk_token_reaches_the_desks_batches_only(app, client, coop):
    mine = _sealed_batch(app, coop, "CCSS", "AG-API", mode="desk_applied")
    hidden = _sealed_batch(app, coop, "CCSS", "AG-HAND", mode=None)
    headers = _token(app, _account(app))
    listed = client.get("/api/v1/batches/", headers=headers).get_json()
    assert [b["id"] for b in listed["items"]] == [mine["batch_id"]]
    assert client.get(f"/api/v1/batches/{hidden['batch_id']}",
                      headers=headers).status_code == 404
    assert client.get(f"/api/v1/batches/{hidden['batch_id']}/file",
                      headers=headers).status_code == 404
    assert client.post(f"/api/v1/batches/{hidden['batch_id']}/answers", headers=headers,
                       data={}, content_type="multipart/form-data").status_code == 404
    # the register and the money stay closed
    for url in ("/api/v1/members/", "/api/v1/receipts/",
                f"/api/v1/members/{mine['member_id']}"):
        assert client.get(url, headers=headers).status_code == 403, url

    response = client.get(f"/api/v1/batches/{mine['batch_id']}/file", headers=headers)
    assert response.status_code == 200
    batch = client.get(f"/api/v1/batches/{mine['batch_id']}", headers=headers).get_json()
    assert response.headers["X-Content-SHA256"] == batch["sha256"]
    assert batch["status"] == "sent"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DeskEvent)) == 1

    posted = client.post(f"/api/v1/batches/{mine['batch_id']}/answers", headers=headers,
                         data={"file": (io.BytesIO(_answer(mine["id_number"])), "r.csv")},
                         content_type="multipart/form-data")
    assert posted.status_code == 201, posted.get_json()
    answer = client.get(f"/api/v1/batches/answers/{posted.get_json()['id']}",
                        headers=headers).get_json()
    assert answer["status"] == "applied"  # the agreement says its answers apply at once
    with app.app_context():
        registration = db.session.get(Registration, mine["registration_id"])
        assert registration.status == RegistrationStatus.REGISTERED


def test_a_read_desk_token_does_not_upload(app, client, coop):
    mine = _sealed_batch(app, coop)
    headers = _token(app, _account(app), scope="read")
    refused = client.post(f"/api/v1/batches/{mine['batch_id']}/answers", headers=headers,
                          data={"file": (io.BytesIO(_answer(mine["id_number"])), "r.csv")},
                          content_type="multipart/form-data")
    assert refused.status_code == 403


def test_a_desk_token_has_the_same_rate_limit(app, client, coop, monkeypatch):
    headers = _token(app, _account(app))
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "2/minute")
    codes = [client.get("/api/v1/batches/", headers=headers).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_desk_token_command_refuses_a_user_without_a_desk(app, coop, make_user):
    _uid, email = make_user(coop, "secretary")
    result = app.test_cli_runner().invoke(args=["federations", "desk-token", email])
    assert result.exit_code == 2 and "no institution's desk account" in result.output
