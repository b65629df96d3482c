"""Families: which dependants a scheme covers through a member (`FamilyRule`), their
registrations carried by the member's (`DependantRegistration`, moved through
`DEPENDANT_LIFECYCLE`: one at a time here, or set-based when the member's batch is sealed or
answered), and where members are covered outside the cooperative (`OutsideCoverage`).

The surcharge a rule names is kept and shown; the dues it gives are the dues engine's."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from coopreg.agreements.models import (
    DEPENDANT_LIFECYCLE,
    Agreement,
    AgreementScheme,
    Branch,
    DependantRegistration,
    DependantStatus,
    FamilyRule,
    OutsideCoverage,
    OutsideSource,
    Registration,
    RegistrationStatus,
    Scheme,
)
from coopreg.cooperatives.models import Cooperative
from coopreg.core.audit import record_bulk
from coopreg.core.errors import DomainError
from coopreg.core.labels import label
from coopreg.core.models import utcnow
from coopreg.core.money import parse_amount, to_minor
from coopreg.core.validation import choice
from coopreg.extensions import db
from coopreg.members.models import Dependant, DependantRelation, Member
from coopreg.members.signals import dependant_removing

DS = DependantStatus
# the ages a rule may name (a dependant older than any of them is nobody's child any more)
MAX_AGE_LIMIT = 120


def age_on(born: date, day: date) -> int:
    """Whole years between a birth date and a day (a 29 February birthday counts on 1 March
    in other years)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


# ---- the rules ---------------------------------------------------------------------------------

