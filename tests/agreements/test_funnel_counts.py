"""The agreement page's and the campaign's funnel (issue 25): the statuses and the flagged
registrations in one pass over the agreement's registrations, the not-enrolled members
counted without loading them, and the not-enrolled page counting its list once; the same
figures as the former three counts (kept below as the reference), with and without the
campaign's filters."""

from __future__ import annotations

from sqlalchemy import func, select

from coopreg.agreements import services
from coopreg.agreements.models import Agreement, Registration, RegistrationStatus
from coopreg.extensions import db
from tests.agreements.test_coverage_one_pass import _world
from tests.sql_log import statements_run


def reference_funnel(agreement, filters=None) -> dict[str, int]:
    filters = {k: v for k, v in (filters or {}).items() if v}

    def of_agreement(stmt):
        stmt = stmt.where(Registration.cooperative_id == agreement.cooperative_id,
                          Registration.agreement_id == agreement.id)
        if filters:
            from coopreg.members.models import Member
            stmt = services._member_filters(
                stmt.join(Member, Member.id == Registration.member_id), filters)
        return stmt

    counts = {s.value: 0 for s in RegistrationStatus}
    counts.update({status.value: n for status, n in db.session.execute(of_agreement(
        select(Registration.status, func.count()).select_from(Registration))
        .group_by(Registration.status))})
    counts["flagged"] = db.session.scalar(of_agreement(
        select(func.count()).select_from(Registration))
        .where(Registration.exit_flagged.is_(True))) or 0
    counts["not_enrolled"] = db.session.scalar(select(func.count()).select_from(
        services._not_enrolled(agreement, filters).subquery())) or 0
    return counts


FILTERS = [None, {"sector": "agriculture"}, {"sex": "female", "locality": "perez zeledon"},
           {"q": "maria"}, {"sector": "care", "sex": "other"}]


def test_the_funnel_gives_the_former_figures(make_agreement, new_member, health, pensions, cr):
    _world(make_agreement, new_member, health, pensions)
    registrations = db.session.scalars(select(Registration).order_by(Registration.id)).all()
    for registration in registrations[::4]:
        registration.exit_flagged = True
    db.session.flush()
    agreements = db.session.scalars(select(Agreement).order_by(Agreement.id)).all()
    seen_flagged = seen_not_enrolled = 0
    for agreement in agreements:
        for filters in FILTERS:
            counts = services.funnel(agreement, filters)
            assert counts == reference_funnel(agreement, filters), (agreement, filters)
            seen_flagged += counts["flagged"]
            seen_not_enrolled += counts["not_enrolled"]
    assert seen_flagged and seen_not_enrolled  # the data exercises both


def test_the_funnel_is_two_statements(make_agreement, new_member, health, pensions, cr):
    _world(make_agreement, new_member, health, pensions)
    agreement = db.session.scalars(select(Agreement)).first()
    db.session.flush()
    with statements_run() as ran:
        services.funnel(agreement, {"sector": "agriculture"})
    statements = [r.sql for r in ran]
    assert len(statements) == 2, statements  # it ran three
