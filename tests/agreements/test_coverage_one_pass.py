"""The coverage-gap report in one pass (issue 25): the covered members are worked out once
and every breakdown is grouped in the same statement; the figures are the ones the former
report (one covered-members subquery for the total and again for each breakdown, kept below
as the reference) gave on the same data."""

from __future__ import annotations

import random
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select

from coopreg.agreements import services
from coopreg.agreements.coverage import (
    DIMENSIONS,
    BranchCount,
    CoverageReport,
    GroupRow,
    _covered_pairs,
    _dimension,
    _label,
    coverage_report,
)
from coopreg.agreements.models import Branch, RegistrationStatus
from coopreg.extensions import db
from coopreg.members import services as member_services
from coopreg.members.models import Member, MemberStatus, Sector, Sex
from tests.agreements.conftest import force_status
from tests.sql_log import statements_run

AS_OF = date(2025, 6, 30)


def reference_report(cooperative_id: int, as_of: date | None = None,
                     women_only: bool = False) -> CoverageReport:
    """Count covered and not covered active members per branch, overall and per breakdown."""
    as_of = as_of or date.today()
    active = and_(Member.cooperative_id == cooperative_id, Member.status == MemberStatus.ACTIVE)
    if women_only:
        active = and_(active, Member.sex == Sex.FEMALE)
    covered = _covered_pairs(cooperative_id, as_of)
    total_active = db.session.scalar(select(func.count()).select_from(Member).where(active))
    overall = {Branch(b): n for b, n in db.session.execute(
        select(covered.c.branch, func.count()).select_from(covered)
        .join(Member, Member.id == covered.c.member_id).where(active)
        .group_by(covered.c.branch))}
    covered_any = db.session.scalar(
        select(func.count(func.distinct(covered.c.member_id))).select_from(covered)
        .join(Member, Member.id == covered.c.member_id).where(active)) or 0
    branches = [BranchCount(b, overall.get(b, 0), total_active) for b in Branch]

    breakdowns: dict[str, list[GroupRow]] = {}
    for name, _title in DIMENSIONS:
        key = _dimension(name, as_of).label("key")
        totals_stmt = select(key, func.count()).where(active).group_by(key)
        if name == "locality":
            totals_stmt = select(key, func.count(), func.min(Member.locality)).where(
                active).group_by(key)
        rows: dict = {}
        labels: dict = {}
        for row in db.session.execute(totals_stmt):
            group = getattr(row[0], "value", row[0])
            rows[group] = row[1]
            if name == "locality":
                labels[group] = row[2]
        counts: dict = {}
        for group, branch, n in db.session.execute(
                select(key, covered.c.branch, func.count()).select_from(covered)
                .join(Member, Member.id == covered.c.member_id).where(active)
                .group_by(key, covered.c.branch)):
            counts[(getattr(group, "value", group), Branch(branch))] = n
        groups = []
        for group, total in rows.items():
            if name == "locality":
                label = labels.get(group) or str(_l("Not recorded"))
            else:
                label = _label(name, group)
            groups.append(GroupRow(
                key="" if group is None else str(group), label=label, total=total,
                branches=[BranchCount(b, counts.get((group, b), 0), total) for b in Branch]))
        if name == "age_band":
            groups.sort(key=lambda g: int(g.key))
        elif name == "sector":
            order = list(Sector)
            groups.sort(key=lambda g: order.index(Sector(g.key)))
        elif name == "sex":
            order = list(Sex)
            groups.sort(key=lambda g: order.index(Sex(g.key)))
        else:
            groups.sort(key=lambda g: (-g.total, g.label))
        breakdowns[name] = groups
    return CoverageReport(as_of=as_of, total_active=total_active, branches=branches,
                          breakdowns=breakdowns, covered_any=covered_any)


