"""Fixtures of the API tests: a token for a role, made the way a person makes one (the CLI)."""

from __future__ import annotations

import pytest


@pytest.fixture
def token_for(app, coop, make_user):
    """`token_for("secretary", scope="write", cooperative=None)` → (secret, user email)."""
    def factory(role: str = "secretary", scope: str = "read", cooperative=None):
        target = cooperative or coop
        _uid, email = make_user(target, role)
        result = app.test_cli_runner().invoke(args=[
            "tokens", "create", "--user", email, "--cooperative", target.code,
            "--scope", scope, "--expires", "30"])
        assert result.exit_code == 0, result.output
        return result.output.strip().splitlines()[-1], email
    return factory


@pytest.fixture
def bearer():
    def headers(secret: str, **more) -> dict:
        return {"Authorization": f"Bearer {secret}", **more}
    return headers
