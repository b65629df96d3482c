"""Who may open a federation's pages: `@federation_roles_required(...)`, the federation-level
twin of `coopreg.auth.access.roles_required`. The federation is the one where the user holds a
role (`g.federation`); a user who holds none, or another role, gets 403, as a cooperative role
does on a page of another role."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, g
from flask_login import current_user

from coopreg.auth.access import ACCESS_ATTR
from coopreg.federations.models import FederationRole
from coopreg.federations.services import federation_role_of

FEDERATION_ROLES = tuple(FederationRole)


def federation_roles_required(*roles: FederationRole) -> Callable[[Callable], Callable]:
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any):
            membership = federation_role_of(current_user.id)
            if membership is None or membership.role not in roles:
                abort(403)
            g.federation = membership.federation
            g.federation_role = membership.role
            return view(*args, **kwargs)

        setattr(wrapped, ACCESS_ATTR, ("federation", frozenset(roles)))
        return wrapped

    return decorator


PLATFORM_ADMIN = "platform_admin"


def platform_admin_required(view: Callable) -> Callable:
    """A page of the platform admin (`User.platform_admin`, given by `coopreg users
    platform-admin`): 403 to anyone else, whatever roles they hold."""
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any):
        if not getattr(current_user, "platform_admin", False):
            abort(403)
        g.platform = True
        return view(*args, **kwargs)

    setattr(wrapped, ACCESS_ATTR, ("platform", frozenset({PLATFORM_ADMIN})))
    return wrapped


def platform_home(user: Any) -> str | None:
    """For `coopreg.auth.access.OUTSIDE_ROLES`: a platform admin's home is the platform's
    page."""
    return "platform.home" if getattr(user, "platform_admin", False) else None


def current_federation():
    federation = getattr(g, "federation", None)
    if federation is None:
        abort(404)
    return federation


def desk_required(view: Callable) -> Callable:
    """A page of the institution's desk: only an institution account opens it (403 to anyone
    else); the account is `g.desk_account`."""
    from coopreg.federations.desk import account_of

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any):
        account = account_of(current_user.id)
        if account is None:
            abort(403)
        g.desk_account = account
        return view(*args, **kwargs)

    setattr(wrapped, ACCESS_ATTR, ("desk", frozenset({"institution"})))
    return wrapped
