"""Who calls the API: a token in `Authorization: Bearer …`, never the browser's session (so a
page cannot be made to call the API with a visitor's cookie, and CSRF does not apply). The
token acts with its user's current role in its cooperative; `read` tokens only read."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, current_app, g, request
from flask_babel import refresh
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

from coopreg.auth.access import ACCESS_ATTR
from coopreg.auth.models import Role
from coopreg.auth.tokens import TokenScope, authenticate
from coopreg.core.audit import set_actor
from coopreg.core.models import utcnow
from coopreg.extensions import limiter

READING = frozenset({"GET", "HEAD", "OPTIONS"})
# Tokens held outside any cooperative (an institution's desk), offered by the areas that keep
# them: name → authenticate(secret) → (token, role) or None. Such a token has no cooperative;
# the views it may use say so with its role (`token_roles(..., OutsideRole.INSTITUTION)`).
OUTSIDE_TOKENS: dict[str, Callable[[str], tuple[Any, Any] | None]] = {}
_local = FixedWindowRateLimiter(MemoryStorage())  # while the shared storage fails


def authenticate_request() -> None:
    """Before every API view: the token, its cooperative and its user's role, or 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    found = authenticate(secret.strip()) if scheme.lower() == "bearer" else None
    if found is None and scheme.lower() == "bearer":
        found = next((hit for check in OUTSIDE_TOKENS.values()
                      if (hit := check(secret.strip())) is not None), None)
    if found is None:
        abort(401)
    token, role = found
    wait = _over_the_limit(getattr(token, "limit_key", token.id))
    if wait is not None:
        error = TooManyRequests()
        error.retry_after = wait
        raise error
    g.api_token = token
    g.cooperative = getattr(token, "cooperative", None)
    g.role = role
    refresh()  # the language may now be the token owner's (coopreg._select_locale)
    set_actor(token.user_id, token.label)
    if request.method not in READING:  # kept with the request's own commit (reads never write)
        token.last_used_at = utcnow()


def _over_the_limit(token_id: int | str) -> int | None:
    """Take one request from the token's allowance (API_RATE_LIMIT, in the rate limiter's
    shared storage, or this process's memory while that storage fails); the seconds to wait
    when it is spent, else None."""
    item = parse(current_app.config["API_RATE_LIMIT"])
    key = (current_app.config.get("RATELIMIT_KEY_PREFIX") or "", "coopreg-api", str(token_id))
    try:
        strategy = limiter.limiter
        allowed = strategy.hit(item, *key)
    except Exception:  # noqa: BLE001 - Redis down: count here rather than refuse everyone
        strategy = _local
        allowed = strategy.hit(item, *key)
    if allowed:
        return None
    reset = strategy.get_window_stats(item, *key).reset_time
    return max(1, int(reset - time.time()) + 1)


def token_roles(*roles: Role) -> Callable[[Callable], Callable]:
    """The roles whose tokens may use a view (checked on every call, against the role the
    token's user holds now); a view that writes also needs a `write` token."""
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any):
            if g.role not in roles:
                abort(403)
            if request.method not in READING and g.api_token.scope != TokenScope.WRITE:
                abort(403)
            return view(*args, **kwargs)

        setattr(wrapped, ACCESS_ATTR, ("token", frozenset(roles)))
        return wrapped

    return decorator
