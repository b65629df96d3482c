"""The self-service browser journey serves the app on a database of this folder's own."""

from __future__ import annotations

import pytest

from tests.browser.fixtures import serve


@pytest.fixture(scope="module")
def live_server():
    with serve("browser_selfservice") as server:
        yield server
