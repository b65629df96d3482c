"""Fixtures of the field tests. The browser test reuses tests/browser's `browser` fixture; its
live server is the same as tests/browser's, on a database of its own."""

from __future__ import annotations

import pytest

from tests.browser.fixtures import serve


@pytest.fixture(scope="module")
def live_server():
    """The app over HTTP on a database of this folder's own (see tests/browser/fixtures.py)."""
    with serve("browser_field") as server:
        yield server
