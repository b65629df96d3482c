"""What each role sees first after logging in. Every figure is one SQL aggregate (GROUP BY or
COUNT with an index), never a loop over members. The figures over the whole register
(coverage, growth, missing documents, members by sector) still read every member: each app
process keeps them (core/kept.py) until the register changes (its version) and at most
DASHBOARD_CACHE_SECONDS, so the page costs the same at a million members as at 50, but for
the first view after that."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import and_, func, select

from coopreg.agreements.models import Agreement, Registration, RegistrationStatus
from coopreg.agreements.services import active_members, funnel, registrations_in
from coopreg.auth.models import Membership, Role
from coopreg.core.audit import AuditEvent
from coopreg.core.charts import Segment, column_chart, horizontal_bars, stacked_bars
from coopreg.core.kept import kept
from coopreg.core.templating import show_month
from coopreg.extensions import db
from coopreg.members.models import Member, MemberStatus
from coopreg.members.versions import register_key


@dataclass
class Dashboard:
    role: str
    charts: list = field(default_factory=list)  # (title, svg markup)
    figures: list = field(default_factory=list)  # (label, value, url endpoint, url args)
    lists: dict = field(default_factory=dict)  # name → rows
    # what to do next: (how many, what they are, what to do, url endpoint, url args)
    next_tasks: list = field(default_factory=list)


def _next_tasks(dashboard: Dashboard, cooperative_id: int, role: Role) -> list:
    """The day's work as pointers ("7 registrations ready → prepare a batch"), only those
    with something waiting, from the figures the dashboard has already counted."""
    tasks = []
    if role in (Role.SECRETARY, Role.ADMIN):
        tasks.append((registrations_in(cooperative_id, RegistrationStatus.READY),
                      _("registration(s) ready to send"), _("Prepare a batch"),
                      "batches.new_batch", {}))
        tasks.append((registrations_in(cooperative_id, RegistrationStatus.REJECTED),
                      _("rejected registration(s) to fix"), _("See the agreements"),
                      "agreements.list_agreements", {}))
        tasks.append((len(dashboard.lists.get("batches", [])),
                      _("batch(es) waiting for the institution's answer"),
                      _("Record the answers"), "batches.list_batches", {}))
        from coopreg.selfservice.services import pending_count

        tasks.append((pending_count(cooperative_id),
                      _("correction request(s) from members"), _("Answer them"),
                      "selfservice_office.corrections", {}))
    if role in (Role.TREASURER, Role.ADMIN):
        figures = {endpoint: value for _label, value, endpoint, _args in dashboard.figures}
        tasks.append((figures.get("contributions.arrears", 0), _("member(s) in arrears"),
                      _("Follow them up"), "contributions.arrears", {}))
        tasks.append((len(dashboard.lists.get("remittances", [])), _("remittance(s) due"),
                      _("Remit"), "contributions.remittances", {}))
        tasks.append((figures.get("contributions.statement_queue", 0),
                      _("statement line(s) to match"), _("Match them"),
                      "contributions.statement_queue", {}))
    return [task for task in tasks if task[0]]


def _agreements(cooperative_id: int) -> list[Agreement]:
    return db.session.scalars(select(Agreement).where(
        Agreement.cooperative_id == cooperative_id).order_by(Agreement.reference)).all()


def members_missing_documents(cooperative_id: int) -> int:
    """Active members who lack at least one active item of the checklist (the member list's
    "missing a document" filter, with status active: the card's link)."""
    from coopreg.members.services import missing_documents_condition

    return db.session.scalar(select(func.count()).select_from(Member).where(
        Member.cooperative_id == cooperative_id, Member.status == MemberStatus.ACTIVE,
        missing_documents_condition(cooperative_id))) or 0


def _funnel_chart(agreements: list[Agreement]):
    labels = [("pending", _("Pending")), ("ready", _("Ready")), ("submitted", _("Submitted")),
              ("registered", _("Registered")), ("rejected", _("Rejected"))]
    rows = []
    for agreement in agreements:
        counts = funnel(agreement)
        rows.append((agreement.reference, [Segment(label, counts.get(key, 0))
                                           for key, label in labels]))
    if not rows:
        return None
    return stacked_bars(_("Registrations per agreement"), rows, percent=False)


def _rejected(cooperative_id: int, limit: int = 8) -> list[Registration]:
    return db.session.scalars(select(Registration).where(
        Registration.cooperative_id == cooperative_id,
        Registration.status == RegistrationStatus.REJECTED)
        .order_by(Registration.updated_at.desc()).limit(limit)).all()


def _batches_waiting(cooperative_id: int) -> list:
    from coopreg.batches.models import Batch, BatchStatus

    return db.session.scalars(select(Batch).where(
        Batch.cooperative_id == cooperative_id,
        Batch.status.in_([BatchStatus.SEALED, BatchStatus.SENT,
                          BatchStatus.PARTIALLY_ACKNOWLEDGED]))
        .order_by(Batch.id.desc()).limit(10)).all()


def _reconciliations(agreements: list[Agreement], today: date) -> list[tuple[Agreement, list]]:
    """Each agreement's reconciliation, computed once for the charts and lists that use it."""
    from coopreg.contributions.reports import reconciliation

    return [(agreement, reconciliation(agreement, today=today)) for agreement in agreements]


def _collection_chart(reconciled: list[tuple[Agreement, list]], today: date):
    """Collection rate (paid ÷ due, members' shares) of the last six periods with dues."""
    series = []
    for agreement, all_figures in reconciled:
        figures = sorted((f for f in all_figures if f.due_minor and f.period <= today),
                         key=lambda f: f.period)[-6:]
        if figures:
            series.append((agreement, figures))
    charts = []
    for agreement, figures in series:
        columns = [(show_month(f.period),
                    [round(f.allocated_minor * 100 / f.due_minor, 1)]) for f in figures]
        charts.append((_("Collection rate, %(agreement)s", agreement=agreement.reference),
                       column_chart(_("Collection rate, %(agreement)s",
                                      agreement=agreement.reference),
                                    columns, [_("paid of what was due (%)")],
                                    percent_axis=True)))
    return charts


def _remittances_due(reconciled: list[tuple[Agreement, list]]) -> list:
    rows = []
    for agreement, figures in reconciled:
        for figure in figures:
            if figure.unremitted_minor > 0 and not figure.closed:
                rows.append((agreement, figure))
    return rows[:10]


def _unmatched_lines(cooperative_id: int) -> int:
    """The statement queue's own count (the card opens the queue)."""
    from coopreg.contributions.statements import unmatched_count

    return unmatched_count(cooperative_id)


def _growth_chart(cooperative_id: int, today: date):
    """Members who joined, per year, over the last eight years (and before)."""
    year = func.extract("year", Member.joined_on)
    rows = dict(db.session.execute(select(year, func.count()).where(
        Member.cooperative_id == cooperative_id).group_by(year)).all())
    first = today.year - 7
    before = sum(n for y, n in rows.items() if int(y) < first)
    columns, running = [], before
    for y in range(first, today.year + 1):
        running += rows.get(y, 0) or rows.get(float(y), 0) or 0
        columns.append((str(y), [running]))
    return column_chart(_("Members in the register, by year"), columns, [_("members")])


def _coverage_chart(cooperative_id: int, today: date):
    from coopreg.agreements.coverage import coverage_report

    report = coverage_report(cooperative_id, today)
    rows = [(branch_label(b.branch), [Segment(_("Covered"), b.covered),
                                      Segment(_("Not covered"), b.not_covered)])
            for b in report.branches]
    return stacked_bars(_("Active members covered, per branch"), rows)


def branch_label(branch) -> str:
    from coopreg.agreements.coverage import BRANCH_LABELS

    return str(BRANCH_LABELS.get(branch, branch))


def _register_wide(cooperative, today: date, name: str, make):
    """A figure over the whole register, kept per process under the register version, the
    language and the day, for at most DASHBOARD_CACHE_SECONDS (what else it depends on,
    registrations for the coverage, moves on meanwhile)."""
    seconds = current_app.config["DASHBOARD_CACHE_SECONDS"]
    if not seconds:
        return make()
    key = (*register_key(cooperative), str(get_locale()), today, name)
    return kept("dashboard", 256, seconds).get_or_make(key, make)


def build_dashboard(cooperative, role: Role, today: date | None = None) -> Dashboard:
    today = today or date.today()
    dashboard = Dashboard(role=role.value)
    agreements = _agreements(cooperative.id)
    active = active_members(cooperative.id)  # one row of the register's counters
    dashboard.figures.append((_("Active members"), active, "members.list_members",
                              {"status": "active"}))

    if role in (Role.SECRETARY, Role.ADMIN):
        chart = _funnel_chart(agreements)
        if chart is not None:
            dashboard.charts.append((_("Registrations per agreement"), chart))
        dashboard.figures.append((_("Members with missing documents"), _register_wide(
            cooperative, today, "missing documents",
            lambda: members_missing_documents(cooperative.id)), "members.list_members",
            {"status": "active", "documents": "missing"}))
        dashboard.lists["rejected"] = _rejected(cooperative.id)
        dashboard.lists["batches"] = _batches_waiting(cooperative.id)

    if role in (Role.TREASURER, Role.ADMIN):
        reconciled = _reconciliations(agreements, today)
        dashboard.charts.extend(_collection_chart(reconciled, today))
        from coopreg.contributions.reports import arrears_totals, default_arrears_days

        # the arrears page's own definition and filter, named on the card and in its link
        days = default_arrears_days()
        members, amount = arrears_totals(cooperative.id, min_days=days, today=today)
        dashboard.figures.append((
            _("Members in arrears (a due open more than %(days)d days after its grace "
              "period)", days=days), members, "contributions.arrears", {"days": days}))
        dashboard.lists["arrears_amount"] = amount
        dashboard.lists["arrears_days"] = days
        dashboard.lists["remittances"] = _remittances_due(reconciled)
        dashboard.figures.append((_("Unmatched statement lines"),
                                  _unmatched_lines(cooperative.id),
                                  "contributions.statement_queue", {}))

    if role in (Role.VIEWER, Role.ADMIN):
        dashboard.charts.append((_("Coverage"), _register_wide(
            cooperative, today, "coverage", lambda: _coverage_chart(cooperative.id, today))))
        dashboard.charts.append((_("Growth"), _register_wide(
            cooperative, today, "growth", lambda: _growth_chart(cooperative.id, today))))

    if role == Role.ADMIN:
        dashboard.figures.append((_("Users"), db.session.scalar(
            select(func.count()).select_from(Membership).where(
                Membership.cooperative_id == cooperative.id)), "admin.users", {}))
        dashboard.lists["audit"] = db.session.scalars(select(AuditEvent).where(
            AuditEvent.cooperative_id == cooperative.id)
            .order_by(AuditEvent.id.desc()).limit(10)).all()
    dashboard.next_tasks = _next_tasks(dashboard, cooperative.id, role)
    if role == Role.VIEWER:
        chart = _register_wide(cooperative, today, "sectors",
                               lambda: _sector_chart(cooperative.id))
        if chart is not None:
            dashboard.charts.append((_("Active members by sector"), chart))
    return dashboard


def _sector_chart(cooperative_id: int):
    from coopreg.members.forms import SECTOR_LABELS

    by_sector = db.session.execute(select(Member.sector, func.count()).where(
        and_(Member.cooperative_id == cooperative_id, Member.status == MemberStatus.ACTIVE))
        .group_by(Member.sector).order_by(func.count().desc())).all()
    if not by_sector:
        return None
    return horizontal_bars(_("Active members by sector"),
                           [(str(SECTOR_LABELS[s]), n) for s, n in by_sector])
