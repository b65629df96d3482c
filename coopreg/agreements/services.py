"""The agreements area's rules: institutions and schemes, agreements and their terms (kept as
amendments), the contribution rule and schedule, and each member's registration lifecycle.

Services for other areas:
- `terms_on(agreement, day)`: the terms in force on a day.
- `periods_between(agreement, start, end)` / `due_months(agreement, year)`: when dues fall.
- `contribution_for(agreement, member, period_date)`: (member share, cooperative share);
  its integer pieces (`income_base_minor`, `rate_total_minor`, `member_share_minor`,
  `dues_per_year`) for the SQL of dues generation.
- `transition_registration(registration, to_status, actor_id, ...)`: the one way a
  registration changes status (batches use it for ready → submitted → registered/rejected).
- `readiness_problems(registration)`: what stops a registration from being `ready`.
- `flag_registrations_for_exit(member, reason, on)`: called when a member leaves or dies.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import case, exists, func, or_, select
from sqlalchemy.orm import selectinload

from coopreg.agreements import families
from coopreg.agreements.models import (
    ACTIVE_STATUSES,
    HOW_TO_CLAIM_MAX,
    MEMBER_BENEFITS_MAX,
    REGISTRATION_LIFECYCLE,
    Agreement,
    AgreementDocument,
    AgreementScheme,
    AgreementTerms,
    Branch,
    CategoryPlacement,
    Institution,
    PayerKind,
    Registration,
    RegistrationCount,
    RegistrationEvent,
    RegistrationStatus,
    RuleKind,
    ScaleRow,
    Schedule,
    Scheme,
    SchemeBranch,
    TermsPayer,
)
from coopreg.agreements.signals import registration_moved
from coopreg.cooperatives.models import Cooperative, DocumentType
from coopreg.core.errors import DomainError
from coopreg.core.labels import label
from coopreg.core.models import utcnow
from coopreg.core.money import from_minor, parse_amount, to_minor
from coopreg.core.sentences import is_kept, kept, sentence
from coopreg.core.sorting import Sorted, Sorts
from coopreg.core.text import fold
from coopreg.core.validation import choice, clean_text
from coopreg.extensions import db
from coopreg.members.models import (
    Member,
    MemberCount,
    MemberDocument,
    MemberStatus,
    Sector,
    Sex,
)
from coopreg.members.national_ids import id_types_for, normalise_id
from coopreg.members.services import income_on, search_condition
from coopreg.members.signals import member_left

S = RegistrationStatus
BP = 10_000  # basis points in 100 %
QUARTER_MONTHS = (3, 6, 9, 12)
_MAX_MINOR = 2**63 - 1


# names in this module are required unless a call says otherwise
_text = partial(clean_text, required=True)



# ---- institutions and schemes ----------------------------------------------------------------

def _check_country(country: str) -> str:
    country = (country or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise DomainError(_("Give the country as a two-letter ISO code (for example CR)."),
                          field="country")
    return country


def _institution_values(cooperative_id: int, name: str, short_name: str, country: str,
                        institution: Institution | None = None) -> dict:
    values = {"name": _text(name, 200, "name", _("The name")),
              "short_name": _text(short_name, 40, "short_name", _("The short name")),
              "country": _check_country(country)}
    taken = db.session.scalar(select(Institution.id).where(
        Institution.cooperative_id == cooperative_id,
        func.upper(Institution.short_name) == values["short_name"].upper(),
        Institution.id != (institution.id if institution else -1)))
    if taken is not None:
        raise DomainError(_("An institution with short name %(name)s already exists.",
                            name=values["short_name"]), field="short_name")
    return values


def create_institution(cooperative: Cooperative, name: str, short_name: str,
                       country: str) -> Institution:
    """A social security institution the cooperative deals with (short names unique)."""
    values = _institution_values(cooperative.id, name, short_name, country)
    institution = Institution(cooperative_id=cooperative.id, **values)
    db.session.add(institution)
    db.session.flush()
    return institution


def update_institution(institution: Institution, name: str, short_name: str,
                       country: str) -> Institution:
    values = _institution_values(institution.cooperative_id, name, short_name, country,
                                 institution)
    for key, value in values.items():
        setattr(institution, key, value)
    db.session.flush()
    return institution


def _branches(branches: Iterable) -> set[Branch]:
    chosen = {choice(Branch, b, "branches", _("Branch")) for b in branches or ()}
    if not chosen:
        raise DomainError(_("Choose at least one branch the scheme covers."), field="branches")
    return chosen


def _scheme_name(institution: Institution, name: str, scheme: Scheme | None = None) -> str:
    name = _text(name, 200, "name", _("The name"))
    taken = db.session.scalar(select(Scheme.id).where(
        Scheme.cooperative_id == institution.cooperative_id,
        Scheme.institution_id == institution.id, func.upper(Scheme.name) == name.upper(),
        Scheme.id != (scheme.id if scheme else -1)))
    if taken is not None:
        raise DomainError(_("This institution already has a scheme called %(name)s.",
                            name=name), field="name")
    return name


def member_text(value: Any, limit: int, field: str, label: str) -> str | None:
    """A text for members as typed, its lines kept (runs of spaces folded, trailing spaces and
    extra blank lines and control characters dropped); None when empty; refused when longer
    than `limit` characters."""
    typed = str(value or "").replace("\r\n", "\n").replace("\r", "\n")
    typed = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", typed)
    lines = [re.sub(r"[^\S\n]+", " ", line).strip() for line in typed.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() or None
    if text is not None and len(text) > limit:
        raise DomainError(_("%(label)s is too long (at most %(n)d characters).", label=label,
                            n=limit), field=field)
    return text


def _scheme_texts(member_benefits: Any, how_to_claim: Any) -> dict:
    return {"member_benefits": member_text(member_benefits, MEMBER_BENEFITS_MAX,
                                           "member_benefits", _("What members get")),
            "how_to_claim": member_text(how_to_claim, HOW_TO_CLAIM_MAX, "how_to_claim",
                                        _("How to claim"))}


def create_scheme(institution: Institution, name: str, branches: Iterable,
                  member_benefits: str | None = None, how_to_claim: str | None = None) -> Scheme:
    """A scheme of an institution, the branches of social protection it covers, and (for the
    awareness sheet) what it gives members and how they claim it."""
    name = _scheme_name(institution, name)
    chosen = _branches(branches)
    texts = _scheme_texts(member_benefits, how_to_claim)
    scheme = Scheme(cooperative_id=institution.cooperative_id, institution_id=institution.id,
                    name=name, **texts)
    scheme.branch_rows = [SchemeBranch(cooperative_id=institution.cooperative_id, branch=b)
                          for b in Branch if b in chosen]
    db.session.add(scheme)
    db.session.flush()
    return scheme


def update_scheme(scheme: Scheme, name: str, branches: Iterable,
                  member_benefits: str | None = None, how_to_claim: str | None = None) -> Scheme:
    """Rename a scheme, change its branches (the coverage report follows at once) or its
    texts for members."""
    scheme.name = _scheme_name(scheme.institution, name, scheme)
    chosen = _branches(branches)
    for key, value in _scheme_texts(member_benefits, how_to_claim).items():
        setattr(scheme, key, value)
    held = {row.branch: row for row in scheme.branch_rows}
    for branch, row in held.items():
        if branch not in chosen:
            scheme.branch_rows.remove(row)
    for branch in Branch:
        if branch in chosen and branch not in held:
            scheme.branch_rows.append(SchemeBranch(cooperative_id=scheme.cooperative_id,
                                                   branch=branch))
    db.session.flush()
    return scheme


# ---- agreements -----------------------------------------------------------------------------

def _agreement_values(cooperative: Cooperative, data: dict,
                      agreement: Agreement | None = None) -> dict:
    institution = db.session.scalar(select(Institution).where(
        Institution.cooperative_id == cooperative.id,
        Institution.id == (data.get("institution_id") or -1)))
    if institution is None:
        raise DomainError(_("Choose the institution."), field="institution_id")
    reference = _text(data.get("reference"), 60, "reference", _("The reference number"))
    taken = db.session.scalar(select(Agreement.id).where(
        Agreement.cooperative_id == cooperative.id,
        func.upper(Agreement.reference) == reference.upper(),
        Agreement.id != (agreement.id if agreement else -1)))
    if taken is not None:
        raise DomainError(_("An agreement with reference %(ref)s already exists.",
                            ref=reference), field="reference")
    valid_from = data.get("valid_from")
    if valid_from is None:
        raise DomainError(_("Give the date the agreement starts."), field="valid_from")
    valid_to = data.get("valid_to")
    if valid_to is not None and valid_to < valid_from:
        raise DomainError(_("The agreement ends before it starts."), field="valid_to")
    signed_on = data.get("signed_on")
    if signed_on is not None and signed_on > date.today():
        raise DomainError(_("The signing date is in the future."), field="signed_on")
    pattern = _text(data.get("member_number_pattern"), 200, "member_number_pattern", "",
                    required=False)
    if pattern:
        try:
            re.compile(pattern)
        except re.error:
            raise DomainError(_("The member number pattern is not a valid regular "
                                "expression."), field="member_number_pattern") from None
    scheme_ids = {int(i) for i in data.get("scheme_ids") or ()}
    schemes = db.session.scalars(select(Scheme).where(
        Scheme.cooperative_id == institution.cooperative_id,
        Scheme.institution_id == institution.id, Scheme.id.in_(scheme_ids))).all()
    if not schemes or len(schemes) != len(scheme_ids):
        raise DomainError(_("Choose one or more schemes of %(name)s.",
                            name=institution.short_name), field="scheme_ids")
    document_ids = {int(i) for i in data.get("document_type_ids") or ()}
    documents = db.session.scalars(select(DocumentType).where(
        DocumentType.cooperative_id == cooperative.id,
        DocumentType.id.in_(document_ids))).all()
    if len(documents) != len(document_ids):
        raise DomainError(_("Unknown document type."), field="document_type_ids")
    return {"institution_id": institution.id, "reference": reference, "valid_from": valid_from,
            "valid_to": valid_to, "signed_on": signed_on, "member_number_pattern": pattern,
            "schemes": schemes, "documents": documents}


def _set_links(agreement: Agreement, schemes: list[Scheme],
               documents: list[DocumentType]) -> None:
    _keep_only(agreement.scheme_links, "scheme_id", schemes, lambda scheme: AgreementScheme(
        cooperative_id=agreement.cooperative_id, scheme=scheme))
    _keep_only(agreement.document_links, "document_type_id", documents,
               lambda document: AgreementDocument(cooperative_id=agreement.cooperative_id,
                                                  document_type=document))


def _keep_only(links: list, key: str, targets: list, make) -> None:
    """Make a list of link rows point at exactly `targets`: links to others are dropped, the
    missing ones made; the links that stay are left untouched."""
    wanted = {target.id for target in targets}
    for link in list(links):
        if getattr(link, key) not in wanted:
            links.remove(link)
    have = {getattr(link, key) for link in links}
    for target in targets:
        if target.id not in have:
            links.append(make(target))


def create_agreement(cooperative: Cooperative, data: dict, terms: dict,
                     actor_id: int | None) -> Agreement:
    """A group registration agreement with its first terms, in force from `valid_from`.
    `data`: institution_id, reference, signed_on, valid_from, valid_to, member_number_pattern,
    scheme_ids, document_type_ids. `terms`: see `clean_terms`."""
    values = _agreement_values(cooperative, data)
    schemes, documents = values.pop("schemes"), values.pop("documents")
    terms_values = clean_terms(cooperative.currency, {**terms,
                                                      "effective_from": values["valid_from"]})
    agreement = Agreement(cooperative_id=cooperative.id, **values)
    db.session.add(agreement)
    _set_links(agreement, schemes, documents)
    db.session.flush()
    _add_terms(agreement, terms_values, actor_id)
    return agreement


def update_agreement(agreement: Agreement, data: dict) -> Agreement:
    """Change an agreement's reference, dates, number pattern, schemes and required documents
    (the terms change only by amendment: `amend_terms`)."""
    cooperative = db.session.get(Cooperative, agreement.cooperative_id)
    values = _agreement_values(cooperative, data, agreement)
    schemes, documents = values.pop("schemes"), values.pop("documents")
    if values["institution_id"] != agreement.institution_id and db.session.scalar(
            select(Registration.id).where(Registration.agreement_id == agreement.id).limit(1)):
        raise DomainError(_("Members are enrolled in this agreement: its institution cannot "
                            "change."), field="institution_id")
    first = agreement.terms[0] if agreement.terms else None
    if first is not None and values["valid_from"] > first.effective_from:
        raise DomainError(_("The first terms take effect on %(date)s: the agreement cannot "
                            "start later.", date=first.effective_from.isoformat()),
                          field="valid_from")
    for key, value in values.items():
        setattr(agreement, key, value)
    _set_links(agreement, schemes, documents)
    db.session.flush()
    return agreement


# ---- terms ----------------------------------------------------------------------------------

def _percent_bp(value: Any, field_name: str, label: str, required: bool = True,
                allow_zero: bool = True) -> int | None:
    """'10.5' (per cent) → 1050 basis points; at most two decimals, 0 to 100."""
    if value is None or str(value).strip() == "":
        if required:
            raise DomainError(_("%(label)s is required.", label=label), field=field_name)
        return None
    if isinstance(value, float):
        raise TypeError("rates are never floats")
    try:
        percent = Decimal(str(value).strip().replace(",", ".").rstrip("%").strip())
    except InvalidOperation:
        raise DomainError(_("%(label)s is not a number.", label=label),
                          field=field_name) from None
    if not percent.is_finite() or percent < 0 or percent > 100 or (
            not allow_zero and percent == 0):
        raise DomainError(_("%(label)s must be between 0 and 100 %%.", label=label),
                          field=field_name)
    scaled = percent * 100
    if scaled != scaled.to_integral_value():
        raise DomainError(_("%(label)s has at most two decimals.", label=label),
                          field=field_name)
    return int(scaled)


def _money(value: Any, currency: str, field_name: str, label: str, required: bool) -> int | None:
    if value is None or str(value).strip() == "":
        if required:
            raise DomainError(_("%(label)s is required.", label=label), field=field_name)
        return None
    try:
        minor = to_minor(parse_amount(value if isinstance(value, Decimal) else str(value),
                                      currency), currency)
    except DomainError as error:
        raise DomainError(_("%(label)s: %(problem)s", label=label, problem=error.message),
                          field=field_name) from None
    if minor > _MAX_MINOR:
        raise DomainError(_("%(label)s is too large.", label=label), field=field_name)
    return minor


def _int(value: Any, low: int, high: int, field_name: str, label: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise DomainError(_("%(label)s is required.", label=label), field=field_name) from None
    if not low <= number <= high:
        raise DomainError(_("%(label)s must be between %(low)d and %(high)d.", label=label,
                            low=low, high=high), field=field_name)
    return number


def clean_terms(currency: str, data: dict) -> dict:
    """Check a contribution rule and schedule and return the column values. `data`:
    effective_from, rule_kind (flat|rate), flat_amount, rate_percent, floor, ceiling (amounts
    as typed, in the cooperative's currency), member_share_percent, schedule, due_months
    (month numbers), due_day, grace_days, remittance_deadline_days, note."""
    effective_from = data.get("effective_from")
    if effective_from is None:
        raise DomainError(_("Give the date the terms take effect."), field="effective_from")
    rule = choice(RuleKind, data.get("rule_kind"), "rule_kind", _("Contribution rule"))
    values: dict[str, Any] = {"effective_from": effective_from, "rule_kind": rule,
                              "flat_amount_minor": None, "rate_bp": None,
                              "floor_minor": None, "ceiling_minor": None}
    if rule == RuleKind.FLAT:
        values["flat_amount_minor"] = _money(data.get("flat_amount"), currency, "flat_amount",
                                             _("Amount per period"), required=True)
        if values["flat_amount_minor"] == 0:
            raise DomainError(_("The amount per period must be more than zero."),
                              field="flat_amount")
    elif rule == RuleKind.CATEGORY:
        pass
    else:
        if rule == RuleKind.RATE:  # a scale's rows say their amount or rate
            values["rate_bp"] = _percent_bp(data.get("rate_percent"), "rate_percent",
                                            _("Rate"), allow_zero=False)
        values["floor_minor"] = _money(data.get("floor"), currency, "floor",
                                       _("Income floor"), required=False)
        values["ceiling_minor"] = _money(data.get("ceiling"), currency, "ceiling",
                                         _("Income ceiling"), required=False)
        if (values["floor_minor"] is not None and values["ceiling_minor"] is not None
                and values["floor_minor"] > values["ceiling_minor"]):
            raise DomainError(_("The floor is above the ceiling."), field="ceiling")
    values["member_share_bp"] = _percent_bp(data.get("member_share_percent"),
                                            "member_share_percent", _("Member's share"))
    schedule = choice(Schedule, data.get("schedule"), "schedule", _("Schedule"))
    values["schedule"] = schedule
    try:
        months = sorted({int(m) for m in data.get("due_months") or ()})
    except (TypeError, ValueError):
        raise DomainError(_("Months are numbers from 1 to 12."), field="due_months") from None
    if any(not 1 <= m <= 12 for m in months):
        raise DomainError(_("Months are numbers from 1 to 12."), field="due_months")
    if schedule == Schedule.SEASONAL and not months:
        raise DomainError(_("Choose the months of the season, when dues fall."),
                          field="due_months")
    if schedule == Schedule.YEARLY and len(months) != 1:
        raise DomainError(_("Choose the one month in which the yearly due falls."),
                          field="due_months")
    values["due_months"] = (",".join(str(m) for m in months)
                            if schedule in (Schedule.SEASONAL, Schedule.YEARLY) else None)
    values["due_day"] = _int(data.get("due_day"), 1, 31, "due_day", _("Due day"))
    values["grace_days"] = _int(data.get("grace_days") or 0, 0, 365, "grace_days",
                                _("Grace days"))
    values["remittance_deadline_days"] = _int(
        data.get("remittance_deadline_days") or 0, 0, 365, "remittance_deadline_days",
        _("Remittance deadline"))
    values["note"] = _text(data.get("note"), 300, "note", _("The note"), required=False)
    values["suspended_accrue"] = bool(data.get("suspended_accrue", True))
    values["payers"] = clean_payers(currency, data.get("payers") or (),
                                    values["member_share_bp"])
    values["scale"] = (clean_scale(currency, rule, data.get("scale"), values["member_share_bp"],
                                   values["payers"])
                       if rule in (RuleKind.SCALE, RuleKind.CATEGORY) else [])
    return values


SCALE_MAX_ROWS = 40


def parse_scale_text(text: str) -> list[dict]:
    """A scale as typed on the terms form, one row a line, fields separated by ';': code;
    income from (brackets; empty for categories); amount per period, or a rate ending in '%'
    (brackets only); the member's share %; the first third payer's share %; the second's.
    Empty shares are the terms' own. Blank lines are skipped."""
    rows = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        cells = [c.strip() for c in line.split(";")]
        if len(cells) < 3 or len(cells) > 6:
            raise DomainError(_("Line %(n)d of the scale: write code; income from; amount or "
                                "rate %%; member %%; payer %%; payer %% (3 to 6 fields).",
                                n=number), field="scale")
        cells += [""] * (6 - len(cells))
        amount = cells[2]
        rows.append({"line": number, "code": cells[0], "income_from": cells[1],
                     "amount": "" if amount.endswith("%") else amount,
                     "rate_percent": amount[:-1] if amount.endswith("%") else "",
                     "member_share_percent": cells[3], "payer1_share_percent": cells[4],
                     "payer2_share_percent": cells[5]})
    return rows


def scale_text(terms: AgreementTerms, currency: str) -> str:
    """The terms' scale written as `parse_scale_text` reads it (the form of an amendment
    starts from it)."""
    def pct(bp):
        return "" if bp is None else f"{bp // 100}.{bp % 100:02d}".rstrip("0").rstrip(".")

    def plain(minor):
        amount = from_minor(minor, currency)
        return str(amount.to_integral_value()) if amount == amount.to_integral_value() else (
            str(amount))

    lines = []
    for row in terms.scale_rows:
        amount = (f"{pct(row.rate_bp)}%" if row.rate_bp is not None
                  else plain(row.amount_minor))
        income = "" if row.income_from_minor is None else plain(row.income_from_minor)
        cells = [row.code, income, amount, pct(row.member_share_bp),
                 pct(row.payer1_share_bp), pct(row.payer2_share_bp)]
        while len(cells) > 3 and not cells[-1]:
            cells.pop()
        lines.append("; ".join(cells))
    return "\n".join(lines)


def clean_scale(currency: str, rule: RuleKind, rows: Any, member_share_bp: int,
                payers: list[dict]) -> list[dict]:
    """Check a scale and return its rows' column values, brackets sorted by income. `rows`:
    the text of the terms form (`parse_scale_text`) or a list of dicts with code, income_from
    (brackets), amount or rate_percent (a rate: brackets only), member_share_percent,
    payer1_share_percent, payer2_share_percent. Brackets start at an income of 0 and each
    starts at a different income; codes are unique; on each row the member's and the third
    parties' percentages (the row's or the terms') add up to at most 100 %."""
    if isinstance(rows, str):
        rows = parse_scale_text(rows)
    rows = list(rows or ())
    if not rows:
        raise DomainError(_("Give the scale's rows: at least one bracket or category."),
                          field="scale")
    if len(rows) > SCALE_MAX_ROWS:
        raise DomainError(_("A scale has at most %(n)d rows.", n=SCALE_MAX_ROWS), field="scale")
    if len(payers) > 2:
        raise DomainError(_("A scale's terms name at most two other payers."), field="scale")
    cleaned, codes = [], set()
    for index, row in enumerate(rows, start=1):
        where = _("Line %(n)d of the scale", n=row.get("line", index))
        code = _text(row.get("code"), 40, "scale", where)
        if code.casefold() in codes:
            raise DomainError(_("%(where)s: the code %(code)s is there twice.", where=where,
                                code=code), field="scale")
        codes.add(code.casefold())
        values = {"code": code, "income_from_minor": None, "amount_minor": None,
                  "rate_bp": None}
        if rule == RuleKind.SCALE:
            values["income_from_minor"] = _money(row.get("income_from"), currency, "scale",
                                                 where, required=True)
        rate, amount = row.get("rate_percent"), row.get("amount")
        if rate not in (None, ""):
            if rule == RuleKind.CATEGORY:
                raise DomainError(_("%(where)s: a category has an amount per period, not a "
                                    "rate.", where=where), field="scale")
            values["rate_bp"] = _percent_bp(rate, "scale", where, allow_zero=False)
        else:
            values["amount_minor"] = _money(amount, currency, "scale", where, required=True)
        values["member_share_bp"] = _percent_bp(row.get("member_share_percent"), "scale",
                                                where, required=False)
        total_bp = (member_share_bp if values["member_share_bp"] is None
                    else values["member_share_bp"])
        for i in (1, 2):
            share = _percent_bp(row.get(f"payer{i}_share_percent"), "scale", where,
                                required=False)
            if share is not None and len(payers) < i:
                raise DomainError(_("%(where)s: a share for a payer the terms do not name.",
                                    where=where), field="scale")
            values[f"payer{i}_share_bp"] = share
            if share is not None:
                total_bp += share
            elif len(payers) >= i and payers[i - 1]["share_bp"] is not None:
                total_bp += payers[i - 1]["share_bp"]
        if total_bp > BP:
            raise DomainError(_("%(where)s: the shares add up to more than 100 %%.",
                                where=where), field="scale")
        cleaned.append(values)
    if rule == RuleKind.SCALE:
        cleaned.sort(key=lambda r: r["income_from_minor"])
        starts = [r["income_from_minor"] for r in cleaned]
        if starts[0] != 0:
            raise DomainError(_("The first bracket starts at an income of 0."), field="scale")
        if len(set(starts)) != len(starts):
            raise DomainError(_("Two brackets start at the same income."), field="scale")
    for position, values in enumerate(cleaned, start=1):
        values["position"] = position
    return cleaned


def clean_payers(currency: str, payers: Iterable[dict], member_share_bp: int) -> list[dict]:
    """Check the third parties of a set of terms and return their column values. Each payer:
    kind (state|third_party), name, share_percent or fixed_amount (one of the two), and
    through_cooperative. The member's share and the third parties' percentages together may
    not exceed 100 %: the cooperative pays what is left."""
    cleaned, names = [], set()
    total_bp = member_share_bp
    for position, payer in enumerate(payers, start=1):
        kind = choice(PayerKind, payer.get("kind"), "payers", _("Payer"))
        if kind not in (PayerKind.STATE, PayerKind.THIRD_PARTY):
            raise DomainError(_("Name only the state or other third parties here: the "
                                "member's share is above and the cooperative pays the rest."),
                              field="payers")
        name = _text(payer.get("name"), 120, "payers", _("The payer's name"))
        if name.casefold() in names:
            raise DomainError(_("Each payer is named once: %(name)s.", name=name),
                              field="payers")
        names.add(name.casefold())
        share_percent, fixed = payer.get("share_percent"), payer.get("fixed_amount")
        if (share_percent in (None, "")) == (fixed in (None, "")):
            raise DomainError(_("Give %(name)s either a percentage or a fixed amount per "
                                "period.", name=name), field="payers")
        share_bp = fixed_minor = None
        if share_percent not in (None, ""):
            share_bp = _percent_bp(share_percent, "payers", _("The payer's share"),
                                   allow_zero=False)
            total_bp += share_bp
        else:
            fixed_minor = _money(fixed, currency, "payers", _("The payer's amount"),
                                 required=True)
        cleaned.append({"position": position, "kind": kind, "name": name,
                        "share_bp": share_bp, "fixed_minor": fixed_minor,
                        "through_cooperative": bool(payer.get("through_cooperative", True))})
    if total_bp > BP:
        raise DomainError(_("The member's share and the other payers' percentages add up to "
                            "more than 100 %."), field="payers")
    return cleaned


def _add_terms(agreement: Agreement, values: dict, actor_id: int | None) -> AgreementTerms:
    payers = values.pop("payers", [])
    scale = values.pop("scale", [])
    terms = AgreementTerms(cooperative_id=agreement.cooperative_id, agreement_id=agreement.id,
                           created_by_id=actor_id, created_at=utcnow(), **values)
    db.session.add(terms)
    db.session.flush()
    for payer in payers:
        db.session.add(TermsPayer(cooperative_id=agreement.cooperative_id, terms_id=terms.id,
                                  **payer))
    for row in scale:
        db.session.add(ScaleRow(cooperative_id=agreement.cooperative_id, terms_id=terms.id,
                                **row))
    db.session.flush()
    db.session.expire(agreement, ["terms"])
    return terms


def amend_terms(agreement: Agreement, data: dict, actor_id: int | None) -> AgreementTerms:
    """New terms from a date after the latest amendment's; the earlier terms stay on record
    and keep governing the periods before that date."""
    cooperative = db.session.get(Cooperative, agreement.cooperative_id)
    values = clean_terms(cooperative.currency, data)
    latest = agreement.terms[-1] if agreement.terms else None
    if latest is not None and values["effective_from"] <= latest.effective_from:
        raise DomainError(_("Amendments take effect after the latest one (%(date)s); earlier "
                            "terms are never changed.",
                            date=latest.effective_from.isoformat()), field="effective_from")
    if values["effective_from"] < agreement.valid_from:
        raise DomainError(_("The terms cannot take effect before the agreement starts."),
                          field="effective_from")
    if agreement.valid_to is not None and values["effective_from"] > agreement.valid_to:
        raise DomainError(_("The agreement ends before that date."), field="effective_from")
    return _add_terms(agreement, values, actor_id)


def terms_on(agreement: Agreement, day: date) -> AgreementTerms | None:
    """The terms in force on a day: the latest amendment that took effect on or before it."""
    current = None
    for terms in agreement.terms:  # ordered by effective_from
        if terms.effective_from <= day:
            current = terms
    return current


def schedule_months(terms: AgreementTerms) -> tuple[int, ...]:
    """The months in which dues fall under these terms. Quarterly dues fall in the last month
    of each calendar quarter (March, June, September, December) whatever the start date."""
    if terms.schedule == Schedule.MONTHLY:
        return tuple(range(1, 13))
    if terms.schedule == Schedule.QUARTERLY:
        return QUARTER_MONTHS
    return tuple(terms.month_list)


def dues_per_year(terms: AgreementTerms) -> int:
    """How many dues a year of income is spread over: 12 monthly, 4 quarterly, 1 yearly, the
    number of season months for a seasonal schedule."""
    if terms.schedule == Schedule.MONTHLY:
        return 12
    if terms.schedule == Schedule.QUARTERLY:
        return 4
    if terms.schedule == Schedule.YEARLY:
        return 1
    return len(terms.month_list) or 12


def months_covered(terms: AgreementTerms) -> Decimal:
    """How many months of income one due stands for: 1 monthly, 3 quarterly, 12 yearly; a
    seasonal schedule spreads the year over its season (12 / number of season months)."""
    return Decimal(12) / Decimal(dues_per_year(terms))


def half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half away from zero, exactly (integers only)."""
    if numerator < 0:
        return -half_up(-numerator, denominator)
    return (2 * numerator + denominator) // (2 * denominator)


def income_base_minor(income_minor: int | None, floor_minor: int | None,
                      ceiling_minor: int | None) -> int:
    """The income a rate applies to: the declared income (none counts as 0) raised to the
    floor and capped at the ceiling."""
    base = income_minor or 0
    if floor_minor is not None:
        base = max(base, floor_minor)
    if ceiling_minor is not None:
        base = min(base, ceiling_minor)
    return base


def rate_total_minor(base_minor: int, rate_bp: int, per_year: int) -> int:
    """rate × monthly income × the months one due stands for (12 / dues a year), rounded half
    up to the minor unit — computed on integers, so exact whatever the season's length (a
    Decimal 12/7 would round before the total does). The SQL of dues generation
    (`coopreg.contributions.services`) computes the same, proven by a property test."""
    return half_up(base_minor * rate_bp * 12, BP * per_year)


def member_share_minor(total_minor: int, member_share_bp: int) -> int:
    """The member's part of a due, rounded half up; the cooperative pays the rest."""
    return half_up(total_minor * member_share_bp, BP)


