"""The contributions area's rules: dues generation, receipts and their allocation, reversals,
remittances, acknowledgements and closed periods.

Decisions (see also the README section "Contributions"):
- Dues are generated for the months a registration covered (`coverage_start` ≤ month end and
  `coverage_end` empty or ≥ month start) while the person was a member (`joined_on`,
  `left_on`), whatever the registration's status today: the institution bills coverage. A
  closed period is never touched. Generation is idempotent by (agreement, member, period).
- The contribution rule has one source: `coopreg.agreements.services.contribution_for`, whose
  integer arithmetic (floor, ceiling, rate, half-up rounding, the member's share) dues
  generation repeats in SQL, so 100,000 members × 12 months is twelve INSERT … SELECT
  statements and no row passes through Python; a property test proves the SQL equal to the
  Python rule.
- A receipt is applied to the member's oldest open due first (by due date, across the
  member's agreements); partial payments leave the rest open; what is left over is the member's
  credit, applied to dues as they are generated. Allocation for a member is serialised by a
  row lock on the member (PostgreSQL; SQLite serialises all writers with BEGIN IMMEDIATE).
- A receipt whose money paid dues already remitted to the institution cannot be reversed: the
  money is no longer the cooperative's to give back (remitted never exceeds collected).
- A due is remitted once it is fully paid (member share allocated in full), with both shares;
  the remittance of a period takes every such due of that period and earlier ones not yet
  remitted (earlier ones are adjustments: late payments). The amount the treasurer records
  must equal the lines' total — a control, not a free figure.

Services for other areas:
- `remittance_batch_lines(agreement, period)` and `remittance_total(agreement, period)` (the
  batches area builds the remittance file from them).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from math import gcd
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Date, DateTime, bindparam, exists, func, literal, or_, select, union_all
from sqlalchemy import text as sa_text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from coopreg.agreements.families import surcharges_by_relation
from coopreg.agreements.models import (
    Agreement,
    AgreementTerms,
    DependantStatus,
    Registration,
    RegistrationStatus,
    RuleKind,
    TermsPayer,
)
from coopreg.agreements.services import BP, dues_per_year, periods_between
from coopreg.contributions.models import (
    Allocation,
    CollectionSheet,
    Due,
    DuePayerShare,
    DueTotal,
    DueWriteOff,
    PaymentMethod,
    PeriodClose,
    PeriodTotal,
    Receipt,
    ReceiptReversal,
    Remittance,
    RemittanceAcknowledgement,
    RemittanceLine,
)
from coopreg.contributions.signals import receipt_recorded
from coopreg.cooperatives.models import Cooperative
from coopreg.core.errors import DomainError, KeyReused
from coopreg.core.models import utcnow
from coopreg.core.money import format_minor, from_minor, parse_amount, to_minor
from coopreg.core.sentences import kept, say, sentence
from coopreg.core.sequences import next_number
from coopreg.core.templating import show_month
from coopreg.core.tenancy import get_scoped, unscoped
from coopreg.core.text import read_month
from coopreg.core.validation import clean_text as _text
from coopreg.extensions import db
from coopreg.members.models import Member

Progress = Callable[[int, int, str], None]
MAX_MONTHS = 120
_KEY = re.compile(r"[A-Za-z0-9:._-]{8,80}")


# ---- small helpers --------------------------------------------------------------------------

def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def next_month(day: date) -> date:
    return month_end(day) + timedelta(days=1)


def previous_month(day: date) -> date:
    """The first day of the month before `day`'s (what is usually remitted)."""
    return month_start(month_start(day) - timedelta(days=1))


def parse_month(text: str | None, field_name: str = "period") -> date:
    """"2025-03" (or "03/2025", as typed) → date(2025, 3, 1); a DomainError naming the field
    otherwise."""
    month = read_month(text)
    if month is None:
        raise DomainError(_("Give the month as year-month, for example 2025-03."),
                          field=field_name)
    return date(month[0], month[1], 1)


def dues_months(agreement: Agreement, start: str | None, through: str | None,
                from_start: bool = False) -> tuple[date, date]:
    """The first and last month of a dues run as a person gives them ("2025-03"). Without a
    first month the run is the last month alone (the current period, by default): reaching
    back is an explicit choice, a first month or `from_start` (the agreement's first month).
    DomainError (naming the field) when a month is unreadable or the last comes before the
    first."""
    last = parse_month(through, "through")
    if (start or "").strip():
        first = parse_month(start, "start")
    elif from_start:
        first = month_start(agreement.valid_from)
    else:
        first = last
    if last < first:
        raise DomainError(_("The last month is before the first."), field="through")
    return first, last


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _currency(cooperative_id: int) -> str:
    return db.session.get(Cooperative, cooperative_id).currency


def amount_minor(value: Any, currency: str, field_name: str = "amount",
                 allow_zero: bool = False) -> int:
    """An amount as typed (or a Decimal) → minor units, refusing zero unless allowed."""
    try:
        minor = to_minor(parse_amount(value if isinstance(value, Decimal | int) else
                                      str(value or ""), currency), currency)
    except DomainError as error:
        raise DomainError(error.message, field=field_name) from None
    if minor == 0 and not allow_zero:
        raise DomainError(_("The amount must be more than zero."), field=field_name)
    return minor


def _lock_member(member_id: int) -> None:
    """Serialise the money work of one member: two treasurers allocating for the same member
    wait for each other (PostgreSQL row lock, FOR NO KEY UPDATE so inserts that merely
    reference the member are not blocked; SQLite already serialises writers)."""
    if _dialect() == "postgresql":
        db.session.execute(select(Member.id).where(Member.id == member_id)
                           .with_for_update(key_share=True)
                           .execution_options(**unscoped("a row lock only: nothing is read")))


def _lock_agreement(agreement_id: int) -> None:
    if _dialect() == "postgresql":
        db.session.execute(select(Agreement.id).where(Agreement.id == agreement_id)
                           .with_for_update(key_share=True)
                           .execution_options(**unscoped("a row lock only: nothing is read")))


def _not_reversed():
    return ~exists().where(ReceiptReversal.receipt_id == Receipt.id)


def _paid_of_due():
    """Correlated: what has been allocated (net) to `Due`, from its running figures (one row
    by key, kept by the database with every allocation: `DueTotal`)."""
    return func.coalesce(select(DueTotal.paid_minor).where(DueTotal.due_id == Due.id)
                         .scalar_subquery(), 0)


def _written_off_of_due():
    """Correlated: what has been written off of `Due` (0 when nothing), from `DueTotal`."""
    return func.coalesce(select(DueTotal.written_off_minor).where(DueTotal.due_id == Due.id)
                         .scalar_subquery(), 0)


def _allocated_of_receipt():
    return (select(func.coalesce(func.sum(Allocation.amount_minor), 0))
            .where(Allocation.receipt_id == Receipt.id).scalar_subquery())


def closed_periods(agreement: Agreement) -> set[date]:
    return set(db.session.scalars(select(PeriodClose.period).where(
        PeriodClose.cooperative_id == agreement.cooperative_id,
        PeriodClose.agreement_id == agreement.id)))


def is_closed(agreement: Agreement, period: date) -> bool:
    return db.session.scalar(select(PeriodClose.id).where(
        PeriodClose.cooperative_id == agreement.cooperative_id,
        PeriodClose.agreement_id == agreement.id,
        PeriodClose.period == month_start(period))) is not None


# ---- dues -----------------------------------------------------------------------------------

def _said_month(value: str) -> str:
    """A month kept as "2026-11" (a job's result), as the reader says it."""
    try:
        return show_month(date.fromisoformat(f"{value}-01"))
    except ValueError:
        return value


def _say_generation(p: dict) -> str:
    text = _("%(created)d dues created for %(periods)d period(s).", created=p["created"],
             periods=p["periods"])
    if p.get("closed"):
        text += " " + _("Closed periods left alone: %(months)s.",
                        months=", ".join(_said_month(m) for m in p["closed"]))
    if p.get("missing"):
        text += " " + _("%(n)d member(s) have no declared income and the rule has no "
                        "floor: %(numbers)s.", n=p.get("missing_count", len(p["missing"])),
                        numbers=", ".join(p["missing"]))
    if p.get("unplaced"):
        text += " " + _("%(n)d member(s) are in no category of the scale: %(numbers)s.",
                        n=p.get("unplaced_count", len(p["unplaced"])),
                        numbers=", ".join(p["unplaced"]))
    if p.get("credit"):
        text += " " + _("Credit of %(n)d member(s) applied to the new dues.", n=p["credit"])
    return text


DUES_GENERATED = sentence("contributions.dues_generated", _say_generation)


@dataclass
class GenerationResult:
    periods: list[date] = field(default_factory=list)
    created: int = 0
    skipped_closed: list[date] = field(default_factory=list)
    missing_income: list[str] = field(default_factory=list)  # member numbers
    unplaced: list[str] = field(default_factory=list)  # in no category of a category scale
    credit_applied_to: int = 0  # members whose credit paid some of the new dues

    def kept_summary(self) -> dict:
        """The summary as a kept sentence (a job's result): said in the reader's language."""
        return kept(DUES_GENERATED, created=self.created, periods=len(self.periods),
                    closed=[f"{m:%Y-%m}" for m in self.skipped_closed],
                    missing=self.missing_income[:20], missing_count=len(self.missing_income),
                    unplaced=self.unplaced[:20], unplaced_count=len(self.unplaced),
                    credit=self.credit_applied_to)

    def summary(self) -> str:
        return say(self.kept_summary())

    def as_dict(self) -> dict:
        return {"created": self.created, "periods": [f"{m:%Y-%m}" for m in self.periods],
                "skipped_closed": [f"{m:%Y-%m}" for m in self.skipped_closed],
                "missing_income": self.missing_income[:200],
                "unplaced": self.unplaced[:200],
                "credit_applied_to": self.credit_applied_to, "summary": self.kept_summary()}


