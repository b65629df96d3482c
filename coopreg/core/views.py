"""The home page and the health check."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template
from sqlalchemy import func, select, text

from coopreg.auth.access import ALL_ROLES, public, roles_required
from coopreg.core.tenancy import current_cooperative, scoped
from coopreg.extensions import db
from coopreg.members.models import Member, MemberStatus

bp = Blueprint("core", __name__)


@bp.route("/")
@roles_required(*ALL_ROLES)
def index():
    cooperative = current_cooperative()
    counts = dict(db.session.execute(
        select(Member.status, func.count()).where(Member.cooperative_id == cooperative.id)
        .group_by(Member.status)).all())
    by_sector = db.session.execute(
        select(Member.sector, func.count()).where(Member.cooperative_id == cooperative.id,
                                                  Member.status == MemberStatus.ACTIVE)
        .group_by(Member.sector).order_by(func.count().desc())).all()
    recent = db.session.scalars(scoped(Member).order_by(Member.id.desc()).limit(5)).all()
    return render_template("core/index.html", counts=counts, by_sector=by_sector, recent=recent,
                           statuses=list(MemberStatus))


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
    return jsonify(status="ok" if healthy else "unavailable", checks=checks), (
        200 if healthy else 503)
