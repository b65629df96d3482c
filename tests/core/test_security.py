"""CSRF kept on (its own suite), security headers, cookies, error pages, production config."""

from __future__ import annotations

import re

import pytest

import config
from coopreg import create_app
from tests.conftest import PASSWORD, login


@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def test_login_without_csrf_token_is_refused(client, coop, make_user, csrf_on):
    _id, email = make_user(coop)
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 400
    assert "The form expired" in response.get_data(as_text=True)


def test_login_with_csrf_token_works(client, coop, make_user, csrf_on):
    _id, email = make_user(coop)
    token = _token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": email, "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302


@pytest.mark.parametrize("path", ["/members/new", "/logout", "/admin/settings", "/admin/users",
                                  "/admin/documents", "/account"])
def test_every_form_needs_the_token(client, coop, make_user, csrf_on, path):
    _id, email = make_user(coop, "admin")
    token = _token(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    response = client.post(path, data={"name": "x"})
    assert response.status_code == 400, path


def test_member_form_with_token_saves(client, coop, make_user, csrf_on):
    _id, email = make_user(coop, "secretary")
    token = _token(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    token = _token(client.get("/members/new").get_data(as_text=True))
    response = client.post("/members/new", data={
        "csrf_token": token, "first_name": "Ana", "last_name": "Mora", "sex": "female",
        "date_of_birth": "1990-02-03", "id_type": "cr_cedula", "id_number": "",
        "sector": "agriculture", "joined_on": "2024-01-01"})
    assert response.status_code == 302


def test_security_headers_on_every_page(client, coop, make_user):
    for response in (client.get("/login"), client.get("/health")):
        headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["Cache-Control"] == "no-store"


def test_pages_have_no_inline_script(client, coop, make_user, make_member):
    make_member(coop)
    _id, email = make_user(coop, "admin")
    login(client, email, cooperative=coop)
    for path in ("/", "/members/", "/admin/users", "/admin/audit", "/login"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>" not in html and " onclick=" not in html, path


def test_session_cookie_is_httponly_and_lax(client, coop, make_user):
    _id, email = make_user(coop)
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_refuses_to_start_without_secret_key(monkeypatch):
    monkeypatch.setattr(config.ProductionConfig, "SECRET_KEY", None)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(config.ProductionConfig)


def test_production_cookies_are_secure(monkeypatch):
    monkeypatch.setattr(config.ProductionConfig, "SECRET_KEY", "x" * 40)
    monkeypatch.setattr(config.ProductionConfig, "SQLALCHEMY_DATABASE_URI", "sqlite://")
    app = create_app(config.ProductionConfig)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-session"
    response = app.test_client().get("/login")
    assert "Strict-Transport-Security" in response.headers


def test_unknown_page_is_a_generic_404(client, coop, make_user):
    _id, email = make_user(coop)
    login(client, email)
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Traceback" not in response.get_data(as_text=True)


def test_health_needs_no_login_and_reveals_nothing(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "checks": {"database": "ok"},
                                   "rate_limits": "shared"}


def test_oversized_upload_gets_a_clear_413(client, coop, make_user, app):
    _id, email = make_user(coop, "secretary")
    login(client, email)
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = client.post("/members/new", data={"notes": "x" * (limit + 1)})
    assert response.status_code == 413
    assert "File too large" in response.get_data(as_text=True)


@pytest.mark.no_transaction
def test_on_sqlite_pages_are_read_while_someone_holds_the_write_lock(tmp_path):
    """A GET reads in a deferred transaction (one WAL snapshot, no write lock): a long save
    elsewhere does not make the member list wait, nor fail with "database is locked"."""
    import sqlite3

    from flask_migrate import upgrade

    from config import TestConfig
    from coopreg import create_app
    from coopreg.auth import services as auth_services
    from coopreg.cooperatives.services import create_cooperative
    from coopreg.core.audit import acting_as
    from coopreg.extensions import db
    from coopreg.members.services import create_member
    from tests.conftest import PASSWORD, member_data

    path = tmp_path / "office.sqlite"
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}",
                     EXPORT_DIR=str(tmp_path / "exports"))
    try:
        with app.app_context(), acting_as(None, "tests"):
            upgrade()
            cooperative = create_cooperative("READ", "Read", "CR", "CRC")
            user = auth_services.create_user("reader@example.org", "Reader", PASSWORD)
            auth_services.grant_role(user, cooperative, "secretary")
            create_member(cooperative, member_data(first_name="Amalia"), confirm_duplicate=True)
            db.session.commit()
        client = app.test_client()
        assert client.post("/login", data={"email": "reader@example.org",
                                           "password": PASSWORD}).status_code == 302
        writer = sqlite3.connect(path, timeout=0.1)
        writer.execute("BEGIN IMMEDIATE")  # someone else is saving
        writer.execute("UPDATE cooperatives SET name = 'Saving' WHERE code = 'READ'")
        try:
            page = client.get("/members/")
            assert page.status_code == 200 and "Amalia" in page.get_data(as_text=True)
        finally:
            writer.rollback()
            writer.close()
    finally:
        with app.app_context():
            db.engine.dispose()