def _age(value, field: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise DomainError(_("Give the age in whole years."), field=field) from None
    if not 0 <= number <= MAX_AGE_LIMIT:
        raise DomainError(_("An age is between 0 and %(max)d years.", max=MAX_AGE_LIMIT),
                          field=field)
    return number


def set_family_rule(scheme: Scheme, relation: str, *, max_age=None, student_max_age=None,
                    disabled_any_age: bool = False, surcharge: str | None = None
                    ) -> FamilyRule:
    """Say which dependants of one relation the scheme covers and at what cost (one rule per
    scheme and relation: a second one for the same relation changes the first, audited).
    A student age limit is above the general one; the surcharge (as typed, in the
    cooperative's currency) is not negative (none or 0: free)."""
    surcharge_minor = None
    if surcharge not in (None, ""):
        currency = db.session.get(Cooperative, scheme.cooperative_id).currency
        try:
            surcharge_minor = to_minor(parse_amount(surcharge, currency), currency)
        except DomainError as error:
            raise DomainError(error.message, field="surcharge") from None
    relation_value = choice(DependantRelation, relation, "relation", _("Relationship"))
    max_age = _age(max_age, "max_age")
    student_max_age = _age(student_max_age, "student_max_age")
    if student_max_age is not None and max_age is not None and student_max_age <= max_age:
        raise DomainError(_("The age limit for students is above the general one (%(age)d).",
                            age=max_age), field="student_max_age")
    if surcharge_minor is not None and surcharge_minor < 0:
        raise DomainError(_("A surcharge is not negative."), field="surcharge")
    rule = db.session.scalar(select(FamilyRule).where(
        FamilyRule.cooperative_id == scheme.cooperative_id, FamilyRule.scheme_id == scheme.id,
        FamilyRule.relation == relation_value))
    if rule is None:
        rule = FamilyRule(cooperative_id=scheme.cooperative_id, scheme_id=scheme.id,
                          relation=relation_value)
        db.session.add(rule)
    rule.max_age = max_age
    rule.student_max_age = student_max_age
    rule.disabled_any_age = bool(disabled_any_age)
    rule.surcharge_minor = surcharge_minor or None
    db.session.flush()
    return rule


def remove_family_rule(rule: FamilyRule) -> None:
    """The scheme no longer covers that relation (dependants already registered keep their
    registration; the audit log keeps the rule)."""
    db.session.delete(rule)
    db.session.flush()


def family_rules(cooperative_id: int, scheme_ids: Iterable[int]) -> list[FamilyRule]:
    ids = list(scheme_ids)
    if not ids:
        return []
    return list(db.session.scalars(select(FamilyRule).where(
        FamilyRule.cooperative_id == cooperative_id, FamilyRule.scheme_id.in_(ids))
        .order_by(FamilyRule.scheme_id, FamilyRule.relation)))


def rule_text(rule: FamilyRule) -> str:
    """The rule in one sentence: who, up to which age, and whether it is free."""
    if rule.max_age is None:
        ages = _("at any age")
    else:
        ages = _("up to %(age)d years", age=rule.max_age)
        if rule.student_max_age is not None:
            ages += ", " + _("%(age)d while studying", age=rule.student_max_age)
        if rule.disabled_any_age:
            ages += ", " + _("any age with a disability")
    return ages


# ---- eligibility -----------------------------------------------------------------------------

def eligibility_problem(dependant: Dependant, agreement: Agreement,
                        today: date | None = None) -> str | None:
    """Why a dependant cannot be covered under the agreement (None when some scheme of it
    covers them): the relation is covered by none of its schemes, or the dependant is older
    than every scheme's limit for them (a student and a disabled dependant go by their own
    limits)."""
    today = today or date.today()
    scheme_ids = [link.scheme_id for link in agreement.scheme_links]
    rules = [r for r in family_rules(agreement.cooperative_id, scheme_ids)
             if r.relation == dependant.relation]
    relation = label(dependant.relation)
    if not rules:
        return _("%(ref)s covers no dependant of this relation (%(relation)s).",
                 ref=agreement.reference, relation=relation)
    if dependant.date_of_birth is None:
        if any(r.max_age is None for r in rules):
            return None
        return _("Record %(name)s's date of birth: %(ref)s covers a %(relation)s up to an "
                 "age.", name=dependant.name, ref=agreement.reference, relation=relation)
    age = age_on(dependant.date_of_birth, today)
    for rule in rules:
        if rule.max_age is None or age <= rule.max_age:
            return None
        if dependant.student and rule.student_max_age is not None \
                and age <= rule.student_max_age:
            return None
        if dependant.disabled and rule.disabled_any_age:
            return None
    return _("%(name)s is %(age)d: %(ref)s covers a %(relation)s %(rule)s.",
             name=dependant.name, age=age, ref=agreement.reference, relation=relation,
             rule="; ".join(rule_text(r) for r in rules))


# ---- dependants' registrations -----------------------------------------------------------------

def enrol_dependant(registration: Registration, dependant: Dependant,
                    today: date | None = None) -> DependantRegistration:
    """Enrol one of the member's dependants with the member's registration: `enrolled`, sent
    with the member's next enrolment batch. Refused for another member's dependant, a
    registration that has ended, a dependant the agreement does not cover (the reason says
    why), or one already enrolled; a rejected or terminated one is enrolled again."""
    if dependant.member_id != registration.member_id \
            or dependant.cooperative_id != registration.cooperative_id:
        raise DomainError(_("%(name)s is not a dependant of this member.", name=dependant.name))
    if registration.status == RegistrationStatus.TERMINATED:
        raise DomainError(_("The member's registration has ended: enrol the member again "
                            "first."))
    problem = eligibility_problem(dependant, registration.agreement, today)
    if problem:
        raise DomainError(problem)
    existing = db.session.scalar(select(DependantRegistration).where(
        DependantRegistration.cooperative_id == registration.cooperative_id,
        DependantRegistration.registration_id == registration.id,
        DependantRegistration.dependant_id == dependant.id))
    if existing is not None:
        if existing.status not in (DS.REJECTED, DS.TERMINATED):
            raise DomainError(_("%(name)s is already enrolled (%(status)s).",
                                name=dependant.name, status=label(existing.status)))
        transition_dependant(existing, DS.ENROLLED)
        return existing
    enrolled = DependantRegistration(cooperative_id=registration.cooperative_id,
                                     registration_id=registration.id,
                                     dependant_id=dependant.id, status=DS.ENROLLED,
                                     status_changed_at=utcnow())
    db.session.add(enrolled)
    db.session.flush()
    return enrolled


def transition_dependant(dependant_registration: DependantRegistration,
                         to_status: DependantStatus | str, *,
                         institution_number: str | None = None,
                         coverage_start: date | None = None,
                         rejection_reason: str | None = None) -> DependantRegistration:
    """Move one dependant's registration (audited); `rejected` needs the reason."""
    to_status = choice(DependantStatus, to_status, "to_status", _("Status"))
    current = dependant_registration.status
    DEPENDANT_LIFECYCLE.check(current, to_status, field="to_status")
    if to_status == DS.REJECTED:
        if not (rejection_reason or "").strip():
            raise DomainError(_("Give the institution's reason."), field="rejection_reason")
        dependant_registration.rejection_reason = rejection_reason.strip()[:300]
    elif to_status == DS.REGISTERED:
        dependant_registration.institution_number = (institution_number or "").strip()[:40] \
            or None
        dependant_registration.coverage_start = coverage_start
    elif to_status == DS.ENROLLED:
        dependant_registration.rejection_reason = None
        dependant_registration.batch_id = None
    DEPENDANT_LIFECYCLE.move(dependant_registration, to_status, field="to_status")
    dependant_registration.status_changed_at = utcnow()
    db.session.flush()
    return dependant_registration


def _move_many(rows: list[DependantRegistration | tuple], target: DependantStatus,
               values: dict) -> int:
    """Set-based move of dependants' registrations, each checked against the lifecycle, with
    one audit event each (`rows`: (id, cooperative_id, status) tuples)."""
    if not rows:
        return 0
    audit_rows = []
    for row_id, cooperative_id, status in rows:
        current = DependantStatus(status)
        DEPENDANT_LIFECYCLE.check(current, target)
        changes = {"status": {"before": current.value, "after": target.value}}
        for key, value in values.items():
            if not hasattr(value, "compile"):
                changes[key] = {"before": None,
                                "after": value.isoformat() if isinstance(value, date)
                                else value}
        audit_rows.append({"id": row_id, "cooperative_id": cooperative_id, "changes": changes})
    table = DependantRegistration.__table__
    now = utcnow()
    ids = [r[0] for r in rows]
    for start in range(0, len(ids), 2000):
        db.session.execute(table.update().where(table.c.id.in_(ids[start:start + 2000]))
                           .values(status=target.value, status_changed_at=now,
                                   updated_at=now, **values))
    record_bulk(DependantRegistration, "update", audit_rows)
    moved = set(ids)
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, DependantRegistration) and obj.id in moved:
            db.session.expire(obj)
    return len(rows)