def split_due(total_minor: int, member_share_bp: int,
              third_parties: Iterable[tuple[int | None, int | None]]) -> tuple[int, list[int], int]:
    """(the member's share, each third party's share, the cooperative's share) of a due of
    `total_minor`. The member's share is rounded half up (as ever); each third party in turn
    pays its percentage (rounded half up) or its fixed amount, but never more than what is
    left of the due; the cooperative pays the rest. So the shares are never negative and add
    up to the due to the minor unit, whatever the rounding. `third_parties`: (share_bp,
    fixed_minor) pairs, one of the two set. Dues generation computes the same in SQL."""
    member = member_share_minor(total_minor, member_share_bp)
    left = total_minor - member
    shares = []
    for share_bp, fixed_minor in third_parties:
        wanted = fixed_minor if fixed_minor is not None else half_up(total_minor * share_bp, BP)
        share = min(wanted, left)
        shares.append(share)
        left -= share
    return member, shares, left


def payers_of(terms: AgreementTerms) -> list[tuple[PayerKind, str | None, bool]]:
    """The payers of a set of terms in the order their shares are taken: (kind, name — None
    for the member and the cooperative —, whether the money passes through the
    cooperative)."""
    return ([(PayerKind.MEMBER, None, True)]
            + [(p.kind, p.name, p.through_cooperative) for p in terms.third_payers]
            + [(PayerKind.COOPERATIVE, None, True)])


