"""Item 6 of issue 26: while the database does not answer, pages are a 503 made without it
(Retry-After, in the browser's language), not a bare "Internal Server Error"."""

from __future__ import annotations

import time

import pytest

from coopreg.extensions import db
from tests.conftest import make_test_app
from tests.faults.conftest import free_port


@pytest.fixture(params=["postgresql", "sqlite"])
def database_down(request, tmp_path):
    """The URL of a database that does not answer: a PostgreSQL port nobody listens on (a
    stopped server), a SQLite file whose folder went away (an unmounted disk)."""
    if request.param == "postgresql":
        return f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/coopreg"
    return f"sqlite:///{tmp_path / 'gone' / 'coopreg.sqlite'}"


@pytest.mark.no_transaction
@pytest.mark.parametrize("language, words", [
    ("es-CR,es;q=0.9", "La base de datos no responde"),
    ("fr-FR,fr;q=0.9", "La base de données ne répond pas"),
    ("pt-BR,pt;q=0.9", "O banco de dados não responde"),
    ("en-GB", "The database is not answering"),
])
def test_pages_say_503_in_the_browsers_language_while_the_database_is_down(
        database_down, language, words):
    app = make_test_app(database_down, PROPAGATE_EXCEPTIONS=False)
    try:
        client = app.test_client()
        # someone signed in before the database stopped: each page loads their account
        with app.test_request_context(headers={"User-Agent": "fault-test"},
                                      environ_base={"REMOTE_ADDR": "127.0.0.1"}):
            from flask_login.utils import _create_identifier

            identifier = _create_identifier()
        with client.session_transaction() as session:
            session.update({"_user_id": "a-session-token", "_fresh": True, "_id": identifier,
                            "login_at": time.time(),
                            "cooperative_id": 1})
        for path in ("/", "/members/", "/contributions/"):
            response = client.get(path, headers={"Accept-Language": language,
                                                 "User-Agent": "fault-test"})
            assert response.status_code == 503, (path, response.status_code)
            assert response.headers["Retry-After"] == "30"
            body = response.get_data(as_text=True)
            assert words in body, body
        response = client.post("/login", data={"email": "a@example.org", "password": "x" * 12},
                               headers={"Accept-Language": language})
        assert response.status_code == 503
        health = client.get("/health")
        assert health.status_code == 503
        assert health.get_json()["checks"]["database"] == "unavailable"
    finally:
        with app.app_context():
            db.engine.dispose()


def test_a_query_error_is_not_taken_for_a_database_down():
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from coopreg.core.unavailable import database_unreachable

    assert not database_unreachable(OperationalError("SELECT x", {}, sqlite3.OperationalError(
        "no such column: x")))
    assert database_unreachable(OperationalError("SELECT 1", {}, sqlite3.OperationalError(
        "unable to open database file")))