def dependants_to_send(cooperative_id: int, registration_ids: list[int]) -> dict[int, list]:
    """The enrolled dependants of each registration, by registration id: (dependant
    registration, dependant) pairs in the order they were recorded."""
    found: dict[int, list] = {}
    for start in range(0, len(registration_ids), 2000):
        chunk = registration_ids[start:start + 2000]
        for enrolled, dependant in db.session.execute(
                select(DependantRegistration, Dependant)
                .join(Dependant, Dependant.id == DependantRegistration.dependant_id)
                .where(DependantRegistration.cooperative_id == cooperative_id,
                       DependantRegistration.registration_id.in_(chunk),
                       DependantRegistration.status == DS.ENROLLED)
                .order_by(Dependant.id)):
            found.setdefault(enrolled.registration_id, []).append((enrolled, dependant))
    return found


def send_dependants(cooperative_id: int, batch_id: int, registration_ids: list[int],
                    only_dependants: list[int] | None = None) -> int:
    """The member's batch is sealed: their enrolled dependants are sent with it
    (`enrolled` → `submitted`, the batch kept to match the answer); `only_dependants`, when
    given, limits it to those dependants (the others' lines were left out). Set-based."""
    rows = []
    for start in range(0, len(registration_ids), 2000):
        chunk = registration_ids[start:start + 2000]
        stmt = select(
            DependantRegistration.id, DependantRegistration.cooperative_id,
            DependantRegistration.status).where(
            DependantRegistration.cooperative_id == cooperative_id,
            DependantRegistration.registration_id.in_(chunk),
            DependantRegistration.status == DS.ENROLLED)
        if only_dependants is not None:
            stmt = stmt.where(DependantRegistration.dependant_id.in_(only_dependants))
        rows += db.session.execute(stmt).all()
    return _move_many(rows, DS.SUBMITTED, {"batch_id": batch_id})


