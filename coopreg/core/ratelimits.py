"""Where login failures are counted, and what happens when that storage fails.

Production counts them in Redis, shared by every app process. When Redis does not answer, the
login limits (coopreg/auth/login_limits.py) count in this process's memory, so logins keep
working (a right password signs in, ten wrong ones are still refused), and go back to Redis
by themselves once Redis answers again; they report each try here (`note_shared_storage`).
This module says so: one warning in the log when a process falls back and one line when it
recovers, and `storage_state()` for /health.
"""

from __future__ import annotations

import logging

from flask import Flask

log = logging.getLogger(__name__)

SHARED = "shared"
LOCAL = "local"


# Set by whoever counts in the storage itself (the login limits, coopreg/auth/login_limits.py)
# when it had to count in this process's memory on its last try, cleared when it answered.
_counting_locally = {"login": False}


def note_shared_storage(answered: bool) -> None:
    """Say whether the shared storage answered the last count (for the log and /health)."""
    _counting_locally["login"] = not answered


def storage_state() -> str:
    """`shared` while the configured storage answers (or is memory by design), `local`
    while this process counts in memory because the configured storage failed."""
    return LOCAL if _counting_locally["login"] else SHARED


def install(app: Flask) -> None:
    """Log each change between the shared storage and the local fallback, once per process."""
    state = {"last": SHARED}

    @app.after_request
    def _report_storage_change(response):
        current = storage_state()
        if current != state["last"]:
            state["last"] = current
            if current == LOCAL:
                log.warning("login rate limits: the storage (%s) does not answer; counting "
                            "failed logins in this process's memory until it does",
                            _storage_name(app))
            else:
                log.warning("login rate limits: the storage (%s) answers again; counting "
                            "there", _storage_name(app))
        return response


def _storage_name(app: Flask) -> str:
    uri = str(app.config.get("RATELIMIT_STORAGE_URI") or "")
    # the address without credentials
    scheme, _sep, rest = uri.partition("://")
    return f"{scheme}://{rest.rsplit('@', 1)[-1]}" if rest else uri
