"""Access control, fail-closed: every view must declare who may use it.

`@roles_required(...)` marks a view as needing a current cooperative and one of the roles;
`@login_only` marks a view any logged-in user may open (choosing a cooperative, own account);
`@public` marks the few views open without login (login page, health check). A view with no
declaration answers 403 to everyone, so a new route cannot be forgotten open.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, current_app, g, redirect, request, session, url_for
from flask_login import current_user, logout_user

from coopreg.auth.models import Role
from coopreg.cooperatives.models import Cooperative
from coopreg.core.audit import set_actor
from coopreg.extensions import db

ACCESS_ATTR = "__coopreg_access__"
ALL_ROLES = tuple(Role)
EDITORS = (Role.ADMIN, Role.SECRETARY)
# Roles held outside any cooperative (a federation's, an institution's), offered by the areas
# that keep them: name → home(user) → the endpoint of the user's home page there, or None when
# the user holds no such role. A user who holds one and no role in a cooperative gets 404 from
# every cooperative page, as if it did not exist; the cooperative home sends them to theirs.
OUTSIDE_ROLES: dict[str, Callable[[Any], str | None]] = {}


def outside_home(user: Any) -> str | None:
    for home in OUTSIDE_ROLES.values():
        endpoint = home(user)
        if endpoint is not None:
            return endpoint
    return None


def public(view: Callable) -> Callable:
    setattr(view, ACCESS_ATTR, ("public",))
    return view


def login_only(view: Callable) -> Callable:
    setattr(view, ACCESS_ATTR, ("login",))
    return view


def roles_required(*roles: Role) -> Callable[[Callable], Callable]:
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any):
            if getattr(g, "cooperative", None) is None:
                home = None if current_user.memberships else outside_home(current_user)
                if home is not None:
                    if request.endpoint == "core.index":
                        return redirect(url_for(home))
                    abort(404)
                return redirect(url_for("auth.choose_cooperative", next=request.full_path))
            if g.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        setattr(wrapped, ACCESS_ATTR, ("roles", frozenset(roles)))
        return wrapped

    return decorator


def _session_too_old() -> bool:
    """Sessions end after an absolute lifetime (12 h) even when kept busy."""
    started = session.get("login_at")
    limit = current_app.config["SESSION_ABSOLUTE_HOURS"] * 3600
    return started is None or time.time() - started > limit


def access_of(endpoint: str) -> tuple | None:
    view = current_app.view_functions.get(endpoint)
    return getattr(view, ACCESS_ATTR, None) if view else None


def load_request_context() -> Any:
    """Before every request: enforce login, and load the current cooperative and role,
    re-checked against the user's memberships so a revoked role takes effect at once."""
    g.cooperative = None
    g.role = None
    if request.endpoint is None or request.endpoint == "static":
        return None
    access = access_of(request.endpoint)
    if access is None:
        abort(403)
    if access[0] == "public":
        return None
    if access[0] in ("token", "signed"):  # the API authenticates tokens and signatures itself
        return None
    if access[0] == "member":  # self-service: the member's own session, checked by its views
        return None
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if _session_too_old():
        logout_user()
        session.clear()
        return current_app.login_manager.unauthorized()
    set_actor(current_user.id, current_user.email)
    cooperative_id = session.get("cooperative_id")
    if cooperative_id is not None:
        role = current_user.role_in(cooperative_id)
        if role is None:
            session.pop("cooperative_id", None)
        else:
            g.cooperative = db.session.get(Cooperative, cooperative_id)
            g.role = role
    if g.cooperative is None and len(current_user.memberships) == 1:
        membership = current_user.memberships[0]
        session["cooperative_id"] = membership.cooperative_id
        g.cooperative = membership.cooperative
        g.role = membership.role
    return None