def _submitted_in(cooperative_id: int, batch_id: int, registration_ids: list[int]):
    if not registration_ids:
        return []
    return db.session.execute(select(
        DependantRegistration.id, DependantRegistration.cooperative_id,
        DependantRegistration.status).where(
        DependantRegistration.cooperative_id == cooperative_id,
        DependantRegistration.batch_id == batch_id,
        DependantRegistration.registration_id.in_(registration_ids),
        DependantRegistration.status == DS.SUBMITTED)).all()


def follow_members(cooperative_id: int, batch_id: int, accepted: dict[int, date],
                   rejected: list[int]) -> int:
    """The institution answered for the members of a batch: the dependants sent with them and
    not answered on their own row follow them, set-based: registered from the member's
    coverage start (`accepted`: registration id → that date), or rejected because the
    member was."""
    moved = 0
    by_start: dict[date, list[int]] = {}
    for registration_id, start in accepted.items():
        by_start.setdefault(start, []).append(registration_id)
    for start, ids in by_start.items():
        moved += _move_many(_submitted_in(cooperative_id, batch_id, ids), DS.REGISTERED,
                            {"coverage_start": start})
    moved += _move_many(_submitted_in(cooperative_id, batch_id, rejected), DS.REJECTED,
                        {"rejection_reason": _("The member's registration was rejected.")})
    return moved


def end_with_members(cooperative_id: int, registration_ids: list[int]) -> int:
    """The members' registrations ended (terminated, e.g. the exit was sent): their
    dependants' registrations end with them, set-based."""
    rows = []
    for start in range(0, len(registration_ids), 2000):
        rows += db.session.execute(select(
            DependantRegistration.id, DependantRegistration.cooperative_id,
            DependantRegistration.status).where(
            DependantRegistration.cooperative_id == cooperative_id,
            DependantRegistration.registration_id.in_(registration_ids[start:start + 2000]),
            DependantRegistration.status != DS.TERMINATED)).all()
    return _move_many(rows, DS.TERMINATED, {})


def submitted_by_id(cooperative_id: int, batch_id: int) -> dict[str, DependantRegistration]:
    """The dependants a batch sent and still waiting, by their ID number (compact, upper
    case): what an answer row for a dependant is matched with."""
    found = {}
    for enrolled, id_number in db.session.execute(
            select(DependantRegistration, Dependant.id_number)
            .join(Dependant, Dependant.id == DependantRegistration.dependant_id)
            .where(DependantRegistration.cooperative_id == cooperative_id,
                   DependantRegistration.batch_id == batch_id,
                   DependantRegistration.status == DS.SUBMITTED,
                   Dependant.id_number.is_not(None))):
        found[id_key(id_number)] = enrolled
    return found


def id_key(text: str | None) -> str:
    """An ID as answers are matched on: letters and digits only, upper case."""
    return "".join(ch for ch in (text or "") if ch.isascii() and ch.isalnum()).upper().lstrip("0")


# ---- what the member and registration pages show -------------------------------------------

def dependants_cover(cooperative_id: int, registration_ids: list[int]
                     ) -> dict[int, list[tuple[DependantRegistration, Dependant]]]:
    """Every dependant's registration under these registrations, by registration id."""
    found: dict[int, list] = {}
    if not registration_ids:
        return found
    for enrolled, dependant in db.session.execute(
            select(DependantRegistration, Dependant)
            .join(Dependant, Dependant.id == DependantRegistration.dependant_id)
            .where(DependantRegistration.cooperative_id == cooperative_id,
                   DependantRegistration.registration_id.in_(registration_ids))
            .order_by(Dependant.id)):
        found.setdefault(enrolled.registration_id, []).append((enrolled, dependant))
    return found


def surcharges_by_relation(agreement: Agreement) -> dict[DependantRelation, int]:
    """Per relation, what a covered dependant costs the member each period under the agreement
    (the highest surcharge of its schemes' family rules); relations with no surcharge are
    left out, so an agreement whose families are free gives {}."""
    found: dict[DependantRelation, int] = {}
    for rule in family_rules(agreement.cooperative_id, scheme_ids_of(agreement)):
        if rule.surcharge_minor:
            found[rule.relation] = max(found.get(rule.relation, 0), rule.surcharge_minor)
    return found