@dataclass(frozen=True)
class Period:
    """One due of the schedule: the month it falls in, its dates, and the terms it follows."""

    month: date  # the first day of the month in which the due falls
    due_date: date
    grace_until: date
    remittance_deadline: date
    terms: AgreementTerms


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def periods_between(agreement: Agreement, start: date, end: date) -> list[Period]:
    """The dues of an agreement in the months from `start`'s month to `end`'s month, while
    the agreement is in force. A month follows the terms in force on its first day (or on
    the agreement's first day, when it starts in that month); the due date is the terms' due
    day (the month's last day if shorter), the grace period runs from it, and the remittance
    deadline counts from the end of the month."""
    periods: list[Period] = []
    month = start.replace(day=1)
    while month <= end:
        month_end = _month_end(month)
        if agreement.valid_from <= month_end and (agreement.valid_to is None
                                                  or month <= agreement.valid_to):
            terms = terms_on(agreement, max(month, agreement.valid_from))
            if terms is not None and month.month in schedule_months(terms):
                due = month.replace(day=min(terms.due_day, month_end.day))
                periods.append(Period(
                    month=month, due_date=due,
                    grace_until=due + timedelta(days=terms.grace_days),
                    remittance_deadline=month_end + timedelta(
                        days=terms.remittance_deadline_days),
                    terms=terms))
        month = month_end + timedelta(days=1)
    return periods


