"""Login, logout, sessions, passwords, rate limits and cooperative choice."""

from __future__ import annotations

import pytest

from coopreg.auth import services
from coopreg.auth.models import User
from coopreg.auth.passwords import hash_password, verify_password
from coopreg.cooperatives.models import Cooperative
from coopreg.core.errors import DomainError
from coopreg.extensions import db
from tests.conftest import PASSWORD, login


def test_login_then_logout(client, coop, make_user):
    _id, email = make_user(coop, "secretary")
    response = client.post("/login", data={"email": email.upper(), "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    response = client.post("/logout")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_is_refused_with_a_message(client, coop, make_user):
    _id, email = make_user(coop)
    response = client.post("/login", data={"email": email, "password": "wrong password here"})
    assert response.status_code == 401
    assert "Wrong email or password" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_unknown_email_gets_the_same_message(client):
    response = client.post("/login", data={"email": "nobody@example.org", "password": "x" * 12})
    assert response.status_code == 401
    assert "Wrong email or password" in response.get_data(as_text=True)


def test_disabled_user_cannot_log_in(app, client, coop, make_user):
    user_id, email = make_user(coop)
    with app.app_context():
        services.set_active(db.session.get(User, user_id), False)
        db.session.commit()
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 401


def test_session_is_renewed_at_login(client, coop, make_user):
    _id, email = make_user(coop)
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    login(client, email)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert "login_at" in session


def test_logout_ends_other_sessions_of_the_user(app, coop, make_user):
    _id, email = make_user(coop)
    first, second = app.test_client(), app.test_client()
    login(first, email)
    login(second, email)
    first.post("/logout")
    assert second.get("/").status_code == 302, "the other session should have ended"


def test_session_expires_after_absolute_lifetime(client, coop, make_user):
    _id, email = make_user(coop)
    login(client, email)
    with client.session_transaction() as session:
        session["login_at"] -= 13 * 3600
    assert client.get("/").status_code == 302


def test_next_parameter_only_follows_local_paths(client, coop, make_user):
    _id, email = make_user(coop)
    response = client.post("/login?next=https://evil.example/x",
                           data={"email": email, "password": PASSWORD})
    assert response.headers["Location"] == "/"
    client.post("/logout")
    response = client.post("/login?next=/members/", data={"email": email, "password": PASSWORD})
    assert response.headers["Location"] == "/members/"


def _fail(client, email, address):
    return client.post("/login", data={"email": email, "password": "not the password"},
                       environ_base={"REMOTE_ADDR": address})


def test_eleventh_failed_login_for_one_account_from_one_address_gets_429(client, coop,
                                                                        make_user):
    _id, email = make_user(coop)
    for _ in range(10):
        assert _fail(client, email, "10.0.0.1").status_code == 401
    response = client.post("/login", data={"email": email, "password": PASSWORD},
                           environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert response.status_code == 429
    assert "Too many" in response.get_data(as_text=True)


def test_someone_else_failing_does_not_lock_the_owner_out(client, coop, make_user):
    """The attack run locked any account, admins included, for 15 minutes with 10 wrong
    passwords from one computer."""
    _id, email = make_user(coop, "admin")
    for _ in range(25):
        _fail(client, email.upper(), "203.0.113.9")
    response = client.post("/login", data={"email": email, "password": PASSWORD},
                           environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert response.status_code == 302


def test_failures_from_many_addresses_hit_the_higher_account_limit(client, coop, make_user):
    _id, email = make_user(coop)
    for n in range(50):
        assert _fail(client, email, f"198.51.100.{n // 10}").status_code == 401
    response = client.post("/login", data={"email": email, "password": PASSWORD},
                           environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert response.status_code == 429


def test_failures_from_one_address_for_many_accounts_get_429(client):
    for n in range(30):
        assert _fail(client, f"n{n}@example.org", "192.0.2.1").status_code == 401
    assert _fail(client, "other@example.org", "192.0.2.1").status_code == 429
    assert _fail(client, "other@example.org", "192.0.2.2").status_code == 401


def test_refused_tries_do_not_count_towards_the_account_limit(client, coop, make_user):
    """Hammering from one address past its 10 tries must not fill the account's window."""
    _id, email = make_user(coop)
    for _ in range(60):
        _fail(client, email, "203.0.113.50")
    for n in range(39):
        assert _fail(client, email, f"198.51.100.{n // 10}").status_code == 401
    response = client.post("/login", data={"email": email, "password": PASSWORD},
                           environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert response.status_code == 302


def test_successful_logins_do_not_count_towards_the_limit(client, coop, make_user):
    _id, email = make_user(coop)
    for _ in range(12):
        login(client, email)
        client.post("/logout")


@pytest.mark.parametrize("password,reason", [
    ("short", "at least 12"),
    ("passwordpassword", "too easy"),
    ("123456789012", "too easy"),
    ("x" * 129, "at most 128"),
])
def test_password_policy(ctx, password, reason):
    with pytest.raises(DomainError) as error:
        services.create_user("someone@example.org", "Someone", password)
    assert reason in error.value.message


def test_passwords_are_argon2id(ctx):
    user = services.create_user("hash@example.org", "Hash", PASSWORD)
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, PASSWORD)
    assert not verify_password(user.password_hash, PASSWORD + "!")


def test_production_hash_parameters_meet_asvs(app):
    from argon2 import PasswordHasher
    hasher = PasswordHasher()
    assert hasher.time_cost >= 2 and hasher.memory_cost >= 19 * 1024
    with app.app_context():
        app.config["PASSWORD_HASH_FAST"] = False
        try:
            assert "m=65536" in hash_password("a password of length")
        finally:
            app.config["PASSWORD_HASH_FAST"] = True


def test_duplicate_email_is_refused(ctx):
    services.create_user("twice@example.org", "One", PASSWORD)
    with pytest.raises(DomainError, match="already exists"):
        services.create_user("Twice@Example.org", "Two", PASSWORD)


def test_change_password(client, coop, make_user):
    _id, email = make_user(coop)
    login(client, email)
    other = client.application.test_client()
    login(other, email)
    response = client.post("/account", data={"current_password": PASSWORD,
                                             "password": "a brand new passphrase",
                                             "confirm": "a brand new passphrase"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200, "this session stays logged in"
    assert other.get("/").status_code == 302, "other sessions end"
    client.post("/logout")
    response = client.post("/login", data={"email": email, "password": "a brand new passphrase"})
    assert response.status_code == 302


def test_change_password_refuses_wrong_current_and_weak_new(client, coop, make_user):
    _id, email = make_user(coop)
    login(client, email)
    response = client.post("/account", data={"current_password": "wrong wrong wrong",
                                             "password": "a brand new passphrase",
                                             "confirm": "a brand new passphrase"})
    assert "not your current password" in response.get_data(as_text=True)
    response = client.post("/account", data={"current_password": PASSWORD,
                                             "password": "passwordpassword",
                                             "confirm": "passwordpassword"})
    assert "too easy" in response.get_data(as_text=True)


def test_user_with_several_cooperatives_picks_one(client, coop, other_coop, make_user, app):
    user_id, email = make_user(coop, "secretary")
    with app.app_context():
        user = db.session.get(User, user_id)
        services.grant_role(user, db.session.get(type(other_coop), other_coop.id), "viewer")
        db.session.commit()
    login(client, email)
    response = client.get("/members/")
    assert response.status_code == 302
    assert "/cooperative" in response.headers["Location"]
    page = client.get("/cooperative").get_data(as_text=True)
    assert "CRTEST" in page and "PHTEST" in page
    response = client.post("/cooperative", data={"cooperative_id": other_coop.id})
    assert response.status_code == 302
    assert "PHTEST" in client.get("/").get_data(as_text=True)


def test_choosing_a_cooperative_without_a_role_there_is_refused(client, coop, other_coop,
                                                                make_user):
    _id, email = make_user(coop, "secretary")
    login(client, email)
    response = client.post("/cooperative", data={"cooperative_id": other_coop.id})
    assert response.status_code == 200  # the form refuses the choice ("Not a valid choice")
    assert "Not a valid choice" in response.get_data(as_text=True)
    with client.session_transaction() as session:
        assert session.get("cooperative_id") != other_coop.id


def test_a_revoked_role_takes_effect_at_once(app, client, coop, make_user):
    user_id, email = make_user(coop, "secretary")
    login(client, email, cooperative=coop)
    assert client.get("/members/").status_code == 200
    with app.app_context():
        user = db.session.get(User, user_id)
        user.memberships[0].role = "viewer"
        db.session.commit()
    assert client.get("/members/new").status_code == 403


def test_user_chooses_a_language(app, client, coop, make_user):
    user_id, email = make_user(coop)
    login(client, email)
    response = client.post("/account/language", data={"locale": "pt"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(User, user_id).locale == "pt"
    response = client.post("/account/language", data={"locale": "xx"})
    with app.app_context():
        assert db.session.get(User, user_id).locale == "pt", "an unknown language is refused"
    client.post("/account/language", data={"locale": ""})
    with app.app_context():
        assert db.session.get(User, user_id).locale is None


@pytest.mark.parametrize("password,name,email", [
    ("CR Admin CR Admin", "CR Admin", "admin@cragro.example"),
    ("SoniaSecretaria", "Sonia Pérez", "sonia@cragro.example"),
    ("Contraseña123", "Ana", "ana@cragro.example"),
    ("contrasena12345", "Ana", "ana@cragro.example"),
    ("MotDePasse2026!", "Ana", "ana@cragro.example"),
    ("Senha123456789", "Ana", "ana@cragro.example"),
    ("Tesorero2024 Tesorero", "Ana", "ana@cragro.example"),
    ("Cooperativa Agricola 2025", "Ana", "ana@cragro.example"),
])
def test_passwords_made_of_own_and_common_words_are_refused(ctx, make_cooperative, password,
                                                           name, email):
    """The attack run's weak passwords: the user's name twice, name + role, the word
    "password" in Spanish with digits, and the cooperative's own name."""
    cooperative = db.session.get(Cooperative, make_cooperative(
        "CRAGRO", name="Cooperativa Agrícola").id)
    with pytest.raises(DomainError) as error:
        services.create_user(email, name, password, (cooperative,))
    assert error.value.field == "password"
    assert "common words" in error.value.message or "too easy" in error.value.message


def test_cooperative_code_counts_as_a_personal_word(ctx, make_cooperative):
    cooperative = db.session.get(Cooperative, make_cooperative("PHCOOP", name="Samahan").id)
    with pytest.raises(DomainError, match="cooperative's name or code"):
        services.create_user("x@example.org", "Lito", "Samahan PHCOOP 2026!", (cooperative,))


def test_a_passphrase_of_own_words_is_accepted(ctx, make_cooperative):
    cooperative = db.session.get(Cooperative, make_cooperative("CRAGRO2").id)
    user = services.create_user("sonia@example.org", "Sonia Secretaria",
                                "Sonia likes purple mangoes", (cooperative,))
    assert user.id


def test_weak_password_message_is_translated(app, client, coop, make_user):
    _id, email = make_user(coop)
    login(client, email)
    client.post("/account/language", data={"locale": "es"})
    response = client.post("/account", data={"current_password": PASSWORD,
                                             "password": "Contraseña123",
                                             "confirm": "Contraseña123"})
    page = response.get_data(as_text=True)
    assert "fácil de adivinar" in page or "palabras comunes" in page


def test_changing_password_scores_against_the_cooperatives_name(client, coop, make_user):
    _id, email = make_user(coop)
    login(client, email)
    response = client.post("/account", data={"current_password": PASSWORD,
                                             "password": "CRTEST de Prueba 2026",
                                             "confirm": "CRTEST de Prueba 2026"})
    page = response.get_data(as_text=True)
    assert "common words" in page or "too easy" in page
    with client.application.test_request_context():
        services.check_password_policy("CRTEST de Prueba 2026", ["someone else"])  # not weak


def test_a_login_limit_that_does_not_read_stops_the_app_at_start():
    from config import TestConfig
    from coopreg import create_app

    with pytest.raises(RuntimeError, match="LOGIN_FAILURES_PER_ACCOUNT"):
        create_app(TestConfig, LOGIN_FAILURES_PER_ACCOUNT="lots")


def test_logins_go_on_when_the_limit_storage_is_down(client, coop, make_user, monkeypatch):
    """Redis down: the login neither fails nor goes unlimited; this process counts."""
    from coopreg.auth import login_limits

    class Down:
        def hit(self, *args, **kwargs):
            raise ConnectionError("redis is down")

    monkeypatch.setattr(login_limits, "_primary", lambda: Down())
    login_limits.reset_local()
    _id, email = make_user(coop)
    try:
        login(client, email)
        client.post("/logout")
        for _ in range(10):
            assert _fail(client, email, "10.0.0.3").status_code == 401
        assert _fail(client, email, "10.0.0.3").status_code == 429
    finally:
        login_limits.reset_local()


def test_the_last_cooperative_chosen_opens_at_the_next_login(client, coop, other_coop,
                                                             make_user, app):
    user_id, email = make_user(coop, "admin")
    with app.app_context():
        user = db.session.get(User, user_id)
        services.grant_role(user, db.session.get(type(other_coop), other_coop.id), "viewer")
        db.session.commit()
    login(client, email)
    client.post("/cooperative", data={"cooperative_id": other_coop.id})
    client.post("/logout")
    login(client, email)
    response = client.get("/members/")
    assert response.status_code == 200  # not asked again
    assert "PHTEST" in client.get("/").get_data(as_text=True)
    # a remembered cooperative where the person has no role any more is not opened
    client.post("/logout")
    with app.app_context():
        user = db.session.get(User, user_id)
        membership = next(m for m in user.memberships if m.cooperative_id == other_coop.id)
        services.revoke_role(membership)
        db.session.commit()
    login(client, email)
    assert "CRTEST" in client.get("/").get_data(as_text=True)


def test_the_login_page_speaks_the_browsers_language_or_the_one_chosen(client):
    """Before anyone logs in: the browser's language (Accept-Language), the "please log in"
    message too; a language chosen on the login page is kept by the browser (a cookie)."""
    page = client.get("/members/", headers={"Accept-Language": "es-CR,es;q=0.9"},
                      follow_redirects=True).get_data(as_text=True)
    assert "Iniciar sesión" in page or "Inicie sesión" in page
    assert "Please log in to access this page." not in page
    assert 'name="language"' in page
    response = client.post("/language?next=/login", data={"language": "fr"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    cookie = response.headers["Set-Cookie"]
    assert "coopreg_language=fr" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = client.get("/login", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert 'lang="fr"' in page or "Connexion" in page
    assert client.post("/language?next=https://evil.example/",
                       data={"language": "pt"}).headers["Location"] == "/login"
    refused = client.post("/language", data={"language": "xx"})
    assert refused.status_code == 422
    assert "coopreg_language" not in refused.headers.get("Set-Cookie", "")  # nothing kept
    assert 'id="language-error"' in refused.get_data(as_text=True)  # said next to the field
