"""Fixtures of the contributions tests. The browser test reuses tests/browser's `browser` and
`page` fixtures; its live server is the same as tests/browser's, on a database of its own
(the browser package's conftest only reaches tests under tests/browser, and two session
servers on one database name would clash)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest
from flask_migrate import upgrade
from werkzeug.serving import make_server

from coopreg.extensions import db
from tests.browser.fixtures import (  # noqa: F401 - fixtures
    SECRETARY_EMAIL,
    LiveServer,
    _seed,
)
from tests.conftest import drop_database, fresh_database_url, make_test_app


@pytest.fixture(scope="module")
def live_server() -> Iterator[LiveServer]:
    url = fresh_database_url("browser_contributions")
    app = make_test_app(url, WTF_CSRF_ENABLED=True)
    try:
        with app.app_context():
            upgrade()
        _seed(app)
        werkzeug_log = logging.getLogger("werkzeug")
        log_level = werkzeug_log.level
        werkzeug_log.setLevel(logging.WARNING)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name="live-server-contributions",
                                  daemon=True)
        thread.start()
        try:
            yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app,
                             email=SECRETARY_EMAIL)
        finally:
            server.shutdown()
            thread.join(timeout=10)
            server.server_close()
            werkzeug_log.setLevel(log_level)
    finally:
        with app.app_context():
            db.engine.dispose()
        drop_database(url)