def due_months(agreement: Agreement, year: int) -> list[int]:
    """The month numbers of a year in which the agreement's dues fall."""
    return [p.month.month for p in periods_between(agreement, date(year, 1, 1),
                                                   date(year, 12, 31))]


def contribution_for(agreement: Agreement, member: Member,
                     period_date: date) -> tuple[Decimal, Decimal]:
    """(member share, cooperative share) of the due of the period containing `period_date`
    (the third parties' shares, if any, are in `due_shares_for`)."""
    currency = agreement.cooperative.currency
    _total, member_share, _thirds, cooperative_share = due_shares_for(agreement, member,
                                                                      period_date)
    return from_minor(member_share, currency), from_minor(cooperative_share, currency)


def due_shares_for(agreement: Agreement, member: Member, period_date: date
                   ) -> tuple[int, int, list[int], int]:
    """(the due's total, the member's share, each third party's share, the cooperative's
    share), in minor units, of the due of the period containing `period_date`.

    Flat rule: the amount per period. Rate rule: rate × the member's declared monthly income,
    raised to the floor and capped at the ceiling, × the months one due stands for
    (`months_covered`). The total is rounded half-up to the currency's minor unit and split
    by `split_due`, so the shares always add up to the total. Computed exactly on minor
    units, the same arithmetic as the SQL that generates dues in bulk. Scales: see
    `scale_shares`. A family surcharge (`families.surcharge_minor_for`) is added to the total
    and to the member's share."""
    month = period_date.replace(day=1)
    terms = terms_on(agreement, max(month, agreement.valid_from))
    if terms is None or _month_end(month) < agreement.valid_from or (
            agreement.valid_to is not None and month > agreement.valid_to):
        raise DomainError(_("The agreement has no terms in force on %(date)s.",
                            date=period_date.isoformat()))
    if terms.rule_kind in (RuleKind.SCALE, RuleKind.CATEGORY):
        total, member_share, thirds, cooperative_share = scale_shares(agreement, terms, member,
                                                                      month)
    else:
        total, member_share, thirds, cooperative_share = _rule_shares(terms, member)
    # the family surcharge: the member's own, beside the rule's split
    surcharge = families.surcharge_minor_for(agreement, member, month) if isinstance(
        member, Member) else 0
    return total + surcharge, member_share + surcharge, thirds, cooperative_share


