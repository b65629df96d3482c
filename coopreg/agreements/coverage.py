"""The coverage-gap report: for each of the nine branches of social protection, how many active
members are covered through a registered registration, and how many are not, overall and by
sector, sex, age band and locality. Evidence a cooperative brings to a municipality or a ministry.

Counted with SQL aggregates (GROUP BY), never by walking members in Python, so it stays quick
with 100,000+ members. A member is covered for a branch when they are active and hold a
registration that is `registered`, whose coverage has started and not ended, under an
agreement in force today whose schemes include the branch.

Maternity is counted among women only (its share is of the active women). Members who are not
covered here but declared cover outside the cooperative (`OutsideCoverage`) are counted
apart: the gap is who is covered nowhere. Dependants registered through a member's cover are
counted too.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from sqlalchemy import case, func, literal, or_, select

from coopreg.agreements.models import (
    COVERED_DEPENDANT,
    Agreement,
    AgreementScheme,
    Branch,
    DependantRegistration,
    OutsideCoverage,
    Registration,
    RegistrationStatus,
    SchemeBranch,
)
from coopreg.core.labels import display, labels_for
from coopreg.extensions import db
from coopreg.members.models import Member, MemberStatus, Sector, Sex

BRANCH_LABELS = labels_for(Branch, {
    Branch.MEDICAL_CARE: _l("Medical care"),
    Branch.SICKNESS: _l("Sickness"),
    Branch.UNEMPLOYMENT: _l("Unemployment"),
    Branch.OLD_AGE: _l("Old age"),
    Branch.EMPLOYMENT_INJURY: _l("Employment injury"),
    Branch.FAMILY: _l("Family"),
    Branch.MATERNITY: _l("Maternity"),
    Branch.INVALIDITY: _l("Invalidity"),
    Branch.SURVIVORS: _l("Survivors"),
})

# Age bands: (youngest age, oldest age or None); labels in AGE_BAND_LABELS.
AGE_BANDS = ((0, 24), (25, 34), (35, 44), (45, 54), (55, 64), (65, None))

DIMENSIONS = (("sector", _l("By sector")), ("sex", _l("By sex")),
              ("age_band", _l("By age band")), ("locality", _l("By locality")))
DIMENSION_COLUMNS = {"sector": _l("Sector"), "sex": _l("Sex"), "age_band": _l("Age band"),
                     "locality": _l("Locality")}


@dataclass
class BranchCount:
    """One branch: `total` members it concerns (for maternity, the women), `covered` through
    the cooperative's registrations, `outside` not covered here but covered outside the
    cooperative (declared: employer, spouse, the state, another scheme); the gap is the
    rest."""

    branch: Branch
    covered: int
    total: int
    outside: int = 0

    @property
    def not_covered(self) -> int:
        return self.total - self.covered

    @property
    def gap(self) -> int:
        """Covered neither here nor outside."""
        return self.total - self.covered - self.outside

    def _of_total(self, part: int) -> Decimal:
        """`part` as a share of the members concerned, 0 to 1, four decimals."""
        if not self.total:
            return Decimal(0)
        return (Decimal(part) / Decimal(self.total)).quantize(
            Decimal("0.0001"), rounding=ROUND_HALF_UP)

    @property
    def gap_share(self) -> Decimal:
        return self._of_total(self.gap)

    @property
    def outside_share(self) -> Decimal:
        return self._of_total(self.outside)

    @property
    def share(self) -> Decimal:
        """Covered share, 0 to 1, four decimals."""
        return self._of_total(self.covered)

    @property
    def percent(self) -> Decimal:
        return (self.share * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    @property
    def not_covered_percent(self) -> Decimal:
        return Decimal(100) - self.percent if self.total else Decimal(0)


@dataclass
class GroupRow:
    key: str
    label: str
    total: int
    branches: list[BranchCount] = field(default_factory=list)


@dataclass
class CoverageReport:
    as_of: date
    total_active: int
    branches: list[BranchCount]
    breakdowns: dict[str, list[GroupRow]]
    covered_any: int = 0
    women: int = 0  # active women: the members maternity concerns
    covered_outside_any: int = 0  # active members covered outside for at least one branch
    dependants_covered: int = 0  # dependants registered through an active member's cover


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _age_band_expression(as_of: date):
    """A CASE giving each member's age band key, from date-of-birth cut-offs (both
    databases)."""
    whens = []
    for index, (_low, high) in enumerate(AGE_BANDS):
        if high is None:
            continue
        # older than `high` years means born on or before this day
        oldest_birthday = _years_before(as_of, high + 1)
        whens.append((Member.date_of_birth > oldest_birthday, literal(str(index))))
    return case(*whens, else_=literal(str(len(AGE_BANDS) - 1)))


def _covering(cooperative_id: int, as_of: date) -> tuple:
    """The conditions of a registration that covers on `as_of` (joined to its agreement):
    registered, coverage started and not ended, agreement in force."""
    return (Registration.cooperative_id == cooperative_id,
            Registration.status == RegistrationStatus.REGISTERED,
            or_(Registration.coverage_start.is_(None), Registration.coverage_start <= as_of),
            # a coverage that has ended covers nobody, whatever the status says
            or_(Registration.coverage_end.is_(None), Registration.coverage_end >= as_of),
            Agreement.valid_from <= as_of,
            or_(Agreement.valid_to.is_(None), Agreement.valid_to >= as_of))


def _covered_pairs(cooperative_id: int, as_of: date):
    """(member_id, branch) for every branch each member is covered for, once."""
    return (select(Registration.member_id.label("member_id"),
                   SchemeBranch.branch.label("branch"))
            .join(Agreement, Agreement.id == Registration.agreement_id)
            .join(AgreementScheme, AgreementScheme.agreement_id == Agreement.id)
            .join(SchemeBranch, SchemeBranch.scheme_id == AgreementScheme.scheme_id)
            .where(*_covering(cooperative_id, as_of))
            .distinct().subquery("covered"))


def _dimension(name: str, as_of: date):
    if name == "sector":
        return Member.sector
    if name == "sex":
        return Member.sex
    if name == "age_band":
        return _age_band_expression(as_of)
    return Member.locality_key


def _label(name: str, key) -> str:
    from coopreg.members.forms import SECTOR_LABELS

    if name == "sector":
        return str(SECTOR_LABELS.get(Sector(key), key))
    if name == "sex":
        return display(Sex(key))
    if name == "age_band":
        return str(AGE_BAND_LABELS[int(key)])
    return key


AGE_BAND_LABELS = (_l("Under 25"), _l("25 to 34"), _l("35 to 44"), _l("45 to 54"),
                   _l("55 to 64"), _l("65 and over"))


def _branch_masks(cooperative_id: int, as_of: date):
    """(member_id, mask) for every member covered for at least one branch: bit i of the mask
    set when covered for the i-th branch of `Branch` (the covered pairs are distinct, so
    their bits add up to the mask)."""
    covered = _covered_pairs(cooperative_id, as_of)
    bit = case(*[(covered.c.branch == branch, literal(1 << index))
                 for index, branch in enumerate(Branch)], else_=literal(0))
    return (select(covered.c.member_id.label("member_id"), func.sum(bit).label("mask"))
            .group_by(covered.c.member_id).subquery("masks"))


def _outside_masks(cooperative_id: int):
    """(member_id, mask) for every member who declared cover outside the cooperative: bit i
    set for the i-th branch of `Branch` (one row per member and branch, so the bits add up)."""
    bit = case(*[(OutsideCoverage.branch == branch, literal(1 << index))
                 for index, branch in enumerate(Branch)], else_=literal(0))
    return (select(OutsideCoverage.member_id.label("member_id"),
                   func.sum(bit).label("outside_mask"))
            .where(OutsideCoverage.cooperative_id == cooperative_id)
            .group_by(OutsideCoverage.member_id).subquery("outside"))


def _covered_dependants(cooperative_id: int, as_of: date):
    """How many dependants of active members are registered through a registration of their
    member that covers today (registered, started, not ended, agreement in force), each
    dependant once: a scalar subquery, worked out once for the whole statement."""
    return (select(func.count(func.distinct(DependantRegistration.dependant_id)))
            .join(Registration, Registration.id == DependantRegistration.registration_id)
            .join(Agreement, Agreement.id == Registration.agreement_id)
            .join(Member, Member.id == Registration.member_id)
            .where(DependantRegistration.cooperative_id == cooperative_id,
                   DependantRegistration.status == COVERED_DEPENDANT,
                   *_covering(cooperative_id, as_of),
                   Member.cooperative_id == cooperative_id,
                   Member.status == MemberStatus.ACTIVE)
            .scalar_subquery())


def concerns(branch: Branch, sex) -> bool:
    """Whether a branch concerns a member of this sex: maternity is counted among women."""
    return branch != Branch.MATERNITY or sex == Sex.FEMALE.value


def coverage_report(cooperative_id: int, as_of: date | None = None) -> CoverageReport:
    """Count covered and not covered active members per branch, overall and per breakdown.

    One statement: the covered members are worked out once (a branch mask per member) and
    the active members are grouped by every breakdown at once and by their mask; the total,
    the branches, "covered for at least one branch" and the four breakdowns are sums of
    those few rows (a few thousand at most: sectors × sexes × age bands × localities ×
    the masks in use), whatever the size of the register."""
    as_of = as_of or date.today()
    masks = _branch_masks(cooperative_id, as_of)
    outside = _outside_masks(cooperative_id)
    dependants = _covered_dependants(cooperative_id, as_of)
    keys = {name: _dimension(name, as_of).label(name) for name, _title in DIMENSIONS}
    mask = func.coalesce(masks.c.mask, 0).label("mask")
    outside_mask = func.coalesce(outside.c.outside_mask, 0).label("outside_mask")
    stmt = (select(*keys.values(), mask, outside_mask, func.count().label("n"),
                   func.min(Member.locality).label("locality_label"),
                   dependants.label("dependants"))
            .select_from(Member).outerjoin(masks, masks.c.member_id == Member.id)
            .outerjoin(outside, outside.c.member_id == Member.id)
            .where(Member.cooperative_id == cooperative_id,
                   Member.status == MemberStatus.ACTIVE)
            .group_by(*keys.values(), mask, outside_mask))
    bits = [(1 << index, branch) for index, branch in enumerate(Branch)]
    total_active = covered_any = women = outside_any = dependants_covered = 0
    # members per (breakdown or "" for everyone, group, covered mask, outside mask, sex):
    # a few dict additions per row; the branches are worked out once per distinct key below
    tallies: dict[tuple, int] = {}
    totals: dict[str, dict] = {name: {} for name in keys}
    labels: dict = {}
    names = list(keys)
    for row in db.session.execute(stmt):
        n, row_mask, row_outside = row.n, int(row.mask), int(row.outside_mask)
        sex = getattr(row.sex, "value", row.sex)
        total_active += n
        covered_any += n if row_mask else 0
        outside_any += n if row_outside else 0
        women += n if sex == Sex.FEMALE.value else 0
        dependants_covered = int(row.dependants)  # the same on every row
        key = ("", None, row_mask, row_outside, sex)
        tallies[key] = tallies.get(key, 0) + n
        for name in names:
            group = row._mapping[name]
            group = getattr(group, "value", group)
            key = (name, group, row_mask, row_outside, sex)
            tallies[key] = tallies.get(key, 0) + n
            totals[name][group] = totals[name].get(group, 0) + n
            if name == "locality" and row.locality_label is not None:
                known = labels.get(group)
                labels[group] = (row.locality_label if known is None
                                 else min(known, row.locality_label))
    # per (breakdown, group, branch): [concerned, covered, covered outside only]
    figures: dict[tuple, list[int]] = {}
    for (name, group, row_mask, row_outside, sex), n in tallies.items():
        for value, branch in bits:
            if not concerns(branch, sex):
                continue
            tally = figures.setdefault((name, group, branch), [0, 0, 0])
            tally[0] += n
            if row_mask & value:
                tally[1] += n
            elif row_outside & value:
                tally[2] += n

    def count(name: str, group, branch: Branch) -> BranchCount:
        concerned, covered, away = figures.get((name, group, branch), (0, 0, 0))
        return BranchCount(branch, covered, concerned, away)

    branches = [count("", None, b) for b in Branch]

    breakdowns: dict[str, list[GroupRow]] = {}
    for name, _title in DIMENSIONS:
        groups = []
        for group, total in totals[name].items():
            if name == "locality":
                label = labels.get(group) or str(_l("Not recorded"))
            else:
                label = _label(name, group)
            groups.append(GroupRow(
                key="" if group is None else str(group), label=label, total=total,
                branches=[count(name, group, b) for b in Branch]))
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
                          breakdowns=breakdowns, covered_any=covered_any, women=women,
                          covered_outside_any=outside_any,
                          dependants_covered=dependants_covered)


# ---- the spreadsheet ------------------------------------------------------------------------

def _cell(ws, value, *, bold: bool = False, number_format: str | None = None):
    """A write-only cell; text always stays text (a value starting with '=' is never a
    formula)."""
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    if bold:
        cell.font = Font(bold=True)
    if number_format:
        cell.number_format = number_format
    return cell


def _sheet(workbook: Workbook, title: str, header: list[str], widths: list[int]):
    ws = workbook.create_sheet(title=title[:31])
    for index, width in enumerate(widths):
        ws.column_dimensions[_column_letter(index)].width = width
    ws.freeze_panes = "B2"
    ws.append([_cell(ws, h, bold=True) for h in header])
    return ws


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def coverage_workbook(report: CoverageReport, cooperative_name: str) -> bytes:
    """The report as xlsx bytes (see `write_coverage_workbook`)."""
    buffer = io.BytesIO()
    write_coverage_workbook(report, cooperative_name, buffer)
    return buffer.getvalue()


def write_coverage_workbook(report: CoverageReport, cooperative_name: str, target) -> None:
    """The report as an xlsx file written to a binary stream: a summary sheet, then one
    sheet per breakdown (rows are groups; for each branch, the covered count and the covered
    share)."""
    workbook = Workbook(write_only=True)
    percent = "0.0%"
    header = [str(_l("Branch")), str(_l("Active members")), str(_l("Covered")),
              str(_l("Not covered")), str(_l("Covered share")), str(_l("Not covered share")),
              str(_l("Covered outside the cooperative")), str(_l("Covered nowhere"))]
    ws = _sheet(workbook, str(_l("Summary")), header, [26, 16, 12, 14, 15, 18, 18, 16])
    for count in report.branches:
        ws.append([_cell(ws, str(BRANCH_LABELS[count.branch])), count.total, count.covered,
                   count.not_covered, _cell(ws, count.share, number_format=percent),
                   _cell(ws, 1 - count.share if count.total else Decimal(0),
                         number_format=percent), count.outside, count.gap])
    ws.append([])
    ws.append([_cell(ws, str(_l("Cooperative")), bold=True), _cell(ws, cooperative_name)])
    ws.append([_cell(ws, str(_l("As of")), bold=True),
               _cell(ws, report.as_of, number_format="yyyy-mm-dd")])
    ws.append([_cell(ws, str(_l("Active members")), bold=True), report.total_active])
    ws.append([_cell(ws, str(_l("Covered for at least one branch")), bold=True),
               report.covered_any])
    ws.append([_cell(ws, str(_l("Active women (maternity is counted among them)")),
                     bold=True), report.women])
    ws.append([_cell(ws, str(_l("Covered outside the cooperative for at least one branch")),
                     bold=True), report.covered_outside_any])
    ws.append([_cell(ws, str(_l("Dependants covered through members")), bold=True),
               report.dependants_covered])

    for name, title in DIMENSIONS:
        header = [str(DIMENSION_COLUMNS[name]), str(_l("Active members"))]
        widths = [28, 16]
        for branch in Branch:
            label = str(BRANCH_LABELS[branch])
            header += [f"{label}: {_l('covered')}", f"{label}: {_l('share')}"]
            widths += [14, 12]
        ws = _sheet(workbook, str(title), header, widths)
        for group in report.breakdowns[name]:
            row = [_cell(ws, group.label), group.total]
            for count in group.branches:
                row += [count.covered, _cell(ws, count.share, number_format=percent)]
            ws.append(row)
    workbook.save(target)
