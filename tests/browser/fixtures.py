"""Browser tests: the real app served over HTTP in a thread, driven by Debian's Chromium through
Playwright's sync API.

The live server has its own fresh database (CSRF on, as in production); browser tests must be
marked `no_transaction` so the suite's rolled-back transaction (tests/conftest.py) stays out of
their way. Never run `playwright install`: the browser is /usr/bin/chromium.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade
from werkzeug.serving import make_server

from coopreg.auth import services as auth_services
from coopreg.cooperatives.services import create_cooperative
from coopreg.core.audit import acting_as
from coopreg.extensions import db
from tests.conftest import PASSWORD, drop_database, fresh_database_url, make_test_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
PACKAGE_ROOT = REPO_ROOT / "coopreg"

SECRETARY_EMAIL = "secretaria@example.org"
SECRETARY_NAME = "Ana Secretaria"
COOP_CODE = "CRBROW"
COOP_NAME = "Cooperativa Navegador"


@dataclass
class LiveServer:
    url: str
    app: Flask
    email: str
    password: str = PASSWORD
    cooperative_code: str = COOP_CODE
    cooperative_name: str = COOP_NAME


def _seed(app: Flask) -> None:
    with app.app_context(), acting_as(None, "tests"):
        cooperative = create_cooperative(COOP_CODE, COOP_NAME, "CR", "CRC")
        user = auth_services.create_user(SECRETARY_EMAIL, SECRETARY_NAME, PASSWORD)
        auth_services.grant_role(user, cooperative, "secretary")
        db.session.commit()


@contextmanager
def serve(database_name: str) -> Iterator[LiveServer]:
    """The app on http://127.0.0.1:<free port>, CSRF on, with a fresh migrated database of
    its own (named after `database_name`) holding one cooperative (CRBROW) and its secretary.
    Each folder's journeys serve their own, so their records never meet."""
    url = fresh_database_url(database_name)
    app = make_test_app(url, WTF_CSRF_ENABLED=True)
    # werkzeug logs each request at INFO; keep the test output quiet
    werkzeug_log = logging.getLogger("werkzeug")
    log_level = werkzeug_log.level
    try:
        with app.app_context():
            upgrade()
        _seed(app)
        werkzeug_log.setLevel(logging.WARNING)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
        thread.start()
        try:
            yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app,
                             email=SECRETARY_EMAIL)
        finally:
            server.shutdown()
            thread.join(timeout=10)
            server.server_close()  # closes the listening socket (no ResourceWarning)
    finally:
        werkzeug_log.setLevel(log_level)
        with app.app_context():
            db.engine.dispose()
        drop_database(url)


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    with serve("browser") as server:
        yield server


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install "
                    "chromium); never `playwright install`")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (no cookies) per test. The page collects what it logs:
    `page.console_messages` ("type: text"), `page.console_errors` (CSP violations show up
    there) and `page.page_errors` (uncaught JS errors)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    context.set_default_timeout(10_000)
    # Chromium fetches the icon lazily, often after the test has moved on; the development
    # server then leaves the half-sent file for the garbage collector (a ResourceWarning).
    context.route("**/favicon.svg", lambda route: route.fulfill(status=204))
    tab = context.new_page()
    tab.console_messages = []
    tab.console_errors = []
    tab.page_errors = []

    def on_console(message) -> None:
        where = message.location.get("url", "")
        tab.console_messages.append(f"{message.type}: {message.text} ({where})")
        # the app serves no favicon; Chromium's own request for it is not the page's error
        if message.type == "error" and not where.endswith("/favicon.ico"):
            tab.console_errors.append(message.text)

    tab.on("console", on_console)
    tab.on("pageerror", lambda error: tab.page_errors.append(str(error)))
    try:
        yield tab
    finally:
        context.close()


def log_in(page, live_server, email: str | None = None, password: str = PASSWORD) -> None:
    """Log in through the login page (the server's own user unless `email` is given) and
    wait for the home page, which is headed by the cooperative's name."""
    from playwright.sync_api import expect

    page.goto(live_server.url + "/login")
    page.get_by_label("Email").fill(email or live_server.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name=live_server.cooperative_name)).to_be_visible()


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot as test-artifacts/screenshots/<name>.png (git-ignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_clean_console(page) -> None:
    """No console error (a CSP violation is one) and no uncaught JS error on this page."""
    assert page.console_errors == [], page.console_messages
    assert page.page_errors == [], page.page_errors