def _rule_shares(terms: AgreementTerms, member: Member) -> tuple[int, int, list[int], int]:
    """A flat or rate rule's due and its split (`due_shares_for`, without the surcharge)."""
    if terms.rule_kind == RuleKind.FLAT:
        total = terms.flat_amount_minor
    else:
        income = member.declared_income_minor
        if income is None and terms.floor_minor is None:
            raise DomainError(_("Member %(number)s has no declared income.",
                                number=member.member_number))
        total = rate_total_minor(income_base_minor(income, terms.floor_minor,
                                                   terms.ceiling_minor),
                                 terms.rate_bp, dues_per_year(terms))
    member_share, thirds, cooperative_share = split_due(
        total, terms.member_share_bp, [(p.share_bp, p.fixed_minor) for p in terms.third_payers])
    return total, member_share, thirds, cooperative_share


def scale_row_for(terms: AgreementTerms, key: int | str | None) -> ScaleRow | None:
    """The row of a scale for an income (brackets: the last one starting at or below the
    income raised to the terms' floor and capped at their ceiling — the presumed income —,
    no income counting as 0) or a category's code (None when it is not on the scale)."""
    if terms.rule_kind == RuleKind.CATEGORY:
        return next((r for r in terms.scale_rows if r.code == key), None)
    base = income_base_minor(key, terms.floor_minor, terms.ceiling_minor)
    found = None
    for row in terms.scale_rows:  # by income_from
        if row.income_from_minor <= base:
            found = row
    return found


def scale_shares(agreement: Agreement, terms: AgreementTerms, member: Member, month: date
                 ) -> tuple[int, int, list[int], int]:
    """`due_shares_for` under a scale: the member's row for the month (their income in force
    on its first day, or their category placement), its amount or its rate of the income
    (floor and ceiling as the terms say), split by the row's shares or the terms'."""
    if terms.rule_kind == RuleKind.CATEGORY:
        code = category_on(agreement, member, month)
        row = scale_row_for(terms, code)
        if row is None:
            raise DomainError(_("Member %(number)s is in no category of the scale on "
                                "%(date)s.", number=member.member_number,
                                date=month.isoformat()))
        income = None
    else:
        income = income_on(member, month)
        if income is None and terms.floor_minor is None:
            raise DomainError(_("Member %(number)s has no declared income.",
                                number=member.member_number))
        row = scale_row_for(terms, income)
    if row.rate_bp is not None:
        total = rate_total_minor(income_base_minor(income, terms.floor_minor,
                                                   terms.ceiling_minor),
                                 row.rate_bp, dues_per_year(terms))
    else:
        total = row.amount_minor
    member_bp = terms.member_share_bp if row.member_share_bp is None else row.member_share_bp
    thirds_in = []
    for i, payer in enumerate(terms.third_payers):
        own = row.payer_share_bp(i)
        thirds_in.append((own, None) if own is not None else (payer.share_bp, payer.fixed_minor))
    member_share, thirds, cooperative_share = split_due(total, member_bp, thirds_in)
    return total, member_share, thirds, cooperative_share


def category_on(agreement: Agreement, member: Member, day: date) -> str | None:
    """The code of the category a member is placed in on a day (the latest placement in force),
    or None."""
    return db.session.scalar(
        select(CategoryPlacement.code)
        .where(CategoryPlacement.cooperative_id == agreement.cooperative_id,
               CategoryPlacement.agreement_id == agreement.id,
               CategoryPlacement.member_id == member.id,
               CategoryPlacement.effective_from <= day)
        .order_by(CategoryPlacement.effective_from.desc(), CategoryPlacement.id.desc())
        .limit(1))


def place_in_category(agreement: Agreement, member: Member, code: str | None,
                      effective_from: date | None, actor_id: int | None) -> CategoryPlacement:
    """Place a member in a category of the agreement's scale from a date (kept with the earlier
    placements: the periods before the date keep their category)."""
    if member.cooperative_id != agreement.cooperative_id:
        raise DomainError(_("This member is not of this cooperative."), field="member_number")
    if effective_from is None:
        raise DomainError(_("Give the date the category takes effect."),
                          field="effective_from")
    terms = terms_on(agreement, max(effective_from, agreement.valid_from)) or (
        agreement.terms[-1] if agreement.terms else None)
    if terms is None or terms.rule_kind != RuleKind.CATEGORY:
        raise DomainError(_("The agreement's terms have no categories on %(date)s.",
                            date=effective_from.isoformat()), field="code")
    wanted = (code or "").strip().casefold()
    row = next((r for r in terms.scale_rows if r.code.casefold() == wanted), None)
    if row is None:
        raise DomainError(_("Choose one of the scale's categories: %(codes)s.",
                            codes=", ".join(r.code for r in terms.scale_rows)), field="code")
    exists_already = db.session.scalar(
        select(func.count()).select_from(CategoryPlacement)
        .where(CategoryPlacement.cooperative_id == agreement.cooperative_id,
               CategoryPlacement.agreement_id == agreement.id,
               CategoryPlacement.member_id == member.id,
               CategoryPlacement.effective_from == effective_from))
    if exists_already:
        raise DomainError(_("The member already has a category from %(date)s: place them "
                            "from another date.", date=effective_from.isoformat()),
                          field="effective_from")
    placement = CategoryPlacement(cooperative_id=agreement.cooperative_id,
                                  agreement_id=agreement.id, member_id=member.id,
                                  code=row.code, effective_from=effective_from,
                                  recorded_by_id=actor_id, created_at=utcnow())
    db.session.add(placement)
    db.session.flush()
    return placement


def registered_member(agreement: Agreement, number: str | None) -> Member:
    """The member with this member number who has a registration under the agreement."""
    member = db.session.scalar(
        select(Member).join(Registration, Registration.member_id == Member.id)
        .where(Member.cooperative_id == agreement.cooperative_id,
               Registration.cooperative_id == agreement.cooperative_id,
               Registration.agreement_id == agreement.id,
               Member.member_number == (number or "").strip()))
    if member is None:
        raise DomainError(_("No member numbered %(number)s is registered under this "
                            "agreement.", number=(number or "").strip()),
                          field="member_number")
    return member


def category_placements(agreement: Agreement, limit: int = 50) -> list[tuple]:
    """The latest placements of an agreement (member, code, from), newest first."""
    return list(db.session.execute(
        select(Member, CategoryPlacement.code, CategoryPlacement.effective_from)
        .join(Member, Member.id == CategoryPlacement.member_id)
        .where(CategoryPlacement.cooperative_id == agreement.cooperative_id,
               Member.cooperative_id == agreement.cooperative_id,
               CategoryPlacement.agreement_id == agreement.id)
        .order_by(CategoryPlacement.id.desc()).limit(limit)))


# ---- registrations --------------------------------------------------------------------------

def _required_documents(agreement: Agreement) -> list[DocumentType]:
    return [t for t in agreement.required_documents if t.active]


def _problems(member: Member, cooperative: Cooperative, required: list[DocumentType],
              held: set[int]) -> list[str]:
    problems: list[str] = []
    if member.status != MemberStatus.ACTIVE:
        problems.append(_("The member is not active (%(status)s).", status=label(member.status)))
    if not member.id_number:
        problems.append(_("No national ID number is recorded."))
    else:
        id_type = member.id_type or id_types_for(cooperative.country,
                                                 cooperative.id_label)[0].code
        try:
            normalise_id(cooperative.country, id_type, member.id_number,
                         pattern=cooperative.id_pattern, local_label=cooperative.id_label)
        except DomainError as error:
            problems.append(_("The national ID is not valid: %(reason)s",
                              reason=error.message))
    if not member.consent_given:
        problems.append(_("Consent to share data with the institution is not recorded."))
    for document in required:
        if document.id not in held:
            problems.append(_("Document missing: %(name)s.", name=document.name))
    return problems


