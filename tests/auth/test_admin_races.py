"""The "at least one admin" rule under concurrency: two admins demoting or removing each other
at the same moment, each thread committing for real (PostgreSQL row locks; SQLite serialises
writers with BEGIN IMMEDIATE)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from coopreg.auth import services
from coopreg.auth.models import Membership, Role, User
from coopreg.cooperatives.models import Cooperative
from coopreg.cooperatives.services import create_cooperative
from coopreg.core.audit import acting_as
from coopreg.core.errors import DomainError
from coopreg.extensions import db
from tests.conftest import PASSWORD, run_together

pytestmark = [pytest.mark.no_transaction, pytest.mark.postgres_only]
ROUNDS = 15


@pytest.fixture(scope="module")
def world(committed_app):
    app = committed_app
    with app.app_context(), acting_as(None, "tests"):
        cooperative = create_cooperative("RACE", "Race coop", "CR", "CRC")
        users = [services.create_user(f"admin{n}@race.example", f"Admin {n}", PASSWORD)
                 for n in range(2)]
        for user in users:
            services.grant_role(user, cooperative, Role.ADMIN)
        db.session.commit()
        return app, cooperative.id, [u.id for u in users]


def _reset(app, cooperative_id, user_ids):
    with app.app_context(), acting_as(None, "tests"):
        cooperative = db.session.get(Cooperative, cooperative_id)
        for user_id in user_ids:
            user = db.session.get(User, user_id)
            user.active = True
            services.grant_role(user, cooperative, Role.ADMIN)
        db.session.commit()


def _admins(app, cooperative_id) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Membership).join(User).where(
            Membership.cooperative_id == cooperative_id, Membership.role == Role.ADMIN,
            User.active.is_(True)))


def _demote(app, cooperative_id, user_id):
    with app.app_context(), acting_as(None, "tests"):
        services.grant_role(db.session.get(User, user_id),
                            db.session.get(Cooperative, cooperative_id), Role.VIEWER)
        db.session.commit()


def _remove(app, cooperative_id, user_id):
    with app.app_context(), acting_as(None, "tests"):
        membership = db.session.scalar(select(Membership).where(
            Membership.user_id == user_id, Membership.cooperative_id == cooperative_id))
        if membership is None:  # already removed: the page answers 404 (get_scoped_or_404)
            return "gone"
        services.revoke_role(membership)
        db.session.commit()


def _disable(app, cooperative_id, user_id):
    with app.app_context(), acting_as(None, "tests"):
        services.set_active(db.session.get(User, user_id), False)
        db.session.commit()


@pytest.mark.parametrize("first,second", [
    (_demote, _demote), (_remove, _remove), (_demote, _remove), (_disable, _demote),
    (_disable, _disable),
], ids=["demote-demote", "remove-remove", "demote-remove", "disable-demote",
        "disable-disable"])
def test_two_admins_taking_each_other_away_leave_one_admin(world, first, second):
    app, cooperative_id, user_ids = world
    work = (first, second)
    for _round in range(ROUNDS):
        _reset(app, cooperative_id, user_ids)
        results = run_together(2, lambda i: work[i](app, cooperative_id, user_ids[1 - i]))
        assert _admins(app, cooperative_id) == 1, results
        refused = [r for r in results if isinstance(r, DomainError)]
        assert len(refused) == 1 and "at least one admin" in refused[0].message, results
        assert not [r for r in results if isinstance(r, Exception)
                    and not isinstance(r, DomainError)], results


def test_two_admins_removing_the_same_third_admin_get_no_error_page(world):
    app, cooperative_id, user_ids = world
    _reset(app, cooperative_id, user_ids)
    with app.app_context(), acting_as(None, "tests"):
        third = services.create_user("third@race.example", "Third", PASSWORD)
        services.grant_role(third, db.session.get(Cooperative, cooperative_id), Role.ADMIN)
        db.session.commit()
        third_id = third.id
    results = run_together(2, lambda i: _remove(app, cooperative_id, third_id))
    assert _admins(app, cooperative_id) == 2
    unexpected = [r for r in results if isinstance(r, Exception)
                  and not isinstance(r, DomainError)]
    assert not unexpected, results
