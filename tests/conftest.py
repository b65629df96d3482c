"""Test fixtures: one database per run (migrated with Alembic to head), a rolled-back
transaction per test, a client, a login helper and factories.

The same suite runs on SQLite (default) and PostgreSQL: set COOPREG_TEST_DATABASE_URL to a
PostgreSQL URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test); the suite then works in
fresh databases it creates next to that one.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from config import TestConfig
from coopreg import create_app
from coopreg.auth import services as auth_services
from coopreg.auth.models import Role
from coopreg.cooperatives.services import create_cooperative
from coopreg.core.audit import acting_as
from coopreg.extensions import db, limiter
from coopreg.members import services as member_services
from tests import tenancy_guard

tenancy_guard.install()

# The browser fixtures (Chromium through Playwright) are shared by every folder's journeys.
pytest_plugins = ["tests.browser.fixtures"]

BASE_URL = os.environ.get("COOPREG_TEST_DATABASE_URL", "")
PASSWORD = "correct horse battery staple"
_TMP = Path(tempfile.mkdtemp(prefix="coopreg-tests-"))


def is_postgres() -> bool:
    return BASE_URL.startswith("postgresql")


def fresh_database_url(name: str) -> str:
    """An empty database for this run: a new SQLite file, or a PostgreSQL database created
    (dropped first if a previous run left it) beside the one in COOPREG_TEST_DATABASE_URL."""
    if not is_postgres():
        path = _TMP / f"{name}.sqlite"
        path.unlink(missing_ok=True)
        return f"sqlite:///{path}"
    url = sa.engine.make_url(BASE_URL)
    db_name = f"coopreg_{name}_{os.getpid()}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{db_name}"'))
    admin.dispose()
    return url.set(database=db_name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    parsed = sa.engine.make_url(url)
    admin = sa.create_engine(sa.engine.make_url(BASE_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


def make_test_app(url: str, **overrides):
    return create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url,
                      EXPORT_DIR=str(_TMP / "exports"), IMPORT_DIR=str(_TMP / "imports"),
                      FIELD_PHOTO_DIR=str(_TMP / "photos"),
                      **overrides)


@pytest.fixture(scope="session")
def app():
    url = fresh_database_url("suite")
    application = make_test_app(url)
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        db.engine.dispose()
    drop_database(url)


@pytest.fixture(autouse=True)
def _tenancy_guard(request):
    """Fail the test if the code it ran read a cooperative-owned table without filtering by
    cooperative (see tests/tenancy_guard.py; on for every test)."""
    tenancy_guard.take()
    yield
    found = tenancy_guard.take()
    if not found or "tenancy_unguarded" in request.keywords:
        return
    log = os.environ.get("COOPREG_TENANCY_GUARD_LOG")
    if log:  # survey mode: list every offender of a whole run instead of failing
        with open(log, "a", encoding="utf-8") as out:
            out.writelines(f"{request.node.nodeid}\t{line}\n" for line in found)
        return
    pytest.fail("Cross-cooperative read (scope it with coopreg.core.tenancy, or mark it with "
                "unscoped(reason) / cross_cooperative(reason)):\n" + "\n".join(found),
                pytrace=False)


@pytest.fixture(autouse=True)
def _transaction(request, app):
    """Each test runs inside a transaction that is rolled back at the end; the code under test
    may commit and roll back freely (its commits become savepoints)."""
    if "no_transaction" in request.keywords:
        yield
        return
    # No application context stays pushed while the test runs: each request of the test
    # client must get its own context (its own `g` and session), as in production.
    with app.app_context():
        engines = db.engines
        db.session.remove()
        db.session.configure(join_transaction_mode="create_savepoint")
    engine = engines[None]
    connection = engine.connect()
    outer = connection.begin()
    engines[None] = connection
    limiter.reset()
    try:
        yield
    finally:
        with app.app_context():
            db.session.remove()
        outer.rollback()
        connection.close()
        engines[None] = engine


@pytest.fixture
def ctx(app):
    """An application context for service tests, with the actor set to 'tests'."""
    with app.test_request_context(), acting_as(None, "tests"):
        yield


@pytest.fixture
def client(app):
    return app.test_client()


_codes = itertools.count(1)


def _detached(obj):
    """Reload every column and detach, so tests can read the object outside a context."""
    db.session.refresh(obj)
    db.session.expunge(obj)
    return obj


@pytest.fixture
def make_cooperative(app):
    def factory(code: str | None = None, country: str = "CR", currency: str = "CRC", **kw):
        with app.app_context(), acting_as(None, "tests"):
            cooperative = create_cooperative(code or f"T{next(_codes)}", kw.pop("name", "Coop"),
                                             country, currency, **kw)
            db.session.commit()
            return _detached(cooperative)
    return factory


@pytest.fixture
def make_user(app):
    def factory(cooperative=None, role: Role | str = Role.SECRETARY, email: str | None = None,
                password: str = PASSWORD):
        with app.app_context(), acting_as(None, "tests"):
            user = auth_services.create_user(email or f"user{next(_codes)}@example.org",
                                             "Test User", password)
            if cooperative is not None:
                auth_services.grant_role(user, cooperative, role)
            db.session.commit()
            return user.id, user.email
    return factory


_people = itertools.count(1)


def member_data(**overrides) -> dict:
    """Valid form data for a Costa Rican member; override any field."""
    n = next(_people)
    data = {
        "first_name": "María", "middle_name": "", "last_name": "Núñez",
        "second_last_name": f"Solís{n}", "sex": "female", "date_of_birth": date(1980, 5, 17),
        "id_type": "cr_cedula", "id_number": "", "phone": "8888-1234",
        "address": "200 m norte de la escuela", "locality": "San Carlos",
        "sector": "agriculture", "occupation": "Coffee grower", "declared_income": "250000",
        "joined_on": date(2020, 1, 15), "consent_given": True,
        "consent_date": date(2020, 1, 15), "consent_method": "signed_form", "notes": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def make_member(app):
    def factory(cooperative, confirm_duplicate: bool = True, **overrides):
        with app.app_context(), acting_as(None, "tests"):
            coop = db.session.get(type(cooperative), cooperative.id)
            member = member_services.create_member(coop, member_data(**overrides),
                                                   confirm_duplicate=confirm_duplicate)
            db.session.commit()
            return _detached(member)
    return factory


def login(client, email: str, password: str = PASSWORD, cooperative=None):
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    if cooperative is not None:
        with client.session_transaction() as session:
            session["cooperative_id"] = cooperative.id
    return response


@pytest.fixture
def coop(make_cooperative):
    return make_cooperative("CRTEST", "CR", "CRC", name="Cooperativa de Prueba")


@pytest.fixture
def cr(ctx, coop):
    """The Costa Rican test cooperative, loaded in the test's session (for service tests)."""
    from coopreg.cooperatives.models import Cooperative

    return db.session.get(Cooperative, coop.id)


@pytest.fixture
def other_coop(make_cooperative):
    return make_cooperative("PHTEST", "PH", "PHP", name="Other Coop",
                            id_label="PhilSys number", id_pattern="[0-9]{12}")


@pytest.fixture
def as_role(client, coop, make_user):
    """Log the client in with a given role in `coop`: `as_role("viewer")`."""
    def factory(role: Role | str, cooperative=None):
        target = cooperative or coop
        _id, email = make_user(target, role)
        login(client, email, cooperative=target)
        return client
    return factory


@pytest.fixture(scope="module")
def committed_app(request):
    """An app on its own fresh database where tests commit for real (threads, concurrency):
    use with `@pytest.mark.no_transaction`. One database per test module."""
    url = fresh_database_url(f"committed_{request.module.__name__.rsplit('.', 1)[-1]}")
    application = make_test_app(url)
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        db.engine.dispose()
    drop_database(url)


def run_together(count: int, work) -> list:
    """Run `work(i)` in `count` threads released at the same moment by a barrier; return the
    results (or the exceptions raised) in thread order."""
    import threading

    barrier = threading.Barrier(count)
    results: list = [None] * count

    def target(i: int):
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as error:  # noqa: BLE001 - reported to the test
            results[i] = error

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results