def readiness_problems(registration: Registration) -> list[str]:
    """What stops a registration from being `ready`: the member's national ID present and
    valid for the cooperative's country, consent to share data recorded, and every document
    the agreement requires held. Empty when ready can be reached."""
    member = registration.member
    agreement = registration.agreement
    held = {d.document_type_id for d in member.documents}
    return _problems(member, agreement.cooperative, _required_documents(agreement), held)


def readiness_problems_many(registrations: list[Registration]) -> dict[int, list[str]]:
    """`readiness_problems` for a page of registrations of one agreement, in two queries."""
    if not registrations:
        return {}
    agreement = registrations[0].agreement
    required = _required_documents(agreement)
    member_ids = [r.member_id for r in registrations]
    held: dict[int, set[int]] = {}
    for member_id, type_id in db.session.execute(select(
            MemberDocument.member_id, MemberDocument.document_type_id).where(
            MemberDocument.cooperative_id == agreement.cooperative_id,
            MemberDocument.member_id.in_(member_ids))):
        held.setdefault(member_id, set()).add(type_id)
    return {r.id: _problems(r.member, agreement.cooperative, required,
                            held.get(r.member_id, set())) for r in registrations}


# The reasons the application gives in a registration's history, kept as codes (said in the
# reader's language); a reason a person typed is kept as they typed it.
ENROLLED = sentence("registrations.enrolled", lambda p: _("Enrolled"))
ENROLLED_AGAIN = sentence("registrations.enrolled_again", lambda p: _("Enrolled again"))
def _say_registered(p: dict) -> str:
    try:
        when = format_date(date.fromisoformat(p["date"]))
    except (TypeError, ValueError):
        when = p.get("date")
    return _("Registered as %(number)s from %(date)s", number=p.get("number"), date=when)


REGISTERED_AS = sentence("registrations.registered_as", _say_registered)


def reason_columns(reason: str | dict | None) -> dict[str, Any]:
    """The history row's reason columns for a typed reason or a kept sentence."""
    if is_kept(reason):
        return {"reason": None, "reason_code": reason["code"],
                "reason_params": dict(reason.get("params") or {})}
    return {"reason": reason, "reason_code": None, "reason_params": None}


def _event(registration: Registration, from_status: RegistrationStatus | None,
           to_status: RegistrationStatus, reason: str | dict | None,
           actor_id: int | None) -> RegistrationEvent:
    event = RegistrationEvent(cooperative_id=registration.cooperative_id,
                              registration_id=registration.id, from_status=from_status,
                              to_status=to_status, actor_id=actor_id, occurred_at=utcnow(),
                              **reason_columns(reason))
    db.session.add(event)
    return event


def _check_enrolment(agreement: Agreement, member: Member, today: date) -> None:
    if member.cooperative_id != agreement.cooperative_id:
        raise DomainError(_("The member is not in this cooperative."))
    if member.status != MemberStatus.ACTIVE:
        raise DomainError(_("Only active members can be enrolled (%(name)s is %(status)s).",
                            name=member.full_name, status=label(member.status)))
    if agreement.valid_to is not None and agreement.valid_to < today:
        raise DomainError(_("Agreement %(ref)s ended on %(date)s.", ref=agreement.reference,
                            date=agreement.valid_to.isoformat()))


# Areas above that know of registrations outside this cooperative (the federations: another
# cooperative of the same federation) answer here: name → check(agreement, member ids) → the
# ids among them registered or being registered with the same institution elsewhere.
REGISTERED_ELSEWHERE: dict[str, Callable[[Agreement, list[int]], set[int]]] = {}


def registered_elsewhere(agreement: Agreement, member_ids: Iterable[int]) -> set[int]:
    """The members (of the agreement's cooperative) whose national ID is registered or being
    registered with the agreement's institution outside the cooperative: a warning for the
    secretary, never a refusal (the person may have moved)."""
    ids = sorted({int(i) for i in member_ids})
    found: set[int] = set()
    for check in REGISTERED_ELSEWHERE.values():
        found |= check(agreement, ids)
    return found


def enrol_member(agreement: Agreement, member: Member, actor_id: int | None,
                 today: date | None = None) -> Registration:
    """Enrol an active member in an agreement: a `pending` registration (one per member and
    agreement; a terminated one starts over as pending)."""
    today = today or date.today()
    _check_enrolment(agreement, member, today)
    existing = db.session.scalar(select(Registration).where(
        Registration.cooperative_id == agreement.cooperative_id,
        Registration.member_id == member.id, Registration.agreement_id == agreement.id))
    if existing is not None:
        if existing.status != S.TERMINATED:
            raise DomainError(_("%(name)s is already enrolled in %(ref)s (%(status)s).",
                                name=member.full_name, ref=agreement.reference,
                                status=label(existing.status)))
        transition_registration(existing, S.PENDING, actor_id, reason=kept(ENROLLED_AGAIN))
        return existing
    registration = Registration(cooperative_id=agreement.cooperative_id, member_id=member.id,
                                agreement_id=agreement.id, status=S.PENDING,
                                status_changed_at=utcnow())
    db.session.add(registration)
    db.session.flush()
    _event(registration, None, S.PENDING, kept(ENROLLED), actor_id)
    db.session.flush()
    return registration


@dataclass
class BulkResult:
    """What a bulk action did: the registrations it changed and the members it refused,
    each with the reasons."""

    done: list[Registration] = field(default_factory=list)
    refused: list[tuple[Member, list[str]]] = field(default_factory=list)


def enrol_members(agreement: Agreement, member_ids: Iterable[int], actor_id: int | None,
                  today: date | None = None) -> BulkResult:
    """Enrol many members; those who cannot be enrolled are reported, the rest proceed."""
    today = today or date.today()
    result = BulkResult()
    ids = sorted({int(i) for i in member_ids})
    if agreement.valid_to is not None and agreement.valid_to < today:
        raise DomainError(_("Agreement %(ref)s ended on %(date)s.", ref=agreement.reference,
                            date=agreement.valid_to.isoformat()))
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        members = db.session.scalars(select(Member).where(
            Member.cooperative_id == agreement.cooperative_id, Member.id.in_(chunk))
            .order_by(Member.search_name, Member.id)).all()
        existing = {r.member_id: r for r in db.session.scalars(select(Registration).where(
            Registration.cooperative_id == agreement.cooperative_id,
            Registration.agreement_id == agreement.id, Registration.member_id.in_(chunk)))}
        fresh: list[Registration] = []
        for member in members:
            try:
                _check_enrolment(agreement, member, today)
                current = existing.get(member.id)
                if current is not None and current.status != S.TERMINATED:
                    raise DomainError(_("Already enrolled (%(status)s).",
                                        status=label(current.status)))
            except DomainError as error:
                result.refused.append((member, [error.message]))
                continue
            if current is not None:
                transition_registration(current, S.PENDING, actor_id,
                                        reason=kept(ENROLLED_AGAIN))
                result.done.append(current)
                continue
            registration = Registration(cooperative_id=agreement.cooperative_id,
                                        member_id=member.id, agreement_id=agreement.id,
                                        status=S.PENDING, status_changed_at=utcnow())
            db.session.add(registration)
            fresh.append(registration)
        db.session.flush()
        for registration in fresh:
            _event(registration, None, S.PENDING, kept(ENROLLED), actor_id)
        result.done.extend(fresh)
        db.session.flush()
    return result


def _check_institution_number(registration: Registration, number: str | None) -> str:
    agreement = registration.agreement
    number = (number or "").strip()
    if not number:
        raise DomainError(_("Give the member number the institution assigned."),
                          field="institution_member_number")
    if len(number) > 40:
        raise DomainError(_("The institution's member number is too long."),
                          field="institution_member_number")
    pattern = agreement.member_number_pattern
    if pattern and not re.fullmatch(pattern, number):
        raise DomainError(_("“%(number)s” is not in the form %(institution)s uses for member "
                            "numbers (%(pattern)s).", number=number,
                            institution=agreement.institution.short_name, pattern=pattern),
                          field="institution_member_number")
    other = db.session.scalar(select(Registration).where(
        Registration.cooperative_id == agreement.cooperative_id,
        Registration.agreement_id == agreement.id,
        Registration.institution_member_number == number,
        Registration.id != registration.id))
    if other is not None:
        raise DomainError(_("Number %(number)s already belongs to %(name)s in this "
                            "agreement.", number=number, name=other.member.full_name),
                          field="institution_member_number")
    return number


