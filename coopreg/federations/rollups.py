"""The federation's roll-ups: each figure is the cooperative's own report (the coverage gaps of
`coopreg.agreements.coverage`, the campaign funnel of `coopreg.agreements.services.funnel`,
the reconciliation of `coopreg.contributions.reports`) added up, never counted again here, so
the federation's figure is the sum of its cooperatives' pages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from coopreg.agreements.coverage import BranchCount, CoverageReport, coverage_report
from coopreg.agreements.models import Agreement, Branch
from coopreg.agreements.services import agreements_of, funnel
from coopreg.contributions.reports import reconciliation
from coopreg.federations.models import Federation
from coopreg.federations.services import cooperatives_of

FUNNEL_KEYS = ("not_enrolled", "pending", "ready", "submitted", "registered", "rejected")


@dataclass
class CooperativeFigures:
    code: str
    name: str
    currency: str
    coverage: CoverageReport
    funnel: dict[str, int]
    due_minor: int = 0
    allocated_minor: int = 0

    @property
    def collection_rate(self) -> Decimal | None:
        """Paid of what was due (members' shares, periods up to today), 0 to 1."""
        return _rate(self.allocated_minor, self.due_minor)


@dataclass
class RollUp:
    as_of: date
    cooperatives: list[CooperativeFigures]
    coverage: CoverageReport
    funnel: dict[str, int]
    # currency → (due, allocated): rates add up within one currency only
    collection: dict[str, tuple[int, int]] = field(default_factory=dict)

    def collection_rate(self, currency: str) -> Decimal | None:
        due, allocated = self.collection[currency]
        return _rate(allocated, due)


def _rate(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def _add_coverage(reports: list[CoverageReport], as_of: date) -> CoverageReport:
    branches = [BranchCount(branch, sum(r.branches[i].covered for r in reports),
                            sum(r.branches[i].total for r in reports),
                            sum(r.branches[i].outside for r in reports))
                for i, branch in enumerate(Branch)]
    return CoverageReport(
        as_of=as_of, total_active=sum(r.total_active for r in reports), branches=branches,
        breakdowns={}, covered_any=sum(r.covered_any for r in reports),
        women=sum(r.women for r in reports),
        covered_outside_any=sum(r.covered_outside_any for r in reports),
        dependants_covered=sum(r.dependants_covered for r in reports))


def _funnel_of(agreements: list[Agreement]) -> dict[str, int]:
    counts = dict.fromkeys(FUNNEL_KEYS, 0)
    for agreement in agreements:
        for key, value in funnel(agreement).items():
            if key in counts:
                counts[key] += value
    return counts


def roll_up(federation: Federation, today: date | None = None) -> RollUp:
    """Each cooperative's coverage gaps, campaign funnel (all its agreements) and collection
    rate, and the federation's totals as their sums."""
    today = today or date.today()
    rows = []
    for place in cooperatives_of(federation):
        cooperative = place.cooperative
        agreements = agreements_of(cooperative.id)
        figures = CooperativeFigures(cooperative.code, cooperative.name, cooperative.currency,
                                     coverage_report(cooperative.id, today),
                                     _funnel_of(agreements))
        for agreement in agreements:
            for period in reconciliation(agreement, today=today):
                if period.period <= today:
                    figures.due_minor += period.due_minor
                    figures.allocated_minor += period.allocated_minor
        rows.append(figures)
    total_funnel = dict.fromkeys(FUNNEL_KEYS, 0)
    collection: dict[str, tuple[int, int]] = {}
    for row in rows:
        for key in FUNNEL_KEYS:
            total_funnel[key] += row.funnel[key]
        due, allocated = collection.get(row.currency, (0, 0))
        collection[row.currency] = (due + row.due_minor, allocated + row.allocated_minor)
    return RollUp(today, rows, _add_coverage([r.coverage for r in rows], today),
                  total_funnel, collection)