def surcharge_minor_for(agreement: Agreement, member: Member, month: date,
                        surcharges: dict[DependantRelation, int] | None = None) -> int:
    """What the member's covered dependants add to the member's share of the due of `month`
    under the agreement: each dependant registered with the member's registration, covered
    by the month's end (or with no start date), costs its relation's surcharge. Dues
    generation computes the same in SQL (`contributions.services._surcharge_sql`)."""
    surcharges = surcharges_by_relation(agreement) if surcharges is None else surcharges
    if not surcharges:
        return 0
    last = date(month.year + month.month // 12, month.month % 12 + 1, 1).toordinal() - 1
    relations = db.session.scalars(
        select(Dependant.relation)
        .join(DependantRegistration, DependantRegistration.dependant_id == Dependant.id)
        .join(Registration, Registration.id == DependantRegistration.registration_id)
        .where(DependantRegistration.cooperative_id == agreement.cooperative_id,
               Registration.cooperative_id == agreement.cooperative_id,
               Dependant.cooperative_id == agreement.cooperative_id,
               Registration.agreement_id == agreement.id,
               Registration.member_id == member.id,
               DependantRegistration.status == DependantStatus.REGISTERED,
               (DependantRegistration.coverage_start.is_(None))
               | (DependantRegistration.coverage_start <= date.fromordinal(last))))
    return sum(surcharges.get(relation, 0) for relation in relations)


def scheme_ids_of(agreement: Agreement) -> list[int]:
    return list(db.session.scalars(select(AgreementScheme.scheme_id).where(
        AgreementScheme.cooperative_id == agreement.cooperative_id,
        AgreementScheme.agreement_id == agreement.id)))


# ---- covered outside the cooperative --------------------------------------------------------

def record_outside_coverage(member: Member, source: str, branches: Iterable[str],
                            note: str | None = None, declared_on: date | None = None
                            ) -> list[OutsideCoverage]:
    """Record that a member is covered outside the cooperative for some branches (through an
    employer, a spouse, the state or another scheme), as they declared it on a day. A branch
    already recorded takes the new source (audited)."""
    source_value = choice(OutsideSource, source, "source", _("Covered through"))
    chosen = []
    for value in branches or ():
        chosen.append(choice(Branch, value, "branches", _("Branches")))
    if not chosen:
        raise DomainError(_("Tick at least one branch."), field="branches")
    note = (note or "").strip() or None
    if note and len(note) > 200:
        raise DomainError(_("The note is too long (at most 200 characters)."), field="note")
    declared_on = declared_on or date.today()
    held = {row.branch: row for row in db.session.scalars(select(OutsideCoverage).where(
        OutsideCoverage.cooperative_id == member.cooperative_id,
        OutsideCoverage.member_id == member.id))}
    rows = []
    for branch in dict.fromkeys(chosen):
        row = held.get(branch)
        if row is None:
            row = OutsideCoverage(cooperative_id=member.cooperative_id, member_id=member.id,
                                  branch=branch)
            db.session.add(row)
        row.source = source_value
        row.note = note
        row.declared_on = declared_on
        rows.append(row)
    db.session.flush()
    return rows


def remove_outside_coverage(row: OutsideCoverage) -> None:
    """The member is no longer covered there (the audit log keeps what was declared)."""
    db.session.delete(row)
    db.session.flush()


def outside_coverages(member: Member) -> list[OutsideCoverage]:
    order = list(Branch)
    rows = list(db.session.scalars(select(OutsideCoverage).where(
        OutsideCoverage.cooperative_id == member.cooperative_id,
        OutsideCoverage.member_id == member.id)))
    return sorted(rows, key=lambda r: order.index(r.branch))


@dependant_removing.connect
def _refuse_removing_an_enrolled_dependant(dependant: Dependant, **_kwargs) -> None:
    """A dependant enrolled with a registration keeps their record: end the enrolment
    (terminated) and it stays in the history; removing them would lose it."""
    held = db.session.scalar(select(DependantRegistration.id).where(
        DependantRegistration.cooperative_id == dependant.cooperative_id,
        DependantRegistration.dependant_id == dependant.id).limit(1))
    if held is not None:
        raise DomainError(_("%(name)s is enrolled with a registration: the record stays "
                            "(end the enrolment on the registration's page instead).",
                            name=dependant.name))