def transition_registration(registration: Registration, to_status: RegistrationStatus | str,
                            actor_id: int | None, *, reason: str | None = None,
                            institution_number: str | None = None,
                            coverage_start: date | None = None,
                            rejection_reason: str | None = None,
                            today: date | None = None) -> RegistrationEvent:
    """Move a registration to another status, recording who, when and why. Only the changes
    of `REGISTRATION_TRANSITIONS` are allowed. `ready` needs `readiness_problems` to be empty;
    `registered` (from submitted) needs the institution's member number, matching the
    agreement's pattern, and the coverage start date; `rejected` needs the institution's
    reason; suspending, terminating and going back to pending need a reason."""
    today = today or date.today()
    to_status = choice(RegistrationStatus, to_status, "to_status", _("Status"))
    current = registration.status
    REGISTRATION_LIFECYCLE.check(current, to_status, field="to_status")
    if not is_kept(reason):
        reason = _text(reason, 300, "reason", _("The reason"), required=False)
    if to_status == S.READY:
        problems = readiness_problems(registration)
        if problems:
            raise DomainError(_("Not ready yet: %(problems)s",
                                problems=" ".join(problems)), field="to_status")
    elif to_status == S.REGISTERED and current == S.SUBMITTED:
        number = _check_institution_number(registration, institution_number)
        if coverage_start is None:
            raise DomainError(_("Give the date coverage starts."), field="coverage_start")
        registration.institution_member_number = number
        registration.coverage_start = coverage_start
        registration.coverage_end = None
        reason = reason or kept(REGISTERED_AS, number=number,
                                date=coverage_start.isoformat())
    elif to_status == S.REJECTED:
        rejection_reason = _text(rejection_reason, 300, "rejection_reason",
                                 _("The institution's reason"))
        registration.rejection_reason = rejection_reason
        reason = reason or rejection_reason
    elif to_status in (S.SUSPENDED, S.TERMINATED) or (to_status == S.PENDING
                                                      and current == S.READY):
        if not reason:
            raise DomainError(_("Give the reason."), field="reason")
    elif to_status == S.PENDING and current == S.TERMINATED:
        _check_enrolment(registration.agreement, registration.member, today)
    if current == S.REJECTED:
        registration.rejection_reason = None  # kept in the history
    if to_status == S.TERMINATED:
        if registration.coverage_start is not None:
            registration.coverage_end = today
        registration.exit_flagged = False
    if to_status == S.PENDING and current == S.TERMINATED:
        registration.coverage_start = None
        registration.coverage_end = None
        registration.exit_flagged = False
        registration.exit_flag_reason = None
        registration.exit_flagged_on = None
    REGISTRATION_LIFECYCLE.move(registration, to_status, field="to_status")
    registration.status_changed_at = utcnow()
    event = _event(registration, current, to_status, reason, actor_id)
    db.session.flush()
    if to_status == S.TERMINATED:
        families.end_with_members(registration.cooperative_id, [registration.id])
    registration_moved.send(registration, from_status=current, to_status=to_status)
    return event


BULK_MOVES = {S.SUBMITTED, S.TERMINATED}


def transition_many(registration_ids: Iterable[int], to_status: RegistrationStatus,
                    actor_id: int | None, reason: str | dict, today: date | None = None, *,
                    cooperative_id: int) -> int:
    """The bulk form of `transition_registration` for the moves a sealed batch makes (ready →
    submitted, and exits → terminated) on thousands of registrations at once: the same table of
    allowed transitions, the same history rows and audit events, in a few set-based statements
    instead of one flush per registration. Refuses the whole set if any one cannot move, or is
    not of `cooperative_id`."""
    from coopreg.core.audit import record_bulk

    to_status = RegistrationStatus(to_status)
    if to_status not in BULK_MOVES:
        raise ValueError(f"bulk moves go to {sorted(BULK_MOVES)}, not {to_status}")
    today = today or date.today()
    ids = sorted({int(i) for i in registration_ids})
    db.session.flush()
    table = Registration.__table__
    events_table = RegistrationEvent.__table__
    now = utcnow()
    moved = 0
    for start in range(0, len(ids), 2000):
        chunk = ids[start:start + 2000]
        rows = db.session.execute(select(
            table.c.id, table.c.cooperative_id, table.c.status, table.c.coverage_start,
            table.c.coverage_end, table.c.exit_flagged).where(
            table.c.cooperative_id == cooperative_id, table.c.id.in_(chunk))).all()
        if len(rows) != len(chunk):
            raise DomainError(_("Some registrations of the batch no longer exist."))
        audit_rows, events = [], []
        for row in rows:
            current = RegistrationStatus(row.status)
            REGISTRATION_LIFECYCLE.check(current, to_status)
            changes = {"status": {"before": current.value, "after": to_status.value}}
            if to_status == S.TERMINATED:
                if row.coverage_start is not None and row.coverage_end != today:
                    changes["coverage_end"] = {"before": _iso(row.coverage_end),
                                               "after": today.isoformat()}
                if row.exit_flagged:
                    changes["exit_flagged"] = {"before": True, "after": False}
            audit_rows.append({"id": row.id, "cooperative_id": row.cooperative_id,
                               "changes": changes})
            events.append({"cooperative_id": row.cooperative_id, "registration_id": row.id,
                           "from_status": current.value, "to_status": to_status.value,
                           **reason_columns(reason), "actor_id": actor_id,
                           "occurred_at": now})
        values: dict = {"status": to_status.value, "status_changed_at": now, "updated_at": now}
        if to_status == S.TERMINATED:
            values["coverage_end"] = case((table.c.coverage_start.is_not(None), today),
                                          else_=table.c.coverage_end)
            values["exit_flagged"] = False
        db.session.execute(table.update().where(table.c.id.in_(chunk)).values(**values))
        inserted = db.session.execute(events_table.insert().returning(events_table.c.id),
                                      events).scalars().all()
        record_bulk(Registration, "update", audit_rows)
        record_bulk(RegistrationEvent, "create",
                    [{**event, "id": event_id} for event, event_id in zip(events, inserted,
                                                                           strict=True)])
        moved += len(rows)
        if to_status == S.TERMINATED:
            families.end_with_members(cooperative_id, chunk)
    # the session may hold these registrations: let it read them again
    moved_ids = set(ids)
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Registration) and obj.id in moved_ids:
            db.session.expire(obj)
    return moved


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def mark_ready_many(agreement: Agreement, registration_ids: Iterable[int],
                    actor_id: int | None) -> BulkResult:
    """Mark many registrations ready: those failing the readiness gate (or not in a status
    that can become ready) are reported with their reasons, the rest proceed."""
    result = BulkResult()
    ids = sorted({int(i) for i in registration_ids})
    for start in range(0, len(ids), 500):
        registrations = db.session.scalars(
            select(Registration).join(Member, Registration.member_id == Member.id)
            .where(Registration.agreement_id == agreement.id,
                   Registration.cooperative_id == agreement.cooperative_id,
                   Registration.id.in_(ids[start:start + 500]))
            .options(selectinload(Registration.member))
            .order_by(Member.search_name, Member.id)).all()
        problems = readiness_problems_many(registrations)
        for registration in registrations:
            if not REGISTRATION_LIFECYCLE.can(registration.status, S.READY):
                reasons = [_("It is %(status)s.", status=label(registration.status))]
            else:
                reasons = problems[registration.id]
            if reasons:
                result.refused.append((registration.member, reasons))
                continue
            transition_registration(registration, S.READY, actor_id)
            result.done.append(registration)
    return result


@member_left.connect
def _flag_for_exit_when_member_leaves(member: Member, reason: str, on: date) -> None:
    flag_registrations_for_exit(member, reason, on)


def flag_registrations_for_exit(member: Member, reason: str, on: date) -> int:
    """A member left or died: every registration still open with an institution is flagged,
    so the secretary sends the exit. Returns how many were flagged."""
    registrations = db.session.scalars(select(Registration).where(
        Registration.cooperative_id == member.cooperative_id, Registration.member_id == member.id,
        Registration.status.in_([s for s in RegistrationStatus if s in ACTIVE_STATUSES]))).all()
    for registration in registrations:
        registration.exit_flagged = True
        registration.exit_flag_reason = (reason or "")[:300] or None
        registration.exit_flagged_on = on
    db.session.flush()
    return len(registrations)


# ---- lists for the pages --------------------------------------------------------------------