def reference_with_maternity_among_women(cooperative_id: int, as_of: date) -> CoverageReport:
    """The reference, with maternity counted among the active women (issue 17): its
    figures are those of the same report run on the women alone."""
    report = reference_report(cooperative_id, as_of)
    women = reference_report(cooperative_id, as_of, women_only=True)

    def maternity(rows, among):
        found = {c.branch: c for c in among}
        return [found.get(Branch.MATERNITY, BranchCount(Branch.MATERNITY, 0, 0))
                if c.branch == Branch.MATERNITY else c for c in rows]

    report.branches = maternity(report.branches, women.branches)
    for name, groups in report.breakdowns.items():
        by_key = {g.key: g.branches for g in women.breakdowns[name]}
        for group in groups:
            group.branches = maternity(group.branches, by_key.get(group.key, []))
    return report




def _world(make_agreement, new_member, health, pensions):
    """Sixty members of every kind, seeded: sexes, sectors, ages, localities (with and
    without accents, empty), statuses, and registrations in every state under three
    agreements (one ended)."""
    rng = random.Random(25)
    agreements = [make_agreement("A", schemes=[health]),
                  make_agreement("B", schemes=[pensions], member_number_pattern=None),
                  make_agreement("AB", schemes=[health, pensions], member_number_pattern=None),
                  make_agreement("OLD", schemes=[health], valid_from=date(2023, 1, 1),
                                 valid_to=date(2024, 12, 31), member_number_pattern=None)]
    localities = ["San Carlos", "Pérez Zeledón", "Perez Zeledon", "", "Upala", "upala"]
    statuses = [RegistrationStatus.REGISTERED] * 3 + [RegistrationStatus.SUSPENDED,
                                                      RegistrationStatus.PENDING]
    for _n in range(60):
        member = new_member(ready=False,  # the valid IDs of the fixture are few
                            sex=rng.choice(["female", "male", "other"]),
                            sector=rng.choice(["agriculture", "crafts", "care", "fishing"]),
                            locality=rng.choice(localities),
                            date_of_birth=date(rng.randint(1940, 2006), rng.randint(1, 12),
                                               rng.randint(1, 28)))
        for agreement in rng.sample(agreements, rng.randint(0, 2)):
            registration = services.enrol_member(agreement, member, None,
                                                 today=date(2024, 6, 1))
            if registration.status != RegistrationStatus.PENDING or rng.random() < .8:
                force_status(registration, rng.choice(statuses),
                             coverage_start=rng.choice([date(2024, 1, 1), date(2025, 7, 1)]))
        if rng.random() < .15:
            member_services.change_member_status(member, "left", date(2025, 1, 1), "Moved",
                                                 None)


def _plain(report: CoverageReport):
    def counts(rows):
        return [(c.branch, c.covered, c.total) for c in rows]
    return (report.as_of, report.total_active, report.covered_any, counts(report.branches),
            {name: [(g.key, g.label, g.total, counts(g.branches)) for g in groups]
             for name, groups in report.breakdowns.items()})


def test_the_one_pass_report_gives_the_former_figures(make_agreement, new_member, health,
                                                       pensions, cr):
    _world(make_agreement, new_member, health, pensions)
    db.session.flush()
    for as_of in (AS_OF, date(2024, 6, 30), date(2025, 7, 1)):
        new = coverage_report(cr.id, as_of=as_of)
        old = reference_with_maternity_among_women(cr.id, as_of)
        assert _plain(new) == _plain(old)
        assert new.total_active > 40 and 0 < new.covered_any < new.total_active


def test_the_report_is_one_statement(make_agreement, new_member, health, pensions, cr):
    _world(make_agreement, new_member, health, pensions)
    db.session.flush()
    with statements_run() as ran:
        coverage_report(cr.id, as_of=AS_OF)
    statements = [r.sql for r in ran]
    selects = [s for s in statements if s.lstrip().upper().startswith(("SELECT", "WITH"))]
    assert len(selects) == 1, selects  # the former report ran eleven