def generate_dues(agreement: Agreement, start: date, end: date,
                  progress: Progress | None = None, chunk_size: int = 50_000
                  ) -> GenerationResult:
    """Create the dues of an agreement for the months from `start` to `end` (inclusive) for
    every registration that covered the month while the person was a member. Set-based: the
    database computes every member's shares, in one INSERT … SELECT per chunk of about
    `chunk_size` dues (registrations by member × the periods that follow the same terms,
    `_insert_dues_chunk`; with the third parties' shares in the same statement on PostgreSQL);
    idempotent (ON CONFLICT DO NOTHING on (agreement, member, period)). Closed periods are
    skipped. Existing credit is then applied to the new dues."""
    start, end = month_start(start), month_start(end)
    _periods_to_generate(agreement, start, end)  # the range's checks, before the lock
    _lock_agreement(agreement.id)
    result = GenerationResult()
    periods, result.skipped_closed = _periods_to_generate(agreement, start, end)
    result.periods = [p.month for p in periods]
    if not periods:
        return result
    runs = _runs(periods)
    member_ids = list(db.session.scalars(
        select(Registration.member_id)
        .where(Registration.cooperative_id == agreement.cooperative_id,
               Registration.agreement_id == agreement.id,
               Registration.coverage_start.is_not(None),
               Registration.coverage_start <= month_end(periods[-1].month),
               or_(Registration.coverage_end.is_(None),
                   Registration.coverage_end >= periods[0].month))
        .order_by(Registration.member_id)))
    # every due this run writes gets a larger id than any due before it (the agreement is
    # locked, and nothing else writes dues): that is how its new dues are found again below
    last_id_before = db.session.scalar(select(func.max(Due.id)).execution_options(
        **unscoped("ids are shared by all cooperatives: the largest due id so far"))) or 0
    now = utcnow()
    missing: set[str] = set()
    unplaced: set[str] = set()
    total, done = len(member_ids) * len(periods), 0
    for run in runs:
        step = max(1, chunk_size // len(run))
        for i in range(0, len(member_ids), step):
            chunk = member_ids[i:i + step]
            result.created += _insert_dues_chunk(agreement, run, chunk[0], chunk[-1], now,
                                                 last_id_before)
            done += len(chunk) * len(run)
            if progress:
                progress(done, total, _("Creating dues…"))
        if member_ids:
            _name_missing(agreement, run, missing, unplaced)
    if progress:
        progress(total, total, _("Applying members' credit…"))
    result.missing_income = sorted(missing)
    result.unplaced = sorted(unplaced)
    if result.created:
        for member_id in _members_in_credit_with_new_dues(agreement, last_id_before):
            if allocate_credit(member_id, agreement.cooperative_id):
                result.credit_applied_to += 1
    db.session.flush()
    return result


def third_shares_by_period(agreement: Agreement, periods: list[date] | None = None
                           ) -> list[tuple[date, str, int]]:
    """(period, third party's name, the sum of its shares) of an agreement's dues, of the
    given periods (all when None): one grouped query — none when the agreement's terms name
    no third party (most agreements), without reading its dues."""
    if not db.session.scalar(select(TermsPayer.id).join(
            AgreementTerms, AgreementTerms.id == TermsPayer.terms_id).where(
            TermsPayer.cooperative_id == agreement.cooperative_id,
            AgreementTerms.cooperative_id == agreement.cooperative_id,
            AgreementTerms.agreement_id == agreement.id).limit(1)):
        return []
    stmt = (select(Due.period, TermsPayer.name, func.sum(DuePayerShare.amount_minor))
            .join(DuePayerShare, DuePayerShare.due_id == Due.id)
            .join(TermsPayer, TermsPayer.id == DuePayerShare.payer_id)
            .where(Due.cooperative_id == agreement.cooperative_id,
                   DuePayerShare.cooperative_id == agreement.cooperative_id,
                   TermsPayer.cooperative_id == agreement.cooperative_id,
                   Due.agreement_id == agreement.id)
            .group_by(Due.period, TermsPayer.name))
    if periods is not None:
        stmt = stmt.where(Due.period.in_(periods))
    return [(period, name, int(minor)) for period, name, minor in db.session.execute(stmt)]


@dataclass
class PeriodPreview:
    """One period of a dues preview: what a run would create (count, each payer's share) and
    what already exists (the same)."""

    month: date
    new_count: int = 0
    new_member_minor: int = 0
    new_cooperative_minor: int = 0
    existing_count: int = 0
    existing_member_minor: int = 0
    existing_cooperative_minor: int = 0
    # the third parties' shares (the state, a municipality, a donor), by payer name
    new_third: dict[str, int] = field(default_factory=dict)
    existing_third: dict[str, int] = field(default_factory=dict)

    @property
    def new_total_minor(self) -> int:
        return self.new_member_minor + self.new_cooperative_minor + sum(self.new_third.values())

    @property
    def existing_total_minor(self) -> int:
        return (self.existing_member_minor + self.existing_cooperative_minor
                + sum(self.existing_third.values()))


@dataclass
class DuesPreview:
    """What `generate_dues(agreement, start, end)` would do, computed without writing."""

    start: date
    end: date
    periods: list[PeriodPreview] = field(default_factory=list)
    skipped_closed: list[date] = field(default_factory=list)
    missing_income: list[str] = field(default_factory=list)
    unplaced: list[str] = field(default_factory=list)
    members: int = 0  # members who would get at least one new due

    def total(self, name: str) -> int:
        return sum(getattr(p, name) for p in self.periods)

    @property
    def closed_text(self) -> str:
        return ", ".join(show_month(m) for m in self.skipped_closed)

    @property
    def new_count(self) -> int:
        return self.total("new_count")

    @property
    def third_names(self) -> list[str]:
        """Every third party that pays a share of a previewed period, in order."""
        names: dict[str, None] = {}
        for p in self.periods:
            names.update(dict.fromkeys(p.new_third))
            names.update(dict.fromkeys(p.existing_third))
        return list(names)

    def third_total(self, name: str) -> int:
        return sum(p.new_third.get(name, 0) for p in self.periods)

    def lines(self, currency: str) -> list[str]:
        """The preview as text (the CLI's --dry-run prints it)."""
        def amount(minor: int) -> str:
            return str(from_minor(minor, currency))

        out = [_("Dues %(first)s to %(last)s: %(n)d to create for %(members)d member(s).",
                 first=show_month(self.start), last=show_month(self.end), n=self.new_count,
                 members=self.members)]
        for p in self.periods:
            out.append(_("%(month)s: %(n)d new (member share %(member)s, cooperative share "
                         "%(coop)s, total %(total)s %(currency)s); already there: %(old)d "
                         "(%(old_total)s %(currency)s).", month=show_month(p.month),
                         n=p.new_count, member=amount(p.new_member_minor),
                         coop=amount(p.new_cooperative_minor), total=amount(p.new_total_minor),
                         currency=currency, old=p.existing_count,
                         old_total=amount(p.existing_total_minor)))
            for name, minor in p.new_third.items():
                out.append(_("%(month)s: %(payer)s's share %(amount)s %(currency)s.",
                             month=f"{p.month:%Y-%m}", payer=name, amount=amount(minor),
                             currency=currency))
        out.append(_("Total new: member share %(member)s, cooperative share %(coop)s, total "
                     "%(total)s %(currency)s.", member=amount(self.total("new_member_minor")),
                     coop=amount(self.total("new_cooperative_minor")),
                     total=amount(self.total("new_total_minor")), currency=currency))
        for name in self.third_names:
            out.append(_("Total new: %(payer)s's share %(amount)s %(currency)s.", payer=name,
                         amount=amount(self.third_total(name)), currency=currency))
        if self.skipped_closed:
            out.append(_("Closed periods left alone: %(months)s.", months=", ".join(
                show_month(m) for m in self.skipped_closed)))
        if self.missing_income:
            out.append(_("%(n)d member(s) have no declared income and the rule has no "
                         "floor: %(numbers)s.", n=len(self.missing_income),
                         numbers=", ".join(self.missing_income[:20])))
        if self.unplaced:
            out.append(_("%(n)d member(s) are in no category of the scale: %(numbers)s.",
                         n=len(self.unplaced), numbers=", ".join(self.unplaced[:20])))
        return out


def _periods_to_generate(agreement: Agreement, start: date, end: date
                         ) -> tuple[list, list[date]]:
    """(the periods of a run that are open, the closed ones it leaves alone), after checking
    the range."""
    if end < start:
        raise DomainError(_("The last month is before the first."), field="through")
    if (end.year - start.year) * 12 + end.month - start.month >= MAX_MONTHS:
        raise DomainError(_("Generate at most %(n)d months at a time.", n=MAX_MONTHS),
                          field="through")
    closed = closed_periods(agreement)
    periods, skipped = [], []
    for period in periods_between(agreement, start, month_end(end)):
        (skipped if period.month in closed else periods).append(
            period.month if period.month in closed else period)
    return periods, skipped


def _runs(periods: list) -> list[list]:
    """Runs of consecutive periods under the same terms: one statement covers a run."""
    runs: list[list] = []
    for period in periods:
        if runs and runs[-1][-1].terms.id == period.terms.id:
            runs[-1].append(period)
        else:
            runs.append([period])
    return runs


def preview_dues(agreement: Agreement, start: date, end: date) -> DuesPreview:
    """What generating the dues of `start`..`end` would create, per period and per payer
    share, beside what already exists — computed by the same SQL as the generation (the same
    coverage, membership and rule), writing nothing."""
    start, end = month_start(start), month_start(end)
    periods, skipped = _periods_to_generate(agreement, start, end)
    preview = DuesPreview(start=start, end=end, skipped_closed=skipped)
    by_month = {p.month: PeriodPreview(month=p.month) for p in periods}
    missing: set[str] = set()
    unplaced: set[str] = set()
    members: set[int] = set()
    surcharges = surcharges_by_relation(agreement)
    for run in _runs(periods):
        terms = run[0].terms
        with_periods, params, types = _with_periods(agreement, run, 0, 2**62)
        covered, member_share, owes, surcharge = _covered(
            terms, params, "r.member_id, p.p_month",
            " AND NOT EXISTS (SELECT 1 FROM dues d WHERE d.agreement_id = r.agreement_id "
            "AND d.member_id = r.member_id AND d.period = p.p_month)", surcharges)
        thirds = _third_shares_sql(terms, member_share, params)
        names = [p.name for p in terms.third_payers]
        rows = db.session.execute(sa_text(
            f"{with_periods}SELECT p_month, member_id, total + {surcharge}, "
            f"{', '.join([f'({member_share}) + {surcharge}', *thirds])} FROM {covered} "
            f"WHERE {owes}")
            .bindparams(*types).columns(p_month=Date()), params)
        for month, member_id, total_minor, member_minor, *third_minor in rows:
            item = by_month[month]
            item.new_count += 1
            item.new_member_minor += int(member_minor)
            item.new_cooperative_minor += (int(total_minor) - int(member_minor)
                                           - sum(int(x) for x in third_minor))
            for name, minor in zip(names, third_minor, strict=True):
                item.new_third[name] = item.new_third.get(name, 0) + int(minor)
            members.add(member_id)
        _name_missing(agreement, run, missing, unplaced)
    if periods:
        existing = db.session.execute(
            select(Due.period, func.count(), func.sum(Due.member_share_minor),
                   func.sum(Due.cooperative_share_minor))
            .where(Due.cooperative_id == agreement.cooperative_id,
                   Due.agreement_id == agreement.id, Due.period.in_(list(by_month)))
            .group_by(Due.period))
        for month, count, member_minor, cooperative_minor in existing:
            item = by_month[month]
            item.existing_count = int(count)
            item.existing_member_minor = int(member_minor or 0)
            item.existing_cooperative_minor = int(cooperative_minor or 0)
        for month, name, minor in third_shares_by_period(agreement, list(by_month)):
            by_month[month].existing_third[name] = minor
    preview.periods = [by_month[p.month] for p in periods]
    preview.missing_income = sorted(missing)
    preview.unplaced = sorted(unplaced)
    preview.members = len(members)
    return preview


# The dues, computed by the database. The arithmetic is the rule's
# (`coopreg.agreements.services.contribution_for`) on integer minor units, written so that no
# intermediate value exceeds a 64-bit integer: x × a / d rounded half up is
# (x / d) × a + (2 × (x % d) × a + d) / (2 × d) with integer division, a and d reduced by their
# common divisor. tests/contributions/test_dues_sql.py proves it equal to the Python rule.

_DUE_COLUMNS = ("cooperative_id, agreement_id, member_id, registration_id, terms_id, period, "
                "due_date, grace_until, member_share_minor, cooperative_share_minor, created_at")

# Registrations × their members × the periods `p` of a run, where the registration covered
# the period while its person was a member. CROSS JOIN keeps the periods the innermost loop
# on SQLite (each registration and member is read once for all the periods, and the dues come
# out member by member, in the order of the unique index they go into).
_COVERED_FROM = "registrations r JOIN members m ON m.id = r.member_id CROSS JOIN p"
_COVERED_WHERE = """WHERE r.cooperative_id = :cooperative_id AND r.agreement_id = :agreement_id
  AND r.member_id BETWEEN :first_member AND :last_member
  AND r.coverage_start IS NOT NULL AND r.coverage_start <= p.p_last
  AND (r.coverage_end IS NULL OR r.coverage_end >= p.p_month)
  AND m.joined_on <= p.p_last AND (m.left_on IS NULL OR m.left_on >= p.p_month)"""
_COVERED = f"{_COVERED_FROM}\n{_COVERED_WHERE}"


def _times_ratio_sql(value: str, numerator: int, denominator: int, name: str,
                     params: dict) -> str:
    """SQL for `value` × numerator / denominator rounded half up (value ≥ 0, integers)."""
    common = gcd(numerator, denominator)
    params[f"{name}_a"], params[f"{name}_d"] = numerator // common, denominator // common
    a, d = f"CAST(:{name}_a AS BIGINT)", f"CAST(:{name}_d AS BIGINT)"
    return f"(({value}) / {d}) * {a} + (2 * (({value}) % {d}) * {a} + {d}) / (2 * {d})"


def _shares_sql(terms, params: dict) -> tuple[str, str, str]:
    """The rule of `terms` in SQL over the member row `m`: (the due's total, the member's
    share of a column named `total`, a condition the member must meet — a rate with no floor
    needs a declared income; a registration suspended before the month starts owes nothing
    when the terms say so). Fills `params` with the numbers it uses. Under a scale the total
    is the covered rows' (`_covered`): None here, and the member's share is its row's (a
    column named `band`)."""
    condition = ""
    if not terms.suspended_accrue:
        params["suspended"] = RegistrationStatus.SUSPENDED.value
        condition = (" AND NOT (r.status = :suspended AND r.status_changed_at IS NOT NULL"
                     " AND r.status_changed_at < p.p_month)")
    if _is_scale(terms):
        shares = [terms.member_share_bp if row.member_share_bp is None else row.member_share_bp
                  for row in terms.scale_rows]
        return None, _by_band([_times_ratio_sql("total", bp, BP, f"share_{i}", params)
                               for i, bp in enumerate(shares)]), condition
    share = _times_ratio_sql("total", terms.member_share_bp, BP, "share", params)
    if terms.rule_kind == RuleKind.FLAT:
        params["flat_minor"] = terms.flat_amount_minor
        return "CAST(:flat_minor AS BIGINT)", share, condition
    base = _base_sql(terms, "COALESCE(m.declared_income_minor, 0)", params)
    if terms.floor_minor is None:
        condition += " AND m.declared_income_minor IS NOT NULL"
    total = _times_ratio_sql(base, terms.rate_bp * 12, BP * dues_per_year(terms), "rate",
                             params)
    return total, share, condition


def _base_sql(terms, income: str, params: dict) -> str:
    """SQL of an income raised to the terms' floor and capped at their ceiling."""
    base = income
    if terms.floor_minor is not None:
        params["floor_minor"] = terms.floor_minor
        floor = "CAST(:floor_minor AS BIGINT)"
        base = f"CASE WHEN {base} < {floor} THEN {floor} ELSE {base} END"
    if terms.ceiling_minor is not None:
        params["ceiling_minor"] = terms.ceiling_minor
        ceiling = "CAST(:ceiling_minor AS BIGINT)"
        base = f"CASE WHEN {base} > {ceiling} THEN {ceiling} ELSE {base} END"
    return base


def _is_scale(terms) -> bool:
    return terms.rule_kind in (RuleKind.SCALE, RuleKind.CATEGORY)


def _by_band(values: list[str]) -> str:
    """One SQL value per scale row, chosen by a column named `band` (the row's index); one
    value when every row has the same."""
    if len(set(values)) == 1:
        return values[0]
    return "CASE band " + " ".join(f"WHEN {i} THEN {v}" for i, v in enumerate(values)) + " END"


def _scale_key_sql(terms, period: str) -> str:
    """SQL of what places the member `m` on the terms' scale for the period starting on
    `period`: their income in force on that day (the latest declaration, else the declared
    income) or the code of their category placement then. One index probe per row (one
    declaration or placement per member and date: unique indexes)."""
    if terms.rule_kind == RuleKind.CATEGORY:
        return ("(SELECT cp.code FROM category_placements cp "
                "WHERE cp.cooperative_id = :cooperative_id AND cp.agreement_id = :agreement_id"
                f" AND cp.member_id = m.id AND cp.effective_from <= {period} "
                "ORDER BY cp.effective_from DESC LIMIT 1)")
    return ("COALESCE((SELECT i.income_minor FROM income_declarations i "
            "WHERE i.cooperative_id = :cooperative_id AND i.member_id = m.id "
            f"AND i.effective_from <= {period} "
            "ORDER BY i.effective_from DESC LIMIT 1), m.declared_income_minor)")


def _scale_keys_sql(terms) -> str:
    """The CTE `keys (member_id, p_month, found)` of a statement that also has `p` (the run's
    periods): what places each member of the chunk on the terms' scale in each period, found
    once for all the chunk's dues as a set instead of a look-up per due — each income
    declaration (or category placement) of the chunk's members is in force from its date
    until the next one's (LEAD over the member's history, read in the order of its unique
    index) and meets the periods that start in that time. The same choice as
    `_scale_key_sql`: the latest on or before the period's first day. A member with none
    has no row (an income scale then falls back on the declared income)."""
    if terms.rule_kind == RuleKind.CATEGORY:
        history = ("SELECT member_id, effective_from, code AS found, LEAD(effective_from) "
                   "OVER (PARTITION BY member_id ORDER BY effective_from) AS until "
                   "FROM category_placements WHERE cooperative_id = :cooperative_id "
                   "AND agreement_id = :agreement_id "
                   "AND member_id BETWEEN :first_member AND :last_member")
    else:
        history = ("SELECT member_id, effective_from, income_minor AS found, "
                   "LEAD(effective_from) OVER (PARTITION BY member_id ORDER BY "
                   "effective_from) AS until FROM income_declarations "
                   "WHERE cooperative_id = :cooperative_id "
                   "AND member_id BETWEEN :first_member AND :last_member")
    return ("keys (member_id, p_month, found) AS (SELECT h.member_id, p.p_month, h.found "
            f"FROM ({history}) AS h JOIN p ON h.effective_from <= p.p_month "
            "AND (h.until IS NULL OR h.until > p.p_month))")


def _fence() -> str:
    """An OFFSET that keeps a subquery from being merged into the query around it, so that
    its correlated `scale_key` is looked up once per row, not once per use in the CASEs
    above it (SQLite flattens such a subquery otherwise; OFFSET 0 is PostgreSQL's fence)."""
    return " LIMIT -1 OFFSET 0" if _dialect() == "sqlite" else " OFFSET 0"


def _scale_sql(terms, params: dict) -> tuple[str, str, str]:
    """(the row's index `band`, the due's total, the condition to owe a due) over a column
    named `scale_key` (`_scale_key_sql`), as `agreements.services.scale_shares` computes
    them: a bracket by the income raised to the floor and capped at the ceiling, a category
    by its code; the row's amount, or its rate of that income."""
    base = _base_sql(terms, "COALESCE(scale_key, 0)", params)
    bands, totals = [], []
    for i, row in enumerate(terms.scale_rows):
        if terms.rule_kind == RuleKind.CATEGORY:
            params[f"code_{i}"] = row.code
            test = f"scale_key = :code_{i}"
        else:
            params[f"from_{i}"] = row.income_from_minor
            test = f"{base} >= CAST(:from_{i} AS BIGINT)"
        if row.rate_bp is not None:
            amount = _times_ratio_sql(base, row.rate_bp * 12, BP * dues_per_year(terms),
                                      f"rate_{i}", params)
        else:
            params[f"amount_{i}"] = row.amount_minor
            amount = f"CAST(:amount_{i} AS BIGINT)"
        bands.append(f"WHEN {test} THEN {i}")
        totals.append(f"WHEN {test} THEN {amount}")
    if terms.rule_kind == RuleKind.SCALE:  # the highest bracket the income reaches
        bands.reverse()
        totals.reverse()
    condition = "band IS NOT NULL"
    if terms.rule_kind == RuleKind.SCALE and terms.floor_minor is None:
        condition += " AND scale_key IS NOT NULL"
    return (f"CASE {' '.join(bands)} END", f"CASE {' '.join(totals)} END", condition)


def _covered(terms, params: dict, columns: str, extra: str = "",
             surcharges: dict | None = None, joined_keys: bool = False
             ) -> tuple[str, str, str, str]:
    """(the covered rows as a FROM item: `columns` and the due's `total` — and its scale row,
    `band` — of each registration × period of `_COVERED`, the member's share of it, the
    condition on those rows for owing a due, the SQL of the family surcharge the member pays
    on top: a column, or 0). `extra`: more conditions on `_COVERED`; `surcharges`: the
    agreement's by relation (`families.surcharges_by_relation`); `joined_keys`: under a
    scale, each row's scale key comes from a `keys` CTE of the statement (`_scale_keys_sql`)
    joined to the rows, instead of a look-up per row (`_scale_key_sql`)."""
    total, share, condition = _shares_sql(terms, params)
    surcharge = "0"
    if surcharges:
        columns += f", {_surcharge_sql(surcharges, params)} AS surcharge"
        surcharge = "surcharge"
    if not _is_scale(terms):
        return (f"(SELECT {columns}, {total} AS total FROM {_COVERED}{condition}{extra}) "
                "AS covered", share, "true", surcharge)
    band, total, owes = _scale_sql(terms, params)
    if joined_keys:
        key = ("keys.found" if terms.rule_kind == RuleKind.CATEGORY
               else "COALESCE(keys.found, m.declared_income_minor)")
        source = (f"{_COVERED_FROM} LEFT JOIN keys ON keys.member_id = r.member_id "
                  f"AND keys.p_month = p.p_month\n{_COVERED_WHERE}")
    else:
        key, source = _scale_key_sql(terms, "p.p_month"), _COVERED
    keyed = (f"(SELECT {columns}, {key} AS scale_key "
             f"FROM {source}{condition}{extra}{_fence()}) AS k")
    return (f"(SELECT k.*, {band} AS band, {total} AS total FROM {keyed}) AS covered", share,
            owes, surcharge)


def _surcharge_sql(surcharges: dict, params: dict) -> str:
    """SQL of the family surcharge of registration `r` for period `p`: its dependants
    registered with it and covered by the period's end, each at its relation's surcharge
    (`agreements.families.surcharge_minor_for`). One index probe per registration × period,
    only for agreements whose family rules cost something."""
    params["dependant_registered"] = DependantStatus.REGISTERED.value
    cases = []
    for i, (relation, minor) in enumerate(sorted(surcharges.items())):
        params[f"relation_{i}"], params[f"surcharge_{i}"] = relation.value, minor
        cases.append(f"WHEN :relation_{i} THEN CAST(:surcharge_{i} AS BIGINT)")
    return ("(SELECT COALESCE(SUM(CASE dp.relation " + " ".join(cases) + " ELSE 0 END), 0) "
            "FROM dependant_registrations dr JOIN dependants dp ON dp.id = dr.dependant_id "
            "WHERE dr.cooperative_id = :cooperative_id AND dr.registration_id = r.id "
            "AND dr.status = :dependant_registered "
            "AND (dr.coverage_start IS NULL OR dr.coverage_start <= p.p_last))")


def _third_shares_sql(terms, member_share: str, params: dict) -> list[str]:
    """SQL for each third party's share of a column named `total`, in the order of
    `agreements.services.split_due`: its percentage (rounded half up) or fixed amount — under
    a scale, its row's percentage when the row gives one —, never more than what the member
    and the payers before it left."""
    shares: list[str] = []
    rows = terms.scale_rows if _is_scale(terms) else [None]
    for i, payer in enumerate(terms.third_payers):
        wanted_by_row = []
        for j, row in enumerate(rows):
            own = row.payer_share_bp(i) if row is not None else None
            if own is not None:
                wanted_by_row.append(_times_ratio_sql("total", own, BP, f"payer_{i}_{j}",
                                                      params))
            elif payer.fixed_minor is not None:
                params[f"fixed_{i}"] = payer.fixed_minor
                wanted_by_row.append(f"CAST(:fixed_{i} AS BIGINT)")
            else:
                wanted_by_row.append(_times_ratio_sql("total", payer.share_bp, BP,
                                                      f"payer_{i}", params))
        wanted = _by_band(wanted_by_row)
        left = " - ".join(["total", f"({member_share})", *(f"({x})" for x in shares)])
        shares.append(f"CASE WHEN {wanted} > {left} THEN {left} ELSE {wanted} END")
    return shares


def _with_periods(agreement: Agreement, run: list, first_member: int, last_member: int
                  ) -> tuple[str, dict, list]:
    """The `WITH p(...) AS (VALUES …)` of a run of periods, its parameters and their types
    (dates bind as dates; SQLite stores them as text)."""
    params = {"cooperative_id": agreement.cooperative_id, "agreement_id": agreement.id,
              "first_member": first_member, "last_member": last_member}
    rows, types = [], []
    for i, period in enumerate(run):
        values = {f"p_month_{i}": period.month, f"p_last_{i}": month_end(period.month),
                  f"p_due_{i}": period.due_date, f"p_grace_{i}": period.grace_until}
        params.update(values)
        types += [bindparam(name, type_=Date) for name in values]
        rows.append("(" + ", ".join(f":{name}" for name in values) + ")")
    return ("WITH p (p_month, p_last, p_due, p_grace) AS (VALUES " + ", ".join(rows) + ") ",
            params, types)


def _one_statement() -> bool:
    """Whether a chunk's dues and their payer shares are written by one statement: on
    PostgreSQL (data-modifying WITH, `_insert_dues_and_shares`); SQLite has no such thing.
    The tests turn it off to prove both ways write the same rows."""
    return _dialect() == "postgresql"


def _insert_dues_chunk(agreement: Agreement, run: list, first_member: int, last_member: int,
                       now, last_id_before: int = 0) -> int:
    """INSERT … SELECT of the dues of a run of periods (all under the same terms) for the
    registrations of the members from `first_member` to `last_member`; those already there
    are left alone (ON CONFLICT DO NOTHING). When the terms name third parties, one more
    INSERT … SELECT writes their shares of the new dues (`_insert_payer_shares`). On
    PostgreSQL, terms with third parties or a scale write both in one statement instead
    (`_insert_dues_and_shares`). Returns how many dues were created."""
    terms = run[0].terms
    if _one_statement() and (terms.third_payers or _is_scale(terms)):
        return _insert_dues_and_shares(agreement, run, first_member, last_member, now)
    with_periods, params, types = _with_periods(agreement, run, first_member, last_member)
    params.update(terms_id=terms.id, now=now)
    covered, member_share, owes, surcharge = _covered(
        terms, params, "r.cooperative_id, r.agreement_id, r.member_id, "
        "r.id AS registration_id, p.p_month, p.p_due, p.p_grace",
        surcharges=surcharges_by_relation(agreement))
    cooperative_share = " - ".join(["total", f"({member_share})", *(
        f"({x})" for x in _third_shares_sql(terms, member_share, params))])
    if surcharge != "0":
        member_share = f"({member_share}) + {surcharge}"
    statement = (
        # the WITH inside the INSERT: Python's sqlite3 counts the rows of a statement only
        # when it starts with INSERT
        f"INSERT INTO dues ({_DUE_COLUMNS}) {with_periods}"
        f"SELECT cooperative_id, agreement_id, member_id, registration_id, :terms_id, "
        f"p_month, p_due, p_grace, {member_share}, {cooperative_share}, :now "
        f"FROM {covered} "
        # a WHERE (true at least): SQLite needs one before ON CONFLICT in an INSERT … SELECT
        f"WHERE {owes} ON CONFLICT (agreement_id, member_id, period) DO NOTHING")
    created = db.session.execute(
        sa_text(statement).bindparams(*types, bindparam("now", type_=DateTime(timezone=True))),
        params).rowcount
    if created and terms.third_payers:
        _insert_payer_shares(agreement, run, first_member, last_member, last_id_before)
    return created


def _insert_dues_and_shares(agreement: Agreement, run: list, first_member: int,
                            last_member: int, now) -> int:
    """PostgreSQL: the dues of a chunk and their third parties' shares in one statement, the
    same rows as `_insert_dues_chunk`'s two. Its `owed` CTE computes each covered
    registration × period once — the scale key joined from `keys` (`_scale_keys_sql`,
    found once per member and period as a set), the row of the scale, the total, the
    member's and each third party's share —; `new_dues` inserts the dues (ON CONFLICT DO
    NOTHING, RETURNING the ones written), and `new_shares` inserts a share per payer of
    each of those, joined back to its `owed` row, instead of reading the new dues again and
    computing their totals a second time. Returns how many dues were created."""
    terms = run[0].terms
    with_periods, params, types = _with_periods(agreement, run, first_member, last_member)
    params.update(terms_id=terms.id, now=now)
    covered, member_share, owes, surcharge = _covered(
        terms, params, "r.cooperative_id, r.agreement_id, r.member_id, "
        "r.id AS registration_id, p.p_month, p.p_due, p.p_grace",
        surcharges=surcharges_by_relation(agreement), joined_keys=True)
    thirds = _third_shares_sql(terms, member_share, params)
    ctes = [with_periods.strip()]
    if _is_scale(terms):
        ctes.append(_scale_keys_sql(terms))
    ctes.append("owed AS (SELECT covered.*, "
                + ", ".join([f"{member_share} AS member_part",
                             *(f"{x} AS third_{i}" for i, x in enumerate(thirds))])
                + f" FROM {covered} WHERE {owes})")
    member_minor = "member_part" if surcharge == "0" else f"member_part + {surcharge}"
    cooperative_minor = " - ".join(["total", "member_part",
                                    *(f"third_{i}" for i in range(len(thirds)))])
    ctes.append(
        f"new_dues AS (INSERT INTO dues ({_DUE_COLUMNS}) "
        "SELECT cooperative_id, agreement_id, member_id, registration_id, :terms_id, "
        f"p_month, p_due, p_grace, {member_minor}, {cooperative_minor}, :now FROM owed "
        "ON CONFLICT (agreement_id, member_id, period) DO NOTHING "
        "RETURNING id, registration_id, period)")
    if thirds:
        for i, payer in enumerate(terms.third_payers):
            params[f"payer_id_{i}"] = payer.id
        shares = ", ".join(f"(CAST(:payer_id_{i} AS INTEGER), o.third_{i})"
                           for i in range(len(thirds)))
        ctes.append(
            "new_shares AS (INSERT INTO due_payer_shares (cooperative_id, due_id, payer_id, "
            "amount_minor) SELECT o.cooperative_id, n.id, s.payer_id, s.amount_minor "
            "FROM new_dues n JOIN owed o ON o.registration_id = n.registration_id "
            "AND o.p_month = n.period "
            f"CROSS JOIN LATERAL (VALUES {shares}) AS s (payer_id, amount_minor))")
    # `owed` is read twice (by both inserts): PostgreSQL computes it once
    statement = ", ".join(ctes) + " SELECT count(*) FROM new_dues"
    return db.session.execute(
        sa_text(statement).bindparams(*types, bindparam("now", type_=DateTime(timezone=True))),
        params).scalar_one()


def _insert_payer_shares(agreement: Agreement, run: list, first_member: int, last_member: int,
                         last_id_before: int) -> None:
    """One INSERT … SELECT of the third parties' shares of the dues this run just wrote (ids
    above `last_id_before`, under the run's terms, members in the chunk): each due's total is
    computed again by the same rule from the same member row, and each payer's share by
    `_third_shares_sql` — one SELECT per payer joined by UNION ALL."""
    terms = run[0].terms
    params = {"cooperative_id": agreement.cooperative_id, "agreement_id": agreement.id,
              "terms_id": terms.id, "first_member": first_member,
              "last_member": last_member, "last_id": last_id_before,
              "first_period": run[0].month, "last_period": run[-1].month}
    total, member_share, _condition = _shares_sql(terms, params)
    shares = _third_shares_sql(terms, member_share, params)
    dues_of_run = (
        "FROM dues d JOIN members m ON m.id = d.member_id "
        "WHERE d.cooperative_id = :cooperative_id AND d.agreement_id = :agreement_id "
        "AND d.terms_id = :terms_id AND d.id > :last_id "
        "AND d.member_id BETWEEN :first_member AND :last_member "
        "AND d.period BETWEEN :first_period AND :last_period")
    if _is_scale(terms):
        band, total, _owes = _scale_sql(terms, params)
        new_dues = (f"(SELECT k.due_id, k.cooperative_id, {band} AS band, {total} AS total "
                    f"FROM (SELECT d.id AS due_id, d.cooperative_id, "
                    f"{_scale_key_sql(terms, 'd.period')} AS scale_key {dues_of_run}"
                    f"{_fence()}) AS k) "
                    "AS nd")
    else:
        new_dues = (f"(SELECT d.id AS due_id, d.cooperative_id, {total} AS total "
                    f"{dues_of_run}) AS nd")
    selects = []
    for i, (payer, share) in enumerate(zip(terms.third_payers, shares, strict=True)):
        params[f"payer_id_{i}"] = payer.id
        selects.append(f"SELECT nd.cooperative_id, nd.due_id, :payer_id_{i}, {share} "
                       f"FROM {new_dues}")
    db.session.execute(sa_text(
        "INSERT INTO due_payer_shares (cooperative_id, due_id, payer_id, amount_minor) "
        + " UNION ALL ".join(selects)).bindparams(
            bindparam("first_period", type_=Date), bindparam("last_period", type_=Date)),
        params)


def _name_missing(agreement: Agreement, run: list, missing: set[str], unplaced: set[str]
                  ) -> None:
    """Add the members a run of periods leaves without a due for want of a declared income (a
    rate or income scale with no floor) or of a category (a category scale)."""
    terms = run[0].terms
    if terms.rule_kind in (RuleKind.RATE, RuleKind.SCALE) and terms.floor_minor is None:
        missing.update(_members_without_income(agreement, run))
    if terms.rule_kind == RuleKind.CATEGORY:
        with_periods, params, types = _with_periods(agreement, run, 0, 2**62)
        band, _total, _owes = _scale_sql(terms, params)
        unplaced.update(db.session.scalars(sa_text(
            f"{with_periods}SELECT DISTINCT member_number FROM (SELECT m.member_number, "
            f"{_scale_key_sql(terms, 'p.p_month')} AS scale_key FROM {_COVERED}{_fence()}) AS k "
            f"WHERE ({band}) IS NULL").bindparams(*types), params))


def _members_without_income(agreement: Agreement, run: list) -> list[str]:
    """Member numbers of those who would owe a period of the run under a rate with no floor
    but have no declared income (they get no due; the summary names them)."""
    with_periods, params, types = _with_periods(agreement, run, 0, 2**62)
    return list(db.session.scalars(sa_text(
        f"{with_periods}SELECT DISTINCT m.member_number FROM {_COVERED} "
        "AND m.declared_income_minor IS NULL").bindparams(*types), params))


def _members_in_credit_with_new_dues(agreement: Agreement, last_id_before: int) -> list[int]:
    """Members with unallocated money (receipts not reversed − allocations > 0) who got a
    due of this agreement in this run: one query, whatever the number of members."""
    movements = union_all(
        select(Receipt.member_id.label("member_id"), Receipt.amount_minor.label("amount"))
        .where(Receipt.cooperative_id == agreement.cooperative_id, _not_reversed()),
        select(Receipt.member_id, -Allocation.amount_minor)
        .join(Receipt, Receipt.id == Allocation.receipt_id)
        .where(Receipt.cooperative_id == agreement.cooperative_id)).subquery()
    in_credit = (select(movements.c.member_id).group_by(movements.c.member_id)
                 .having(func.sum(movements.c.amount) > 0).subquery())
    new_due = exists().where(Due.cooperative_id == agreement.cooperative_id,
                             Due.agreement_id == agreement.id,
                             Due.member_id == in_credit.c.member_id, Due.id > last_id_before)
    return list(db.session.scalars(select(in_credit.c.member_id).where(new_due)
                                   .order_by(in_credit.c.member_id)))


# ---- receipts and allocation ----------------------------------------------------------------

def member_credits(cooperative_id: int, member_ids: Iterable[int] | None = None
                   ) -> dict[int, int]:
    """Per member: receipts not reversed − allocations (net), in minor units."""
    ids = None if member_ids is None else sorted(set(member_ids))
    received = (select(Receipt.member_id, func.sum(Receipt.amount_minor).label("amount"))
                .where(Receipt.cooperative_id == cooperative_id, _not_reversed())
                .group_by(Receipt.member_id))
    allocated = (select(Receipt.member_id, func.sum(Allocation.amount_minor).label("amount"))
                 .join(Receipt, Receipt.id == Allocation.receipt_id)
                 .where(Receipt.cooperative_id == cooperative_id)
                 .group_by(Receipt.member_id))
    credits: dict[int, int] = {}
    chunks = [None] if ids is None else [ids[i:i + 900] for i in range(0, len(ids), 900)]
    for chunk in chunks:
        r, a = received, allocated
        if chunk is not None:
            r = r.where(Receipt.member_id.in_(chunk))
            a = a.where(Receipt.member_id.in_(chunk))
        for member_id, amount in db.session.execute(r):
            credits[member_id] = credits.get(member_id, 0) + int(amount or 0)
        for member_id, amount in db.session.execute(a):
            credits[member_id] = credits.get(member_id, 0) - int(amount or 0)
    return credits


def member_credit(member_id: int) -> int:
    member = db.session.get(Member, member_id, execution_options=unscoped(
        "the member's own cooperative, to scope the sums that follow (callers hold the id)"))
    return member_credits(member.cooperative_id, [member_id]).get(member_id, 0)


def open_dues(member_id: int) -> list[tuple[Due, int]]:
    """The member's dues not fully paid, oldest first, with what is still open on each (a
    written-off part is not open: money that comes in later goes to other dues)."""
    settled = _paid_of_due() + _written_off_of_due()
    rows = db.session.execute(
        select(Due, (Due.member_share_minor - settled).label("open"))
        .where(Due.cooperative_id == select(Member.cooperative_id)
               .where(Member.id == member_id).scalar_subquery(),
               Due.member_id == member_id, Due.member_share_minor > settled)
        .order_by(Due.due_date, Due.period, Due.id)).all()
    return [(due, int(open_amount)) for due, open_amount in rows]


def allocate_credit(member_id: int, cooperative_id: int) -> list[Allocation]:
    """Apply the member's unallocated money (oldest receipt first) to their open dues (oldest
    due first). Never over-pays a due; never allocates more than a receipt holds. Returns the
    allocations made."""
    _lock_member(member_id)
    allocated = _allocated_of_receipt()
    receipts = [(rid, int(left)) for rid, left in db.session.execute(
        select(Receipt.id, (Receipt.amount_minor - allocated).label("left"))
        .where(Receipt.cooperative_id == cooperative_id, Receipt.member_id == member_id,
               _not_reversed(),
               Receipt.amount_minor > allocated)
        .order_by(Receipt.received_on, Receipt.number))]
    if not receipts:
        return []
    dues = open_dues(member_id)
    made: list[Allocation] = []
    ri = di = 0
    while ri < len(receipts) and di < len(dues):
        receipt_id, left = receipts[ri]
        due, open_amount = dues[di]
        amount = min(left, open_amount)
        made.append(Allocation(cooperative_id=due.cooperative_id, receipt_id=receipt_id,
                               due_id=due.id, amount_minor=amount))
        receipts[ri] = (receipt_id, left - amount)
        dues[di] = (due, open_amount - amount)
        if receipts[ri][1] == 0:
            ri += 1
        if dues[di][1] == 0:
            di += 1
    db.session.add_all(made)
    db.session.flush()
    return made


def _key_reused() -> KeyReused:
    return KeyReused(_("This form was already sent once with other content (its one-time key "
                       "is taken). Nothing was recorded now: check what you typed and send "
                       "it again."))


def _minor_or_none(amount: Any, currency: str, allow_zero: bool = False) -> int | None:
    try:
        return amount_minor(amount, currency, allow_zero=allow_zero)
    except (DomainError, TypeError, ValueError):
        return None


def _same_receipt(existing: Receipt, cooperative: Cooperative, data: ReceiptInput) -> bool:
    """Whether a form sent again with a used key says what the receipt recorded with it."""
    method = getattr(data.method, "value", data.method)
    reference = (data.external_reference or "").strip() or None
    try:
        member_id = int(data.member_id) if data.member_id is not None else None
    except (TypeError, ValueError):
        member_id = None
    return (existing.member_id == member_id and existing.received_on == data.received_on
            and existing.amount_minor == _minor_or_none(data.amount, cooperative.currency)
            and existing.method.value == method
            and (existing.external_reference or None) == reference)


def _check_key(key: str | None) -> str:
    key = (key or "").strip()
    if not _KEY.fullmatch(key):
        raise DomainError(_("The form is missing its one-time key; reload the page and try "
                            "again."))
    return key


def receipt_by_key(cooperative_id: int, key: str) -> Receipt | None:
    return db.session.scalar(select(Receipt).where(Receipt.cooperative_id == cooperative_id,
                                                   Receipt.idempotency_key == key)
                             .execution_options(populate_existing=True))


@dataclass
class ReceiptInput:
    """What a person typed for a receipt (amount as text or Decimal)."""

    member_id: int | None
    received_on: date | None
    amount: Any
    method: str | PaymentMethod
    external_reference: str | None = None
    collector: str | None = None
    note: str | None = None
    idempotency_key: str | None = None


def receipt_ceiling_minor(currency: str) -> int | None:
    """The largest amount one receipt may be, in minor units (the setting
    COOPREG_MAX_RECEIPT_AMOUNT, in major units; 0: no ceiling). Above it, a typing slip (an
    extra zero, a decimal mark read as a group) is far likelier than a real payment."""
    ceiling = current_app.config.get("COOPREG_MAX_RECEIPT_AMOUNT") or 0
    return to_minor(Decimal(ceiling), currency) if ceiling else None


def check_money_date(cooperative: Cooperative, day: date, field_name: str, today: date
                     ) -> None:
    """A date of money received or sent: not in the future, and not before the cooperative
    existed (its founding date, when the settings give it)."""
    if day > today:
        raise DomainError(_("The date is in the future."), field=field_name)
    founded = getattr(cooperative, "founded_on", None)
    if founded is not None and day < founded:
        raise DomainError(_("The date is before the cooperative was founded (%(date)s).",
                            date=founded.isoformat()), field=field_name)
    if day.year < 1900:
        raise DomainError(_("The date is too far in the past."), field=field_name)


def _clean_receipt(cooperative: Cooperative, data: ReceiptInput, today: date
                   ) -> dict[str, Any]:
    member = None
    if data.member_id:
        member = db.session.scalar(select(Member).where(
            Member.cooperative_id == cooperative.id, Member.id == int(data.member_id)))
    if member is None:
        raise DomainError(_("Choose the member who paid."), field="member_id")
    if data.received_on is None:
        raise DomainError(_("Give the date the money was received."), field="received_on")
    check_money_date(cooperative, data.received_on, "received_on", today)
    try:
        method = PaymentMethod(getattr(data.method, "value", data.method))
    except ValueError:
        raise DomainError(_("Choose how the member paid."), field="method") from None
    reference = _text(data.external_reference, 80, "external_reference", _("The reference"))
    if method in (PaymentMethod.BANK_TRANSFER, PaymentMethod.MOBILE_MONEY) and not reference:
        raise DomainError(_("Give the transfer's reference (it is how the statement line "
                                "is found)."), field="external_reference")
    minor = amount_minor(data.amount, cooperative.currency)
    ceiling = receipt_ceiling_minor(cooperative.currency)
    if ceiling is not None and minor > ceiling:
        raise DomainError(_("%(amount)s is more than one receipt may be (%(ceiling)s): check "
                            "the amount, or split it.",
                            amount=from_minor(minor, cooperative.currency),
                            ceiling=from_minor(ceiling, cooperative.currency)), field="amount")
    return {"member": member, "received_on": data.received_on, "amount_minor": minor,
            "method": method, "external_reference": reference,
            "collector": _text(data.collector, 120, "collector", _("The collector")),
            "note": _text(data.note, 300, "note", _("The note"))}


def record_receipt(cooperative: Cooperative, data: ReceiptInput, actor_id: int | None, *,
                   collection_sheet_id: int | None = None, today: date | None = None
                   ) -> tuple[Receipt, bool]:
    """Record a payment and apply it to the member's oldest open dues. Returns (receipt,
    created). The same idempotency key with the same content returns the receipt already
    recorded with it (a form submitted twice records one receipt) without taking a number;
    the same key with other content is refused (`KeyReused`), never matched; a reference
    already used with the same method is refused."""
    key = _check_key(data.idempotency_key)
    existing = receipt_by_key(cooperative.id, key)
    if existing is not None:
        if not _same_receipt(existing, cooperative, data):
            raise _key_reused()
        return existing, False
    clean = _clean_receipt(cooperative, data, today or date.today())
    member = clean.pop("member")
    _lock_member(member.id)
    existing = receipt_by_key(cooperative.id, key)  # a twin may have committed meanwhile
    if existing is not None:
        if not _same_receipt(existing, cooperative, data):
            raise _key_reused()
        return existing, False
    _refuse_known_reference(cooperative.id, clean["method"], clean["external_reference"])
    try:
        with db.session.begin_nested():
            # the number is taken inside the savepoint: a loser gives it back
            receipt = Receipt(cooperative_id=cooperative.id,
                              number=next_number(cooperative.id, "receipt"),
                              member_id=member.id, idempotency_key=key,
                              collection_sheet_id=collection_sheet_id,
                              recorded_by_id=actor_id, **clean)
            db.session.add(receipt)
            db.session.flush()
    except IntegrityError:
        existing = receipt_by_key(cooperative.id, key)
        if existing is not None:
            if not _same_receipt(existing, cooperative, data):
                raise _key_reused() from None
            return existing, False
        _refuse_known_reference(cooperative.id, clean["method"], clean["external_reference"])
        raise
    allocate_credit(member.id, cooperative.id)
    receipt_recorded.send(receipt)
    return receipt, True


def _refuse_known_reference(cooperative_id: int, method: PaymentMethod,
                            reference: str | None) -> None:
    if not reference:
        return
    taken = db.session.scalar(select(Receipt.number).where(
        Receipt.cooperative_id == cooperative_id, Receipt.method == method,
        Receipt.external_reference == reference))
    if taken is not None:
        raise DomainError(_("Reference %(ref)s is already on receipt %(number)d.",
                            ref=reference, number=taken), field="external_reference")


def reversal_blockers(receipt: Receipt) -> list[str]:
    """Why a receipt cannot be reversed (empty when it can)."""
    if db.session.scalar(select(ReceiptReversal.id).where(
            ReceiptReversal.cooperative_id == receipt.cooperative_id,
            ReceiptReversal.receipt_id == receipt.id)) is not None:
        return [_("This receipt is already reversed.")]
    remitted = db.session.execute(
        select(Remittance.period, Remittance.agreement_id)
        .join(RemittanceLine, RemittanceLine.remittance_id == Remittance.id)
        .join(Allocation, Allocation.due_id == RemittanceLine.due_id)
        .where(Allocation.cooperative_id == receipt.cooperative_id,
               Allocation.receipt_id == receipt.id).limit(1)).first()
    if remitted is not None:
        return [_("Its money paid dues already remitted to the institution (remittance of "
                  "%(month)s); it cannot be taken back.", month=show_month(remitted.period))]
    return []


def reverse_receipt(receipt: Receipt, reason: str, actor_id: int | None) -> ReceiptReversal:
    """Reverse a wrong receipt: record why, and undo each of its allocations with a negative
    one. The member's other credit then fills the dues it reopens (oldest first). A receipt is
    reversed once; one whose dues were remitted cannot be reversed."""
    reason = _text(reason, 300, "reason", _("The reason"), required=True)
    if len(reason) < 3:
        raise DomainError(_("Say why the receipt is reversed."), field="reason")
    _lock_member(receipt.member_id)
    problems = reversal_blockers(receipt)
    if problems:
        raise DomainError(" ".join(problems), field="reason")
    reversal = ReceiptReversal(cooperative_id=receipt.cooperative_id, receipt_id=receipt.id,
                               reason=reason, reversed_by_id=actor_id, reversed_at=utcnow())
    db.session.add(reversal)
    db.session.flush()
    net = db.session.execute(
        select(Allocation.due_id, func.sum(Allocation.amount_minor))
        .where(Allocation.cooperative_id == receipt.cooperative_id,
               Allocation.receipt_id == receipt.id).group_by(Allocation.due_id)
        .order_by(Allocation.due_id)).all()
    db.session.add_all([Allocation(cooperative_id=receipt.cooperative_id,
                                   receipt_id=receipt.id, due_id=due_id, amount_minor=-amount,
                                   reversal_id=reversal.id)
                        for due_id, amount in net if amount])
    db.session.flush()
    allocate_credit(receipt.member_id, receipt.cooperative_id)
    db.session.expire(receipt, ["reversal"])
    return reversal


# ---- write-offs -----------------------------------------------------------------------------

def due_open_minor(due: Due) -> int:
    """What is still open on a due: the member's share − net payments − what was written
    off."""
    settled = db.session.scalar(select(_paid_of_due() + _written_off_of_due())
                                .where(Due.cooperative_id == due.cooperative_id,
                                       Due.id == due.id))
    return due.member_share_minor - int(settled or 0)


def write_off_due(due: Due, reason: str, actor_id: int | None) -> DueWriteOff:
    """Clear what is left open of a due that will never be paid, with the reason. An entry
    of its own (audited, append-only), never a deletion: the due and its payments stay as
    they were; the written-off amount leaves the arrears and the collection sheet and shows
    in the reconciliation. Irreversible; at most once per due; nothing open, nothing to
    write off."""
    reason = _text(reason, 300, "reason", _("The reason"), required=True)
    if len(reason) < 3:
        raise DomainError(_("Say why this due will never be paid."), field="reason")
    _lock_member(due.member_id)
    if db.session.scalar(select(DueWriteOff.id).where(
            DueWriteOff.cooperative_id == due.cooperative_id, DueWriteOff.due_id == due.id)):
        raise DomainError(_("This due is already written off."), field="reason")
    open_minor = due_open_minor(due)
    if open_minor <= 0:
        raise DomainError(_("Nothing is open on this due: there is nothing to write off."),
                          field="reason")
    write_off = DueWriteOff(cooperative_id=due.cooperative_id, due_id=due.id,
                            amount_minor=open_minor, reason=reason,
                            written_off_by_id=actor_id, written_off_at=utcnow())
    db.session.add(write_off)
    db.session.flush()
    return write_off


def write_off_member_dues(member: Member, reason: str, actor_id: int | None
                          ) -> list[DueWriteOff]:
    """Write off every due the member still owes at once (a deceased member, a member gone
    for good), each its own entry with the same reason; the rules of `write_off_due`."""
    reason = _text(reason, 300, "reason", _("The reason"), required=True)
    if len(reason) < 3:
        raise DomainError(_("Say why this due will never be paid."), field="reason")
    _lock_member(member.id)
    dues = open_dues(member.id)
    if not dues:
        raise DomainError(_("Nothing is open on this due: there is nothing to write off."),
                          field="reason")
    made = [DueWriteOff(cooperative_id=due.cooperative_id, due_id=due.id,
                        amount_minor=open_minor, reason=reason, written_off_by_id=actor_id,
                        written_off_at=utcnow()) for due, open_minor in dues]
    db.session.add_all(made)
    db.session.flush()
    return made


def due_write_off(due: Due) -> DueWriteOff | None:
    return db.session.scalar(select(DueWriteOff).where(
        DueWriteOff.cooperative_id == due.cooperative_id, DueWriteOff.due_id == due.id))


# ---- collection sheets ----------------------------------------------------------------------

@dataclass
class SheetLine:
    member: Member
    expected_minor: int
    periods: list[date]


@dataclass
class SheetPage:
    """One page of a collection sheet: its lines in name order, the page's totals (counted
    in SQL) and the cursor of the next page (the last member's id), None on the last one."""
    lines: list[SheetLine]
    count: int = 0
    total_minor: int = 0
    next_cursor: int | None = None


def expected_collection(agreement: Agreement, on: date, locality: str | None = None,
                        limit: int = 500, include_deceased: bool = False,
                        after: int | None = None) -> SheetPage:
    """The members of an agreement with dues open on a day (due date on or before the end of
    that month), each with what they owe: the pre-filled lines of a collection sheet, one
    page of `limit` members in name order at a time, from the member after `after` (a member
    id). Deceased members are left out unless asked for (nobody collects from them; their
    dues are for the write-off); written-off parts of dues are not owed.

    Paged in SQL like the member list: the register is walked in the (cooperative, folded
    name, id) index and stops at the page's last member who owes something, so no statement
    carries more than a page of ids, whatever the size of the agreement (one IN list of
    every debtor broke PostgreSQL's 65,535 bound parameters)."""
    from sqlalchemy import tuple_

    from coopreg.core.text import fold
    from coopreg.members.models import MemberStatus

    settled = _paid_of_due() + _written_off_of_due()
    open_amount = Due.member_share_minor - settled
    owing = [Due.cooperative_id == agreement.cooperative_id, Due.agreement_id == agreement.id,
             Due.due_date <= month_end(on), Due.member_share_minor > settled]
    stmt = (select(Member)
            .where(Member.cooperative_id == agreement.cooperative_id,
                   exists().where(Due.member_id == Member.id, *owing))
            .order_by(Member.search_name, Member.id).limit(limit + 1))
    if not include_deceased:
        stmt = stmt.where(Member.status != MemberStatus.DECEASED)
    if locality:
        stmt = stmt.where(Member.locality_key == fold(locality))
    if after is not None:
        last = db.session.execute(select(Member.search_name, Member.id).where(
            Member.cooperative_id == agreement.cooperative_id, Member.id == after)).first()
        if last is not None:
            stmt = stmt.where(tuple_(Member.search_name, Member.id)
                              > tuple_(literal(last[0]), literal(last[1])))
    members = list(db.session.scalars(stmt))
    page = SheetPage([])
    if len(members) > limit:
        members = members[:limit]
        page.next_cursor = members[-1].id
    if not members:
        return page
    ids = [m.id for m in members]
    owed = (select(Due.member_id.label("member_id"), func.sum(open_amount).label("open"),
                   func.min(Due.period).label("first"), func.max(Due.period).label("last"))
            .where(Due.member_id.in_(ids), *owing).group_by(Due.member_id).subquery())
    rows = {r.member_id: r for r in db.session.execute(
        select(owed, func.count().over().label("page_count"),
               func.sum(owed.c.open).over().label("page_total")))}
    first = next(iter(rows.values()))
    page.count, page.total_minor = int(first.page_count), int(first.page_total)
    page.lines = [SheetLine(m, int(rows[m.id].open), [rows[m.id].first, rows[m.id].last])
                  for m in members]
    return page


def owed_by_members(cooperative_id: int, member_ids: list[int], on: date) -> dict[int, int]:
    """What each of these members owes on a day (minor units, dues due by the end of that
    month, written-off parts not owed; a member who owes nothing is left out): the "owes"
    column of the field mode's collection sheet. Summed in SQL, a few hundred ids a query."""
    settled = _paid_of_due() + _written_off_of_due()
    owed: dict[int, int] = {}
    for start in range(0, len(member_ids), 500):
        chunk = member_ids[start:start + 500]
        for member_id, open_minor in db.session.execute(
                select(Due.member_id, func.sum(Due.member_share_minor - settled))
                .where(Due.cooperative_id == cooperative_id, Due.member_id.in_(chunk),
                       Due.due_date <= month_end(on), Due.member_share_minor > settled)
                .group_by(Due.member_id)):
            owed[member_id] = int(open_minor)
    return owed


@dataclass
class SheetEntry:
    member_id: int
    amount: Any  # as typed; empty or 0 = did not pay
    method: str | None = None
    reference: str | None = None


def post_collection_sheet(cooperative: Cooperative, agreement: Agreement, collected_on: date,
                          collector: str | None, method: str, entries: list[SheetEntry],
                          control_count: Any, control_total: Any, idempotency_key: str,
                          actor_id: int | None, today: date | None = None
                          ) -> tuple[CollectionSheet, list[Receipt]]:
    """Post a collection day at once: one receipt per line with an amount, all in the
    caller's one transaction. The control count and total the treasurer typed must equal the
    lines (the same check as a batch header in a microfinance system), or nothing is posted.
    Posting the same sheet twice (same key, same content) returns the first posting; the same
    key with another sheet is refused (`KeyReused`)."""
    key = _check_key(idempotency_key)
    existing = db.session.scalar(select(CollectionSheet).where(
        CollectionSheet.cooperative_id == cooperative.id,
        CollectionSheet.idempotency_key == key))
    if existing is not None:
        posted = list(db.session.scalars(select(Receipt).where(
            Receipt.cooperative_id == cooperative.id,
            Receipt.collection_sheet_id == existing.id).order_by(Receipt.number)))
        sent = {entry.member_id: _minor_or_none(entry.amount, cooperative.currency, True)
                for entry in entries if str(entry.amount or "").strip() not in ("", "0")}
        sent = {member_id: minor for member_id, minor in sent.items() if minor != 0}
        try:
            count = int(str(control_count).strip())
        except (TypeError, ValueError):
            count = None
        if (existing.agreement_id != agreement.id or existing.collected_on != collected_on
                or existing.control_count != count
                or existing.control_total_minor != _minor_or_none(
                    control_total, cooperative.currency, True)
                or sent != {r.member_id: r.amount_minor for r in posted}):
            raise _key_reused()
        return existing, posted
    if collected_on is None:
        raise DomainError(_("Give the collection date."), field="collected_on")
    currency = cooperative.currency
    lines: list[tuple[SheetEntry, int]] = []
    seen: set[int] = set()
    for entry in entries:
        text = str(entry.amount or "").strip()
        if text in ("", "0"):
            continue
        minor = amount_minor(text, currency, field_name=f"amount-{entry.member_id}",
                             allow_zero=True)
        if minor == 0:
            continue
        if entry.member_id in seen:
            raise DomainError(_("A member is twice on the sheet."))
        seen.add(entry.member_id)
        lines.append((entry, minor))
    try:
        count = int(str(control_count).strip())
    except (TypeError, ValueError):
        raise DomainError(_("Type the number of payments on the sheet."),
                          field="control_count") from None
    total = amount_minor(control_total, currency, field_name="control_total", allow_zero=True)
    actual_total = sum(m for _e, m in lines)
    if count != len(lines) or total != actual_total:
        raise DomainError(_("The control figures do not match the lines: you typed "
                            "%(count)d payments for %(total)s, the lines hold %(n)d payments "
                            "for %(actual)s. Check the sheet; nothing was posted.",
                            count=count, total=format_minor(total, currency),
                            n=len(lines),
                            actual=format_minor(actual_total, currency)),
                          field="control_total")
    if not lines:
        raise DomainError(_("No payment on the sheet."), field="control_count")
    sheet = CollectionSheet(cooperative_id=cooperative.id, agreement_id=agreement.id,
                            collected_on=collected_on,
                            collector=_text(collector, 120, "collector", _("The collector")),
                            control_count=count, control_total_minor=total,
                            idempotency_key=key, posted_by_id=actor_id)
    db.session.add(sheet)
    db.session.flush()
    receipts = []
    for entry, minor in lines:
        try:
            receipt, _created = record_receipt(
                cooperative, ReceiptInput(
                    member_id=entry.member_id, received_on=collected_on,
                    amount=from_minor(minor, currency), method=entry.method or method,
                    external_reference=entry.reference, collector=sheet.collector,
                    idempotency_key=f"{key}:{entry.member_id}"),
                actor_id, collection_sheet_id=sheet.id, today=today)
        except DomainError as error:
            # the member is named only if they are this cooperative's: a posted id is anyone's
            member = get_scoped(Member, entry.member_id, cooperative.id)
            if member is None:
                raise
            raise DomainError(_("%(number)s %(name)s: %(problem)s", number=member.member_number,
                                name=member.full_name, problem=error.message),
                              field=error.field) from None
        receipts.append(receipt)
    return sheet, receipts


# ---- remittances ----------------------------------------------------------------------------

def _fully_paid_unremitted(agreement: Agreement, period: date):
    paid = _paid_of_due()
    remitted = exists().where(RemittanceLine.due_id == Due.id)
    return (select(Due).where(Due.cooperative_id == agreement.cooperative_id,
                              Due.agreement_id == agreement.id, Due.period <= period,
                              Due.member_share_minor == paid, ~remitted))


def remittable_dues(agreement: Agreement, period: date, limit: int | None = None
                    ) -> list[Due]:
    """The dues to pass on for a period: fully paid, of this period or an earlier one (late
    payments: adjustments), not remitted before; in (period, member) order. With `limit`,
    the first ones only (the form's list): read period by period, only the periods whose
    running totals (`PeriodTotal`) hold a due to remit, each along its (agreement, period,
    member) index until enough are found."""
    period = month_start(period)
    if limit is None:
        return list(db.session.scalars(_fully_paid_unremitted(agreement, period)
                                       .options(selectinload(Due.member))
                                       .order_by(Due.period, Due.member_id)))
    dues: list[Due] = []
    for month in db.session.scalars(
            select(PeriodTotal.period).where(
                PeriodTotal.cooperative_id == agreement.cooperative_id,
                PeriodTotal.agreement_id == agreement.id, PeriodTotal.period <= period,
                PeriodTotal.remittable_dues > 0).order_by(PeriodTotal.period)).all():
        if len(dues) >= limit:
            break
        dues += db.session.scalars(_fully_paid_unremitted(agreement, month)
                                   .where(Due.period == month)
                                   .options(selectinload(Due.member))
                                   .order_by(Due.member_id).limit(limit - len(dues)))
    return dues


def remittable_summary(agreement: Agreement, period: date) -> tuple[int, int]:
    """(how many dues, both shares in minor units) a remittance for `period` would pass on
    (`remittable_dues`), from the agreement's running totals: one row per period."""
    count, total = db.session.execute(
        select(func.coalesce(func.sum(PeriodTotal.remittable_dues), 0),
               func.coalesce(func.sum(PeriodTotal.remittable_minor), 0))
        .where(PeriodTotal.cooperative_id == agreement.cooperative_id,
               PeriodTotal.agreement_id == agreement.id,
               PeriodTotal.period <= month_start(period))).one()
    return int(count), int(total)


def remittance_amount(dues: Iterable[Due]) -> int:
    """What remitting these dues passes on: both shares of each, in minor units."""
    return sum(d.member_share_minor + d.cooperative_share_minor for d in dues)


def remittable_total(agreement: Agreement, period: date) -> int:
    """Both shares of the dues a remittance for `period` would pass on (running totals)."""
    return remittable_summary(agreement, period)[1]


def record_remittance(agreement: Agreement, period: date, remitted_on: date | None,
                      amount: Any, reference: str | None, actor_id: int | None,
                      note: str | None = None, today: date | None = None) -> Remittance:
    """Record the money passed on to the institution for a period. The amount must equal the
    total of the remittable dues (both shares); a closed period, a period already remitted,
    or one earlier than the latest remitted period is refused."""
    today = today or date.today()
    period = month_start(period)
    _lock_agreement(agreement.id)
    if is_closed(agreement, period):
        raise DomainError(_("%(month)s is closed: late payments go into the next "
                            "remittance.", month=show_month(period)), field="period")
    latest = db.session.scalar(select(func.max(Remittance.period)).where(
        Remittance.cooperative_id == agreement.cooperative_id,
        Remittance.agreement_id == agreement.id))
    if latest is not None and latest >= period:
        raise DomainError(_("A remittance for %(month)s or later is already recorded.",
                            month=show_month(period)), field="period")
    if remitted_on is None:
        raise DomainError(_("Give the date the money was sent."), field="remitted_on")
    check_money_date(agreement.cooperative, remitted_on, "remitted_on", today)
    dues = remittable_dues(agreement, period)
    if not dues:
        raise DomainError(_("Nothing to remit for %(month)s: no fully paid due is waiting.",
                            month=show_month(period)), field="period")
    currency = agreement.cooperative.currency
    total = remittance_amount(dues)
    typed = amount_minor(amount, currency)
    if typed != total:
        raise DomainError(_("The remittance must be %(total)s, the total of its %(n)d lines "
                            "(you typed %(typed)s). Send exactly that, or record the "
                            "difference with the institution separately.",
                            total=format_minor(total, currency),
                            n=len(dues),
                            typed=format_minor(typed, currency)),
                          field="amount")
    remittance = Remittance(cooperative_id=agreement.cooperative_id, agreement_id=agreement.id,
                            period=period, remitted_on=remitted_on, amount_minor=total,
                            reference=_text(reference, 80, "reference", _("The reference")),
                            note=_text(note, 300, "note", _("The note")),
                            recorded_by_id=actor_id)
    db.session.add(remittance)
    db.session.flush()
    db.session.execute(RemittanceLine.__table__.insert(), [
        {"cooperative_id": agreement.cooperative_id, "remittance_id": remittance.id,
         "due_id": d.id, "member_share_minor": d.member_share_minor,
         "cooperative_share_minor": d.cooperative_share_minor} for d in dues])
    db.session.flush()
    return remittance


def acknowledge_remittance(remittance: Remittance, acknowledged_on: date | None, amount: Any,
                           reference: str | None, actor_id: int | None,
                           today: date | None = None) -> RemittanceAcknowledgement:
    """Record the institution's confirmation of a remittance (once). An amount that differs
    from the remittance is accepted as the institution's word and flagged by the
    reconciliation."""
    today = today or date.today()
    if db.session.scalar(select(RemittanceAcknowledgement.id).where(
            RemittanceAcknowledgement.cooperative_id == remittance.cooperative_id,
            RemittanceAcknowledgement.remittance_id == remittance.id)) is not None:
        raise DomainError(_("This remittance is already acknowledged."), field="amount")
    if acknowledged_on is None:
        raise DomainError(_("Give the date of the institution's confirmation."),
                          field="acknowledged_on")
    check_money_date(db.session.get(Cooperative, remittance.cooperative_id), acknowledged_on,
                     "acknowledged_on", today)
    if acknowledged_on < remittance.remitted_on:
        raise DomainError(_("The confirmation is dated before the money was sent."),
                          field="acknowledged_on")
    currency = _currency(remittance.cooperative_id)
    ack = RemittanceAcknowledgement(
        cooperative_id=remittance.cooperative_id, remittance_id=remittance.id,
        acknowledged_on=acknowledged_on,
        amount_minor=amount_minor(amount, currency, allow_zero=True),
        reference=_text(reference, 80, "reference", _("The reference")),
        recorded_by_id=actor_id)
    db.session.add(ack)
    db.session.flush()
    db.session.expire(remittance, ["acknowledgement"])
    return ack


def close_period(agreement: Agreement, period: date, actor_id: int | None,
                 today: date | None = None) -> PeriodClose:
    """Close a period of an agreement for good: no more dues generated for it, no remittance
    recorded for it; late payments of its dues become adjustments of the next remittance.
    A month that has not ended cannot be closed."""
    today = today or date.today()
    period = month_start(period)
    if month_end(period) >= today:
        raise DomainError(_("%(month)s has not ended yet.", month=show_month(period)),
                          field="period")
    if period < month_start(agreement.valid_from):
        raise DomainError(_("The agreement had not started in %(month)s.",
                            month=show_month(period)), field="period")
    _lock_agreement(agreement.id)
    if is_closed(agreement, period):
        raise DomainError(_("%(month)s is already closed.", month=show_month(period)),
                          field="period")
    closing = PeriodClose(cooperative_id=agreement.cooperative_id, agreement_id=agreement.id,
                          period=period, closed_by_id=actor_id, closed_at=utcnow())
    db.session.add(closing)
    db.session.flush()
    return closing


# ---- for the batches area -------------------------------------------------------------------

def _remittance_of(agreement: Agreement, period: date) -> Remittance:
    remittance = db.session.scalar(select(Remittance).where(
        Remittance.cooperative_id == agreement.cooperative_id,
        Remittance.agreement_id == agreement.id, Remittance.period == month_start(period)))
    if remittance is None:
        raise DomainError(_("No remittance is recorded for %(month)s.",
                            month=show_month(month_start(period))), field="period")
    return remittance


def remittance_batch_lines(agreement: Agreement, period: date) -> list[dict]:
    """The lines of the remittance recorded for an agreement and period, one per remitted
    due, ordered by member name: `member` (Member), `registration` (Registration), `period`
    (date: the due's month — earlier than the remittance's for an adjustment), `adjustment`
    (bool), `member_share`, `cooperative_share`, `total` (Decimal, in the cooperative's
    currency). Raises DomainError when no remittance is recorded for that period."""
    remittance = _remittance_of(agreement, period)
    currency = agreement.cooperative.currency
    rows = db.session.execute(
        select(RemittanceLine, Due, Member, Registration)
        .join(Due, Due.id == RemittanceLine.due_id)
        .join(Member, Member.id == Due.member_id)
        .join(Registration, Registration.id == Due.registration_id)
        .where(RemittanceLine.cooperative_id == remittance.cooperative_id,
               RemittanceLine.remittance_id == remittance.id)
        .order_by(Member.search_name, Member.id, Due.period)).all()
    lines = []
    for line, due, member, registration in rows:
        member_share = from_minor(line.member_share_minor, currency)
        cooperative_share = from_minor(line.cooperative_share_minor, currency)
        lines.append({"member": member, "registration": registration, "period": due.period,
                      "adjustment": due.period < remittance.period,
                      "member_share": member_share, "cooperative_share": cooperative_share,
                      "total": member_share + cooperative_share})
    return lines


def remittance_payment(agreement: Agreement, period: date
                       ) -> tuple[str | None, date | None]:
    """The reference and date of the remittance recorded for an agreement and period
    (None, None when there is none)."""
    remittance = db.session.scalar(select(Remittance).where(
        Remittance.cooperative_id == agreement.cooperative_id,
        Remittance.agreement_id == agreement.id, Remittance.period == month_start(period)))
    if remittance is None:
        return None, None
    return remittance.reference, remittance.remitted_on


def remittance_total(agreement: Agreement, period: date) -> Decimal:
    """The amount of the remittance recorded for an agreement and period (= its lines'
    total)."""
    remittance = _remittance_of(agreement, period)
    return from_minor(remittance.amount_minor, agreement.cooperative.currency)


# ---- lists ----------------------------------------------------------------------------------

def receipt_allocations(receipt: Receipt) -> list[tuple[Due, int]]:
    """The dues a receipt paid, with the net amount on each (zero after a reversal)."""
    rows = db.session.execute(
        select(Due, func.sum(Allocation.amount_minor))
        .join(Allocation, Allocation.due_id == Due.id)
        .where(Allocation.cooperative_id == receipt.cooperative_id,
               Allocation.receipt_id == receipt.id)
        .group_by(Due.id).order_by(Due.due_date, Due.id)).all()
    return [(due, int(amount)) for due, amount in rows]


@dataclass
class ReceiptSlip:
    """What the printed receipt shows besides the receipt itself."""

    paid: list[tuple[Due, int]]  # the dues it paid, with the amount on each
    unallocated_minor: int  # the member's credit from it
    balance_after_minor: int  # what the member still owed once it was applied
    amount_words: str  # the amount in words, in the slip's language


def balance_after(receipt: Receipt) -> int:
    """What the member still owed right after this receipt: their dues (member share) of the
    months up to the receipt's month less what receipts up to this one paid on them. The
    same on every reprint, whatever was paid since."""
    due_by_then = (Due.cooperative_id == receipt.cooperative_id,
                   Due.member_id == receipt.member_id,
                   Due.period <= month_start(receipt.received_on))
    owed = db.session.scalar(select(func.coalesce(func.sum(Due.member_share_minor), 0))
                             .where(*due_by_then)) or 0
    paid = db.session.scalar(
        select(func.coalesce(func.sum(Allocation.amount_minor), 0))
        .join(Due, Due.id == Allocation.due_id)
        .join(Receipt, Receipt.id == Allocation.receipt_id)
        .where(*due_by_then, Receipt.number <= receipt.number)) or 0
    return max(int(owed) - int(paid), 0)


def receipt_slip(receipt: Receipt, language: str) -> ReceiptSlip:
    """The printed receipt's figures: the dues (periods) it paid, the credit it left, the
    balance owed after it, and its amount in words in `language` (the member's)."""
    from coopreg.core.money import amount_in_words

    currency = _currency(receipt.cooperative_id)
    return ReceiptSlip(paid=receipt_allocations(receipt),
                       unallocated_minor=receipt_unallocated(receipt),
                       balance_after_minor=balance_after(receipt),
                       amount_words=amount_in_words(from_minor(receipt.amount_minor, currency),
                                                    currency, language))


def receipt_unallocated(receipt: Receipt) -> int:
    if receipt.reversal is not None:
        return 0
    allocated = db.session.scalar(select(func.coalesce(func.sum(Allocation.amount_minor), 0))
                                  .where(Allocation.cooperative_id == receipt.cooperative_id,
                                         Allocation.receipt_id == receipt.id)) or 0
    return receipt.amount_minor - int(allocated)


def search_members(cooperative_id: int, query: str, limit: int = 10,
                   whole_ids: bool = False) -> list[Member]:
    """Up to `limit` members matching what was typed (the member list's search; `whole_ids`
    for people who see IDs masked: see `search_condition`)."""
    from coopreg.members.services import search_condition

    condition = search_condition(query, whole_ids)
    if condition is None:
        return []
    return list(db.session.scalars(select(Member).where(
        Member.cooperative_id == cooperative_id, condition)
        .order_by(Member.search_name, Member.id).limit(limit)))