def funnel(agreement: Agreement, filters: dict | None = None) -> dict[str, int]:
    """How many registrations of the agreement are in each status, how many are flagged for
    exit, and how many active members are not enrolled at all — among the members the
    campaign page's filters keep (search, sector, sex, locality), so each figure is the
    number of rows of the list it opens with those filters."""
    filters = {k: v for k, v in (filters or {}).items() if v}
    if not filters:
        return register_counts(agreement)

    def of_agreement(stmt):
        stmt = stmt.where(Registration.cooperative_id == agreement.cooperative_id,
                          Registration.agreement_id == agreement.id)
        if filters:
            stmt = _member_filters(stmt.join(Member, Member.id == Registration.member_id),
                                   filters)
        return stmt

    # one pass over the agreement's registrations gives the statuses and the flagged ones
    counts = {s.value: 0 for s in RegistrationStatus}
    counts["flagged"] = 0
    flagged = func.coalesce(func.sum(case((Registration.exit_flagged.is_(True), 1), else_=0)),
                            0)
    for status, n, n_flagged in db.session.execute(of_agreement(
            select(Registration.status, func.count(), flagged).select_from(Registration))
            .group_by(Registration.status)):
        counts[status.value] = n
        counts["flagged"] += int(n_flagged)
    counts["not_enrolled"] = not_enrolled_count(agreement, filters)
    return counts


def register_counts(agreement: Agreement) -> dict[str, int]:
    """The unfiltered funnel from the counters the database keeps (`RegistrationCount`,
    `MemberCount`, migration 0027): a few rows whatever the size of the register. Not
    enrolled = active members − registrations of the agreement held by active members."""
    counts = {s.value: 0 for s in RegistrationStatus}
    counts["flagged"] = 0
    enrolled_active = 0
    for status, member_status, n, flagged in db.session.execute(
            select(RegistrationCount.status, RegistrationCount.member_status,
                   RegistrationCount.n, RegistrationCount.flagged)
            .where(RegistrationCount.cooperative_id == agreement.cooperative_id,
                   RegistrationCount.agreement_id == agreement.id)):
        counts[status] = counts.get(status, 0) + n
        counts["flagged"] += flagged
        if member_status == MemberStatus.ACTIVE.value:
            enrolled_active += n
    counts["not_enrolled"] = active_members(agreement.cooperative_id) - enrolled_active
    return counts


def active_members(cooperative_id: int) -> int:
    """How many active members the cooperative holds, from `MemberCount` (one row)."""
    return db.session.scalar(select(MemberCount.n).where(
        MemberCount.cooperative_id == cooperative_id,
        MemberCount.status == MemberStatus.ACTIVE.value)) or 0


def registrations_by_status(cooperative_id: int) -> dict[int, dict[str, int]]:
    """agreement id → status → how many registrations, for every agreement of the
    cooperative, from `RegistrationCount` (a few rows per agreement)."""
    counts: dict[int, dict[str, int]] = {}
    for agreement_id, status, n in db.session.execute(
            select(RegistrationCount.agreement_id, RegistrationCount.status,
                   func.sum(RegistrationCount.n))
            .where(RegistrationCount.cooperative_id == cooperative_id)
            .group_by(RegistrationCount.agreement_id, RegistrationCount.status)):
        if n:
            counts.setdefault(agreement_id, {})[status] = int(n)
    return counts


def registrations_in(cooperative_id: int, status: RegistrationStatus) -> int:
    """How many of the cooperative's registrations are in a status (every agreement), from
    `RegistrationCount`."""
    return int(db.session.scalar(select(func.sum(RegistrationCount.n)).where(
        RegistrationCount.cooperative_id == cooperative_id,
        RegistrationCount.status == RegistrationStatus(status).value)) or 0)


def not_enrolled_count(agreement: Agreement, filters: dict | None = None) -> int:
    """How many active members matching the filters hold no registration in the agreement:
    a count straight over the anti-join (the registrations' unique (member, agreement) index
    answers each probe), no member row is loaded."""
    filters = {k: v for k, v in (filters or {}).items() if v}
    if not filters:
        return register_counts(agreement)["not_enrolled"]
    stmt = _not_enrolled(agreement, filters).with_only_columns(func.count())
    return db.session.scalar(stmt) or 0


def _member_filters(stmt, filters: dict):
    condition = search_condition(filters.get("q", ""), bool(filters.get("whole_ids")))
    if condition is not None:
        stmt = stmt.where(condition)
    if filters.get("sector") in Sector._value2member_map_:
        stmt = stmt.where(Member.sector == Sector(filters["sector"]))
    if filters.get("sex") in Sex._value2member_map_:
        stmt = stmt.where(Member.sex == Sex(filters["sex"]))
    if filters.get("locality"):
        stmt = stmt.where(Member.locality_key == fold(filters["locality"]))
    return stmt


def _not_enrolled(agreement: Agreement, filters: dict):
    enrolled = exists().where(Registration.member_id == Member.id,
                              Registration.agreement_id == agreement.id)
    stmt = select(Member).where(Member.cooperative_id == agreement.cooperative_id,
                                Member.status == MemberStatus.ACTIVE, ~enrolled)
    return _member_filters(stmt, filters)


def not_enrolled_ids(agreement: Agreement, filters: dict) -> list[int]:
    """Every active member matching the filters who has no registration in the agreement."""
    stmt = _not_enrolled(agreement, filters).with_only_columns(Member.id)
    return list(db.session.scalars(stmt))


# name and number: the members' (cooperative_id, search_name | number_key, id) indexes
NOT_ENROLLED_SORTS = Sorts({"name": Member.search_name, "number": Member.number_key},
                           default="name", tiebreak=Member.id)
REGISTRATION_SORTS = Sorts({"name": Member.search_name, "number": Member.number_key},
                           default="name", tiebreak=Registration.id)


def not_enrolled_page(agreement: Agreement, filters: dict, after: str | None = None,
                      per_page: int = 100, order: Sorted | None = None
                      ) -> tuple[list[Member], str | None]:
    """One page of the active members not enrolled, by name or as chosen (keyset-paginated)."""
    return NOT_ENROLLED_SORTS.page(_not_enrolled(agreement, filters),
                                   order or NOT_ENROLLED_SORTS.default, after, per_page)


def registrations_page(agreement: Agreement, status: str, filters: dict,
                       after: str | None = None, per_page: int = 100,
                       order: Sorted | None = None) -> tuple[list[Registration], str | None]:
    """One page of the agreement's registrations in a status (or `flagged` for exit), by
    member name or as chosen (keyset-paginated)."""
    stmt = (select(Registration).join(Member, Registration.member_id == Member.id)
            .where(Registration.cooperative_id == agreement.cooperative_id,
                   Registration.agreement_id == agreement.id))
    if status == "flagged":
        stmt = stmt.where(Registration.exit_flagged.is_(True))
    else:
        stmt = stmt.where(Registration.status == RegistrationStatus(status))
    stmt = _member_filters(stmt, filters).options(selectinload(Registration.member))
    return REGISTRATION_SORTS.page(stmt, order or REGISTRATION_SORTS.default, after, per_page)


def member_registrations(member: Member) -> list[Registration]:
    """A member's registrations, newest agreement first, with what they hang on loaded."""
    return list(db.session.scalars(
        select(Registration).where(Registration.cooperative_id == member.cooperative_id,
                                   Registration.member_id == member.id)
        .options(selectinload(Registration.agreement).selectinload(Agreement.institution))
        .order_by(Registration.id.desc())))


def enrollable_agreements(member: Member, today: date | None = None) -> list[Agreement]:
    """Agreements still running in which the member has no open registration."""
    today = today or date.today()
    open_registration = exists().where(Registration.agreement_id == Agreement.id,
                                       Registration.member_id == member.id,
                                       Registration.status != S.TERMINATED)
    return list(db.session.scalars(select(Agreement).where(
        Agreement.cooperative_id == member.cooperative_id,
        or_(Agreement.valid_to.is_(None), Agreement.valid_to >= today),
        ~open_registration).order_by(Agreement.reference)))


# a cooperative holds a handful of agreements: every order is a sort of those few rows
AGREEMENT_SORTS = Sorts({"reference": Agreement.reference, "valid": Agreement.valid_from,
                         "institution": Institution.short_name},
                        default="valid", default_descending=True, tiebreak=Agreement.id,
                        descending_first=("valid",))


def agreements_of(cooperative_id: int, order: Sorted | None = None) -> list[Agreement]:
    """A cooperative's agreements, the newest first or in the order chosen on the list."""
    stmt = (select(Agreement).join(Agreement.institution)
            .where(Agreement.cooperative_id == cooperative_id)
            .options(selectinload(Agreement.institution)))
    if order is None:
        return list(db.session.scalars(stmt.order_by(Agreement.valid_from.desc(),
                                                     Agreement.reference)))
    return list(db.session.scalars(AGREEMENT_SORTS.apply(stmt, order)))


def covered_branches(registration: Registration) -> list[Branch]:
    """The branches a registration covers the member for (registered ones only)."""
    if registration.status != S.REGISTERED:
        return []
    return registration.agreement.branches
