"""The API tokens page of one's account: a token's secret shown once, its hint listed, bad
input refused with the field named, revoking asks first, and another person's token is 404."""

from __future__ import annotations

import re

from coopreg.auth.tokens import ApiToken
from coopreg.extensions import db
from tests.conftest import login


def test_create_use_and_revoke_a_token_from_the_page(app, client, coop, as_role):
    as_role("treasurer")
    page = client.get("/account/tokens")
    assert page.status_code == 200 and "No token yet" in page.get_data(as_text=True)
    created = client.post("/account/tokens", data={"name": "Dashboard", "scope": "read",
                                                    "days": "30"})
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    secret = re.search(r'id="new-token">([^<]+)<', created.get_data(as_text=True)).group(1)
    assert client.get("/api/v1/members/", headers={
        "Authorization": f"Bearer {secret}"}).status_code == 200
    again = client.get("/account/tokens").get_data(as_text=True)
    assert secret not in again and secret[:14] in again and "Dashboard" in again
    with app.app_context():
        token_id = db.session.scalar(db.select(ApiToken.id))
    asked = client.post(f"/account/tokens/{token_id}/revoke")
    assert asked.status_code == 409  # the confirmation step, nothing revoked yet
    assert client.get("/api/v1/members/", headers={
        "Authorization": f"Bearer {secret}"}).status_code == 200
    done = client.post(f"/account/tokens/{token_id}/revoke", data={"confirmed": "y"})
    assert done.status_code == 302
    assert client.get("/api/v1/members/", headers={
        "Authorization": f"Bearer {secret}"}).status_code == 401


def test_bad_input_is_refused_and_another_persons_token_is_not_found(app, client, coop,
                                                                      as_role, make_user):
    as_role("secretary")
    refused = client.post("/account/tokens", data={"name": "", "scope": "all", "days": "999"})
    assert refused.status_code == 422
    with app.app_context():
        assert db.session.scalar(db.select(ApiToken.id)) is None
    client.post("/account/tokens", data={"name": "Mine", "scope": "write", "days": "5"})
    with app.app_context():
        token_id = db.session.scalar(db.select(ApiToken.id))
    client.post("/logout")
    _uid, email = make_user(coop, "admin")
    login(client, email, cooperative=coop)
    assert client.post(f"/account/tokens/{token_id}/revoke",
                       data={"confirmed": "y"}).status_code == 404


def test_the_list_says_what_each_token_may_do_in_the_users_language(app, client, coop,
                                                                     make_user):
    """A French treasurer reads her tokens' scopes through the label table, not as codes."""
    from coopreg.auth.models import User

    user_id, email = make_user(coop, "treasurer")
    with app.app_context():
        db.session.get(User, user_id).locale = "fr"
        db.session.commit()
    login(client, email, cooperative=coop)
    for name, scope in (("Tableau", "read"), ("Mobile", "write")):
        assert client.post("/account/tokens", data={"name": name, "scope": scope,
                                                    "days": "30"}).status_code == 201
    page = client.get("/account/tokens").get_data(as_text=True)
    assert "lire seulement" in page and "lire et écrire" in page
    assert "read only" not in page and "read and write" not in page
