"""The home page and the health check."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template
from sqlalchemy import text

from coopreg.auth.access import ALL_ROLES, public, roles_required
from coopreg.core import ratelimits
from coopreg.core.tenancy import current_cooperative, current_role
from coopreg.extensions import db

bp = Blueprint("core", __name__)


@bp.route("/")
@roles_required(*ALL_ROLES)
def index():
    """The first page after login: the day's work of the user's role, with charts."""
    from coopreg.reports.dashboard import build_dashboard

    cooperative = current_cooperative()
    dashboard = build_dashboard(cooperative, current_role())
    return render_template("core/index.html", dashboard=dashboard)


@bp.route("/health")
@public
def health():
    """For monitors: the database answers (and Redis when configured). No login, no data."""
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception:  # noqa: BLE001 - any failure means not healthy
        checks["database"] = "unavailable"
    redis_url = current_app.config.get("REDIS_URL")
    if redis_url:
        try:
            import redis

            redis.Redis.from_url(redis_url, socket_timeout=2).ping()
            checks["redis"] = "ok"
        except Exception:  # noqa: BLE001
            checks["redis"] = "unavailable"
    healthy = all(v == "ok" for v in checks.values())
    # "local": Redis failed and this process counts failed logins in its own memory
    return jsonify(status="ok" if healthy else "unavailable", checks=checks,
                   rate_limits=ratelimits.storage_state()), (
        200 if healthy else 503)
