"""Fixtures of the contributions tests. The browser test reuses tests/browser's `browser` and
`page` fixtures; its live server is the same as tests/browser's, on a database of its own
(the browser package's conftest only reaches tests under tests/browser, and two session
servers on one database name would clash)."""

from __future__ import annotations

import pytest

from tests.browser.fixtures import (  # noqa: F401 - fixtures
    SECRETARY_EMAIL,
    LiveServer,
    _seed,
    serve,
)


@pytest.fixture(scope="module")
def live_server():
    """The app over HTTP on a database of this folder's own (see tests/browser/fixtures.py)."""
    with serve("browser_contributions") as server:
        yield server
